"""Trains an EAGLE-3 head for verispec's embedded target and exports it in llama.cpp's eagle3 layout.

  python3 tools/train/eagle3.py OUT_DIR [--wide | --quick | --cpu] [--compare HEAD.gguf] [--init HEAD.gguf]
      no preset: the shipped head's run (GPU); --wide: a 4096-wide FFN on more sampled text (GPU);
      --quick: a smoke run (minutes on a CPU core); --cpu: the most a CPU core trains in about 20 minutes;
      --compare: also evaluate an exported head on the same held-out sets (report.json "compared");
      --init: go on training an exported head (its FFN width), at half the learning rate, scheduled by time

Steps (functions below, run in order by `main`):
  1. target   - models/verispec-target.gguf, dequantized, run in PyTorch (eagle3_target.py).
  2. prompts  - snippets of the .py files of site-packages, split as train.py splits them
                (crc32(relative path) % 100 == 0 is held out).
  3. data     - the target continues each prompt, in turn at each of the preset's temperatures (0 and 0.8;
                --wide adds 1: sampled text is where a head has most to learn). Its hidden
                states (inputs of layers LAYERS) and next-token distributions are recomputed from
                these tokens at every training step, which is cheap for a 28 M model and exact.
  4. train    - training-time test as in EAGLE-3: TTT unrolled steps; step 0 reads the fused
                target states, every later step reads the head's own previous hidden state and
                attends to the target-fed positions before it plus its own earlier steps, exactly
                as llama.cpp's draft loop does (docs/eagle3.md). Loss: cross-entropy against the
                target's distribution, step j weighted DECAY**j.
  5. evaluate - on held-out greedy continuations: top-1 agreement with the target per draft
                position, and the chained acceptance a greedy verifier would see; on held-out
                continuations sampled at T = 0.8: the rejection rule's acceptance chance per position.
  6. export   - eagle3 GGUF via eagle3_gguf.py, plus report.json.
Seeded; every phase has a time cap, and training stops so that the whole run ends within
total_seconds (the GPU machine's 10-minute command limit); GPU when available, else CPU.
"""
import contextlib, json, math, os, random, site, sys, sysconfig, time, zlib
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eagle3_gguf import NAMES, gguf, write_head  # noqa: E402
from eagle3_target import Target  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TARGET_GGUF = ROOT / "models" / "verispec-target.gguf"
SEED = 1234
LAYERS = [2, 4, 7]  # inputs of target layers 2, 4, 7: low, middle, and the deepest llama.cpp exposes
HEAD_FFN, DECAY, TEMPS = 1280, 0.8, (0.0, 0.8)  # the shipped head's FFN width and data temperatures
SAMPLED_EVAL_T = 0.8  # the held-out sampled set: its temperature, and the rejection rule's acceptance is measured at it
# The shipped head's run (models/verispec-eagle3.gguf): learning rate by steps, cut by the time cap at 2,407 of them.
FULL = dict(prompts=24576, heldout=256, prompt_len=64, gen_len=192, gen_batch=1024, gen_seconds=100, steps=3000, batch=64,
            ttt=7, lr=6e-4, train_seconds=270, total_seconds=560, ffn=HEAD_FFN, temps=TEMPS, schedule="steps")
# A wider head (9.7 MB at Q8_0) on more sampled text, its learning rate by time so that it ends within the cap.
WIDE = dict(FULL, prompts=36864, steps=20000, batch=128, train_seconds=400, total_seconds=500, ffn=4096,
            temps=(0.0, 0.8, 1.0), schedule="time")
CPU = dict(prompts=1536, heldout=32, prompt_len=48, gen_len=64, gen_batch=128, gen_seconds=300, steps=2000, batch=8,
           ttt=4, lr=8e-4, train_seconds=840, total_seconds=1500, ffn=HEAD_FFN, temps=TEMPS, schedule="time")
QUICK = dict(CPU, prompts=48, heldout=8, prompt_len=32, gen_len=32, gen_batch=24, steps=300, batch=4, ttt=3, lr=1e-3,
             train_seconds=780, total_seconds=1200)
PRESETS = dict(full=FULL, wide=WIDE, cpu=CPU, quick=QUICK)
STARTED = time.time()


def log(*a):
    print(f"[{time.strftime('%H:%M:%S')}]", *a, flush=True)


def corpus_files():
    roots = sorted({sysconfig.get_paths()[k] for k in ("purelib", "platlib")})
    files = [(r, p) for r in roots for p in sorted(Path(r).rglob("*.py"))]
    if len(files) < 100:  # Debian's system Python keeps its packages in dist-packages
        roots = sorted(set(site.getsitepackages()) - set(roots))
        files += [(r, p) for r in roots for p in sorted(Path(r).rglob("*.py"))]
    train, held = [], []
    for root, p in files:
        (held if zlib.crc32(str(p.relative_to(root)).encode()) % 100 == 0 else train).append(p)
    return train, held


