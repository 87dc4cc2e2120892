"""Trains verispec's embedded model pair on the GPU machine, in one run.

Steps (each a function below, run in order by `main`):
  1. corpus    - every .py file under the Python installation's site-packages, sorted by path;
                 a file goes to the held-out split when crc32(relative path) % 100 == 0;
                 training text is read in path order up to CORPUS_BYTES.
  2. tokenizer - byte-level BPE (GPT-2 pre-tokenization), 8192 tokens, <|endoftext|> = id 0.
  3. target    - llama architecture (RMSNorm, adjacent-pair rotary, SwiGLU, tied embeddings).
  4. drafter   - a much smaller llama model distilled from the target (KL(p_target || q_draft)).
  5. export    - bf16 safetensors with GGUF tensor names, the tokenizer, held-out snippets with
                 their token ids (for the parity test), and report.json.
Everything is seeded; the output folder is the first argument.
"""
import json, math, os, random, sys, sysconfig, time, zlib
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

SEED = 1234
CORPUS_BYTES = 200_000_000
TOKENIZER_BYTES = 40_000_000
VOCAB = 8192
SEQ = 512
TARGET = dict(dim=512, layers=8, heads=8, ffn=1280)
DRAFT = dict(dim=192, layers=4, heads=6, ffn=512)
TARGET_STEPS, TARGET_BATCH, TARGET_LR = 2000, 192, 1.2e-3
DRAFT_STEPS, DRAFT_BATCH, DRAFT_LR = 1600, 192, 2e-3
TARGET_SECONDS, DRAFT_SECONDS = 250, 110  # hard caps; the steps actually run are reported
ROPE_BASE, RMS_EPS = 10000.0, 1e-5
EOT = "<|endoftext|>"


def log(*a):
    print(f"[{time.strftime('%H:%M:%S')}]", *a, flush=True)


def corpus_files():
    roots = sorted({sysconfig.get_paths()[k] for k in ("purelib", "platlib")})
    files = []
    for root in roots:
        for p in sorted(Path(root).rglob("*.py")):
            if p.is_file():
                files.append((root, p))
    return files


def read_corpus():
    train, held = [], []
    total = 0
    for root, p in corpus_files():
        rel = str(p.relative_to(root))
        try:
            text = p.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if not text.strip():
            continue
        if zlib.crc32(rel.encode()) % 100 == 0:
            held.append(text)
        elif total < CORPUS_BYTES:
            train.append(text)
            total += len(text)
    log(f"corpus: {len(train)} training files ({total/1e6:.0f} MB), {len(held)} held-out files")
    return train, held


def train_tokenizer(train):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=[EOT], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    sample, size = [], 0
    for t in train:
        if size >= TOKENIZER_BYTES:
            break
        sample.append(t)
        size += len(t)
    tok.train_from_iterator(sample, trainer=trainer)
    assert tok.get_vocab_size() == VOCAB and tok.token_to_id(EOT) == 0
    return tok


def encode(tok, texts):
    ids = []
    for enc in tok.encode_batch(texts):
        ids.append(0)
        ids.extend(enc.ids)
    return torch.tensor(ids, dtype=torch.int16 if VOCAB < 32768 else torch.int32)


class RMSNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + RMS_EPS).to(x.dtype) * self.weight


def rotary(x, cos, sin):
    # Adjacent pairs (x[2i], x[2i+1]) rotate together: llama.cpp's "normal" rope for the llama architecture.
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, dim, heads, ffn):
        super().__init__()
        self.heads = heads
        self.attn_norm, self.ffn_norm = RMSNorm(dim), RMSNorm(dim)
        self.q, self.k, self.v, self.o = (nn.Linear(dim, dim, bias=False) for _ in range(4))
        self.gate, self.up = nn.Linear(dim, ffn, bias=False), nn.Linear(dim, ffn, bias=False)
        self.down = nn.Linear(ffn, dim, bias=False)

    def forward(self, x, cos, sin):
        B, T, D = x.shape
        h = self.attn_norm(x)
        q, k, v = (m(h).view(B, T, self.heads, D // self.heads).transpose(1, 2) for m in (self.q, self.k, self.v))
        q, k = rotary(q, cos, sin), rotary(k, cos, sin)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, D)
        x = x + self.o(a)
        h = self.ffn_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Llama(nn.Module):
    def __init__(self, dim, layers, heads, ffn):
        super().__init__()
        self.cfg = dict(dim=dim, layers=layers, heads=heads, ffn=ffn)
        self.embed = nn.Embedding(VOCAB, dim)
        self.blocks = nn.ModuleList(Block(dim, heads, ffn) for _ in range(layers))
        self.norm = RMSNorm(dim)
        hd = dim // heads
        inv = ROPE_BASE ** (-torch.arange(0, hd, 2).float() / hd)
        ang = torch.arange(SEQ).float()[:, None] * inv[None, :]
        self.register_buffer("cos", ang.cos(), persistent=False)
        self.register_buffer("sin", ang.sin(), persistent=False)
        for n, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * layers) if n.endswith(("o.weight", "down.weight")) else 0.02
                nn.init.normal_(p, std=std)

    def forward(self, idx):
        T = idx.shape[1]
        x = self.embed(idx)
        for b in self.blocks:
            x = b(x, self.cos[:T], self.sin[:T])
        return F.linear(self.norm(x), self.embed.weight)

    def gguf_tensors(self):
        out = {"token_embd.weight": self.embed.weight, "output_norm.weight": self.norm.weight}
        names = dict(attn_norm="attn_norm", ffn_norm="ffn_norm", q="attn_q", k="attn_k", v="attn_v", o="attn_output", gate="ffn_gate", up="ffn_up", down="ffn_down")
        for i, b in enumerate(self.blocks):
            for attr, g in names.items():
                out[f"blk.{i}.{g}.weight"] = getattr(b, attr).weight
        return {k: v.detach().to(torch.bfloat16).contiguous().cpu() for k, v in out.items()}