def prompts(files, count, length, tok, bos, rng):
    """`count` prompts of `length` tokens: BOS, then text from a random line of a random file."""
    out = []
    while len(out) < count:
        try:
            text = rng.choice(files).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        lines = text.splitlines(keepends=True)
        if len(lines) < 4:
            continue
        start = rng.randrange(len(lines))
        ids = tok.encode("".join(lines[start:start + 4 * length])[: 8 * length])
        if len(ids) >= length - 1:
            out.append([bos] + ids[: length - 1])
    return torch.tensor(out)


def generate(target, prompt_ids, cfg, temps, seconds):
    """The target's own continuations, chunk by chunk, cycling through `temps`, within `seconds`."""
    gen = torch.Generator(device=target.device).manual_seed(SEED)
    start, chunks = time.time(), []
    for n, i in enumerate(range(0, len(prompt_ids), cfg["gen_batch"])):
        if time.time() - start > seconds:
            log(f"generation stopped by its time cap after {i} sequences")
            break
        p = prompt_ids[i:i + cfg["gen_batch"]].to(target.device)
        chunks.append(target.generate(p, cfg["gen_len"], temps[n % len(temps)], gen).cpu())
    log(f"generated {sum(len(c) for c in chunks)} sequences in {time.time() - start:.0f} s")
    return torch.cat(chunks)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight, self.eps = nn.Parameter(torch.ones(dim)), eps

    def forward(self, x):
        return x * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + self.eps).to(x.dtype) * self.weight


class Head(nn.Module):
    """llama.cpp's eagle3 decoder (src/models/eagle3.cpp), parameter names as eagle3_gguf.NAMES."""

    def __init__(self, target, ffn):
        super().__init__()
        d, eps = target.dim, target.eps
        self.heads, self.target = target.heads, target
        self.fc = nn.Linear(len(LAYERS) * d, d, bias=False)
        self.embed_norm, self.hidden_norm, self.ffn_norm, self.out_norm = (RMSNorm(d, eps) for _ in range(4))
        self.q, self.k, self.v = (nn.Linear(2 * d, d, bias=False) for _ in range(3))
        self.o = nn.Linear(d, d, bias=False)
        self.gate, self.up, self.down = nn.Linear(d, ffn, bias=False), nn.Linear(d, ffn, bias=False), nn.Linear(ffn, d, bias=False)

    def qkv(self, tokens, g, pos):
        B, L = tokens.shape
        x = torch.cat([self.embed_norm(self.target.embed[tokens]), self.hidden_norm(g)], -1)
        q, k, v = (m(x).view(B, L, self.heads, -1).transpose(1, 2) for m in (self.q, self.k, self.v))
        return self.target.rope(q, pos), self.target.rope(k, pos), v

    def finish(self, attn, g):
        B, H, L, dh = attn.shape
        h = self.o(attn.transpose(1, 2).reshape(B, L, H * dh)) + g  # residual on the raw g
        h = h + self.down(F.silu(self.gate(self.ffn_norm(h))) * self.up(self.ffn_norm(h)))
        return h, F.linear(self.out_norm(h), self.target.embed)  # (pre-norm state, logits)

    def unroll(self, x, feats, steps):
        """Training-time test over all origins t = 0..T-2 at once. Step j at origin t sits at
        position t+j, reads token x[t+1+j] and (j = 0) fc(target states at t) or (j > 0) its own
        step-(j-1) state; it attends to step-0 keys at positions <= t and to its own steps 1..j."""
        B, T = x.shape
        L = T - 1
        pad = torch.zeros(B, steps, dtype=x.dtype, device=x.device)
        xs = torch.cat([x, pad], 1)
        pos = torch.arange(L, device=x.device)
        g = self.fc(feats[:, :L])
        causal = torch.ones(L, L, dtype=torch.bool, device=x.device).triu(1)
        own, logits = [], []
        for j in range(steps):
            q, k, v = self.qkv(xs[:, 1 + j:1 + j + L], g, pos + j)
            if j == 0:
                k0, v0 = k, v
            else:
                own.append((k, v))
            s = [(q @ k0.transpose(-1, -2)).masked_fill(causal, float("-inf"))]
            s += [(q * ki).sum(-1, keepdim=True) for ki, _ in own]  # same origin, earlier steps and itself
            # float32 scores: under CUDA autocast the matmul is bf16 while the diagonal products are not
            p = torch.softmax(torch.cat([x.float() for x in s], -1) / math.sqrt(q.shape[-1]), -1).to(v0.dtype)
            attn = p[..., :L] @ v0 + sum(p[..., L + i:L + i + 1] * vi for i, (_, vi) in enumerate(own))
            g, lg = self.finish(attn, g)
            logits.append(lg)
        return logits