def batches(data, batch, gen):
    n = len(data) - SEQ - 1
    while True:
        starts = torch.randint(0, n, (batch,), generator=gen)
        x = torch.stack([data[s : s + SEQ + 1] for s in starts.tolist()]).long().cuda(non_blocking=True)
        yield x[:, :-1], x[:, 1:]


def lr_at(step, steps, peak):
    warm = 100
    if step < warm:
        return peak * (step + 1) / warm
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, steps - warm))))


def train(model, data, steps, batch, peak, seconds, teacher=None):
    opt = torch.optim.AdamW(model.parameters(), lr=peak, betas=(0.9, 0.95), weight_decay=0.1, fused=True)
    gen = torch.Generator().manual_seed(SEED + (7 if teacher else 0))
    it = batches(data, batch, gen)
    start, step, loss = time.time(), 0, float("nan")
    while step < steps and time.time() - start < seconds:
        x, y = next(it)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps, peak)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = model(x)
            if teacher is None:
                l = F.cross_entropy(logits.float().view(-1, VOCAB), y.reshape(-1))
            else:
                with torch.no_grad():
                    p = F.log_softmax(teacher(x).float(), -1)
                l = F.kl_div(F.log_softmax(logits.float(), -1), p, log_target=True, reduction="batchmean") / SEQ
        opt.zero_grad(set_to_none=True)
        l.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 100 == 0:
            loss = l.item()
            log(f"step {step} loss {loss:.3f} {step * batch * SEQ / (time.time() - start) / 1e6:.2f} Mtok/s")
    return dict(steps=step, tokens_seen=step * batch * SEQ, seconds=round(time.time() - start, 1), last_loss=loss)


@torch.no_grad()
def heldout_loss(model, data, n=64):
    gen = torch.Generator().manual_seed(SEED + 99)
    x, y = next(batches(data, n, gen))
    with torch.autocast("cuda", dtype=torch.bfloat16):
        return F.cross_entropy(model(x).float().view(-1, VOCAB), y.reshape(-1)).item()


def snippets(held, count=1000):
    rng = random.Random(SEED)
    out = []
    while len(out) < count:
        t = held[rng.randrange(len(held))]
        if len(t) < 50:
            continue
        s = rng.randrange(0, max(1, len(t) - 400))
        out.append(t[s : s + rng.randrange(40, 400)])
    return out


def main(out_dir):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(SEED)
    random.seed(SEED)
    torch.backends.cuda.matmul.allow_tf32 = True
    train_texts, held = read_corpus()
    tok = train_tokenizer(train_texts)
    tok.save(str(out / "tokenizer.json"))
    log("tokenizer trained")
    data = encode(tok, train_texts)
    held_data = encode(tok, held)
    log(f"tokens: train {len(data)/1e6:.1f}M, held-out {len(held_data)/1e6:.1f}M")
    target = Llama(**TARGET).cuda()
    t_stats = train(target, data, TARGET_STEPS, TARGET_BATCH, TARGET_LR, TARGET_SECONDS)
    target.eval()
    draft = Llama(**DRAFT).cuda()
    d_stats = train(draft, data, DRAFT_STEPS, DRAFT_BATCH, DRAFT_LR, DRAFT_SECONDS, teacher=target)
    draft.eval()
    report = dict(
        seed=SEED, corpus_bytes=CORPUS_BYTES, train_tokens=len(data), heldout_tokens=len(held_data), heldout_files=len(held),
        vocab=VOCAB, seq=SEQ,
        target=dict(config=target.cfg, parameters=sum(p.numel() for p in target.parameters()), heldout_loss=heldout_loss(target, held_data), **t_stats, lr=TARGET_LR, batch=TARGET_BATCH),
        draft=dict(config=draft.cfg, parameters=sum(p.numel() for p in draft.parameters()), heldout_loss=heldout_loss(draft, held_data), **d_stats, lr=DRAFT_LR, batch=DRAFT_BATCH, distilled_from="target"),
        torch=torch.__version__, gpu=torch.cuda.get_device_name(),
    )
    log(json.dumps(report, indent=1))
    (out / "report.json").write_text(json.dumps(report, indent=1))
    save_file(target.gguf_tensors(), str(out / "target.safetensors"))
    save_file(draft.gguf_tensors(), str(out / "draft.safetensors"))
    with open(out / "heldout.jsonl", "w") as f:
        for s in snippets(held):
            f.write(json.dumps(dict(text=s, ids=tok.encode(s).ids)) + "\n")
    log("done")


if __name__ == "__main__":
    main(sys.argv[1])