def step_losses(head, target, x, steps):
    """Per draft step: (soft cross-entropy, top-1 agreement, valid-position mask, match) against the target."""
    with torch.no_grad():
        t_logits, states = target.forward(x, keep=LAYERS)
        feats = torch.cat([states[i] for i in LAYERS], -1)
    # bf16 on the GPU; plain float32 on CPU (PyTorch 1.13's CPU autocast is not worth it here).
    with torch.autocast("cuda", dtype=torch.bfloat16) if x.is_cuda else contextlib.nullcontext():
        logits = head.unroll(x, feats, steps)
    T, out = x.shape[1], []
    for j, lg in enumerate(logits):
        n = T - 1 - j  # origins whose step-j target (position t+1+j) exists
        p = torch.softmax(t_logits[:, 1 + j:1 + j + n].float(), -1)
        lq = F.log_softmax(lg[:, :n].float(), -1)
        ce = -(p * lq).sum(-1)
        match = (lq.argmax(-1) == p.argmax(-1)).float()
        out.append((ce.mean(), match.mean(), match))
    return out


def lr_at(progress, peak, warm=0.02):
    """Warm-up, then cosine to a tenth of the peak; `progress` runs 0..1 by steps or by time, whichever is further."""
    if progress < warm:
        return peak * max(progress, 1e-3) / warm
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, (progress - warm) / (1 - warm)))))


def train(head, target, data, cfg, seconds):
    """Trains for `steps` or `seconds`, whichever ends first; the learning rate follows the nearer end."""
    opt = torch.optim.AdamW(head.parameters(), lr=cfg["lr"], betas=(0.9, 0.95), weight_decay=0.01)
    gen = torch.Generator().manual_seed(SEED + 1)
    start, step = time.time(), 0
    while step < cfg["steps"] and time.time() - start < seconds:
        x = data[torch.randint(0, len(data), (cfg["batch"],), generator=gen)].to(target.device)
        by_steps = step / cfg["steps"]
        progress = by_steps if cfg["schedule"] == "steps" else max(by_steps, (time.time() - start) / seconds)
        for g in opt.param_groups:
            g["lr"] = lr_at(progress, cfg["lr"], 50 / cfg["steps"] if cfg["schedule"] == "steps" else 0.02)
        losses = step_losses(head, target, x, cfg["ttt"])
        loss = sum(DECAY ** j * ce for j, (ce, _, _) in enumerate(losses))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(head.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 50 == 0 or step == 1:
            acc = " ".join(f"{a.item():.2f}" for _, a, _ in losses)
            log(f"step {step} loss {loss.item():.3f} top-1 per step {acc} ({time.time() - start:.0f} s)")
    return dict(steps=step, seconds=round(time.time() - start, 1), last_loss=round(loss.item(), 4))


@torch.no_grad()
def evaluate(head, target, held, cfg):
    """Origins whose whole draft chain lies in the greedy continuation, so that the tokens the head
    reads are exactly the ones a greedy target accepts. Returns per-position top-1 agreement and
    chained acceptance (share of blocks whose first j+1 drafts all match)."""
    K, P = cfg["ttt"], cfg["prompt_len"]
    agree, chain = torch.zeros(K), torch.zeros(K)
    n = 0
    for i in range(0, len(held), 16):
        x = held[i:i + 16].to(target.device)
        res = step_losses(head, target, x, K)
        T = x.shape[1]
        lo, hi = P - 1, T - 1 - (K - 1)  # origin t: x[t+1] generated, t+K <= T-1
        m = torch.stack([r[2][:, lo:hi] for r in res])  # [K, B, origins]
        agree += m.mean((1, 2)).cpu() * m[0].numel()
        chain += m.cumprod(0).mean((1, 2)).cpu() * m[0].numel()
        n += m[0].numel()
    agree, chain = (agree / n).tolist(), (chain / n).tolist()
    return dict(top1_per_position=[round(a, 4) for a in agree], chained_acceptance=[round(c, 4) for c in chain],
                mean_accepted_per_block=round(1 + sum(chain), 3), origins=n)


@torch.no_grad()
def sampled_acceptance(head, target, held, cfg, temperature):
    """On held-out continuations sampled at `temperature`: per draft position, the chance the rejection rule
    accepts the head's draft (sum over tokens of min(p, q), both at that temperature) and top-1 agreement,
    teacher-forced on the target's tokens, over origins whose draft chain lies in the continuation."""
    K, P = cfg["ttt"], cfg["prompt_len"]
    accept, agree, n = torch.zeros(K), torch.zeros(K), 0
    for i in range(0, len(held), 16):
        x = held[i:i + 16].to(target.device)
        t_logits, states = target.forward(x, keep=LAYERS)
        logits = head.unroll(x, torch.cat([states[l] for l in LAYERS], -1), K)
        T = x.shape[1]
        lo, hi = P - 1, T - 1 - (K - 1)
        for j, lg in enumerate(logits):
            p = torch.softmax(t_logits[:, lo + 1 + j:hi + 1 + j].float() / temperature, -1)
            q = torch.softmax(lg[:, lo:hi].float() / temperature, -1)
            accept[j] += torch.minimum(p, q).sum(-1).sum().cpu()
            agree[j] += (p.argmax(-1) == q.argmax(-1)).float().sum().cpu()
        n += x.shape[0] * (hi - lo)
    return dict(temperature=temperature, rejection_acceptance_per_position=[round(a, 4) for a in (accept / n).tolist()],
                top1_per_position=[round(a, 4) for a in (agree / n).tolist()], origins=n)


def load_head(path, target):
    """An exported head GGUF back as a Head (Q8_0 matrices dequantized), its FFN width read from the file."""
    reader = gguf.GGUFReader(str(path))
    back = {v: k for k, v in NAMES.items()}
    state = {back[t.name]: Target._tensor(t, target.device) for t in reader.tensors}
    head = Head(target, state["gate.weight"].shape[0]).to(target.device)
    head.load_state_dict(state)
    return head


def main(out_dir, preset, compare=None, init=None):
    cfg = dict(PRESETS[preset])
    for key in ("total_seconds", "gen_seconds"):  # a shorter run where the call shares its time (e.g. with a build)
        if os.environ.get(f"EAGLE3_{key.upper()}"):
            cfg[key] = int(os.environ[f"EAGLE3_{key.upper()}"])
    quick = preset not in ("full", "wide")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
    target = Target(str(TARGET_GGUF), device)
    train_files, held_files = corpus_files()
    log(f"device {device}; corpus {len(train_files)} training files, {len(held_files)} held-out files")
    tr_prompts = prompts(train_files, cfg["prompts"], cfg["prompt_len"], target.tok, target.bos, rng)
    he_prompts = prompts(held_files, cfg["heldout"], cfg["prompt_len"], target.tok, target.bos, rng)
    data = generate(target, tr_prompts, cfg, cfg["temps"], cfg["gen_seconds"])
    held = generate(target, he_prompts, cfg, (0.0,), cfg["gen_seconds"])
    held_sampled = generate(target, he_prompts, cfg, (SAMPLED_EVAL_T,), cfg["gen_seconds"])
    if init:  # training goes on from an exported head, at half the learning rate, by time
        head = load_head(init, target)
        cfg.update(ffn=head.gate.weight.shape[0], lr=cfg["lr"] / 2, schedule="time", init=str(init))
    else:
        head = Head(target, cfg["ffn"]).to(device)
    before = evaluate(head, target, held, cfg)
    log(f"untrained head: {before}")
    # what is left of the run's time cap, less a margin for evaluation and export
    seconds = min(cfg["train_seconds"], cfg["total_seconds"] - (time.time() - STARTED) - 40)
    stats = train(head, target, data, cfg, seconds)
    after = evaluate(head, target, held, cfg)
    log(f"trained head: {after}")
    sampled = sampled_acceptance(head, target, held_sampled, cfg, SAMPLED_EVAL_T)
    log(f"trained head on sampled text: {sampled}")
    compared = None
    if compare:  # an earlier head on the same held-out sets, so that the two can be chosen between
        old = load_head(compare, target)
        compared = dict(path=str(compare), heldout=evaluate(old, target, held, cfg), heldout_sampled=sampled_acceptance(old, target, held_sampled, cfg, SAMPLED_EVAL_T))
        log(f"compared head {compare}: {compared}")
    gguf_path = out / "verispec-eagle3.gguf"
    write_head(gguf_path, head.state_dict(), str(TARGET_GGUF), LAYERS, cfg["ffn"], target.heads)
    report = dict(seed=SEED, preset=preset, quick=quick, config=cfg, target_layers=LAYERS, head_ffn=cfg["ffn"], ttt_decay=DECAY,
                  temperatures=cfg["temps"], sequences=len(data), heldout_sequences=len(held), train=stats,
                  heldout_untrained=before, heldout=after, heldout_sampled=sampled, compared=compared, parameters=sum(p.numel() for p in head.parameters()),
                  gguf_bytes=gguf_path.stat().st_size, torch=torch.__version__, device=device,
                  gpu=torch.cuda.get_device_name() if device == "cuda" else None)
    (out / "report.json").write_text(json.dumps(report, indent=1))
    log(json.dumps(report))


if __name__ == "__main__":
    flags = sys.argv[2:]
    value = lambda flag: flags[flags.index(flag) + 1] if flag in flags else None  # noqa: E731
    preset = next((name for name in ("quick", "cpu", "wide") if f"--{name}" in flags), "full")
    main(sys.argv[1], preset, value("--compare"), value("--init"))
