"""verispec's target model, read from its GGUF, in plain PyTorch (1.13 and 2.x): weights, tokenizer,
forward pass with the hidden states an EAGLE-3 head reads, and batched generation with a KV cache.

The forward pass mirrors tools/train/train.py (RMSNorm, adjacent-pair rotary, SwiGLU, tied
embeddings) and llama.cpp's llama graph; Q8_0 tensors are dequantized exactly (scale * int8), so
the weights are bit-identical to what llama.cpp multiplies with.
"""
import math
import re
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "native" / ".llama-src" / "gguf-py"))
import gguf  # noqa: E402


class Target:
    def __init__(self, path, device):
        r = gguf.GGUFReader(path)
        f = {k: v.contents() for k, v in r.fields.items() if not k.startswith("tokenizer.ggml.merges")}
        self.dim, self.layers = int(f["llama.embedding_length"]), int(f["llama.block_count"])
        self.heads, self.eps = int(f["llama.attention.head_count"]), float(f["llama.attention.layer_norm_rms_epsilon"])
        self.rope_base = float(f["llama.rope.freq_base"])
        self.w = {t.name: self._tensor(t, device) for t in r.tensors}
        self.tok = Tokenizer(f["tokenizer.ggml.tokens"], r.fields["tokenizer.ggml.merges"].contents())
        self.bos = int(f["tokenizer.ggml.bos_token_id"])
        self.embed = self.w["token_embd.weight"]  # [vocab, dim]; also the output matrix (tied)
        self.device = device

    @staticmethod
    def _tensor(t, device):
        data = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        shape = [int(x) for x in reversed(t.shape.tolist())]  # ggml ne0 is the last numpy axis
        return torch.from_numpy(data.reshape(shape).copy()).to(device)

    def norm(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * w

    def rope(self, x, pos):
        # x: [B, H, T, d]; pos: [T]. Adjacent pairs (x[2i], x[2i+1]) rotate together (llama.cpp NORM rope).
        d = x.shape[-1]
        inv = self.rope_base ** (-torch.arange(0, d, 2, device=x.device).float() / d)
        ang = pos.float()[:, None] * inv[None, :]
        cos, sin = ang.cos(), ang.sin()
        x1, x2 = x[..., 0::2], x[..., 1::2]
        return torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1).flatten(-2)

    def forward(self, idx, keep=(), cache=None, pos0=0):
        """Returns (logits [B,T,V], {layer: input of that layer [B,T,dim]}). With `cache` (a list
        that this call extends), idx holds only the new tokens, starting at position pos0."""
        B, T = idx.shape
        x = self.embed[idx]
        pos = torch.arange(pos0, pos0 + T, device=idx.device)
        states = {}
        for i in range(self.layers):
            if i in keep:
                states[i] = x
            p = f"blk.{i}."
            h = self.norm(x, self.w[p + "attn_norm.weight"])
            q, k, v = (F.linear(h, self.w[p + n]).view(B, T, self.heads, -1).transpose(1, 2) for n in ("attn_q.weight", "attn_k.weight", "attn_v.weight"))
            q, k = self.rope(q, pos), self.rope(k, pos)
            if cache is not None:
                if len(cache) > i:
                    k, v = torch.cat([cache[i][0], k], 2), torch.cat([cache[i][1], v], 2)
                    cache[i] = (k, v)
                else:
                    cache.append((k, v))
            a = causal_attention(q, k, v, pos0)
            x = x + F.linear(a.transpose(1, 2).reshape(B, T, -1), self.w[p + "attn_output.weight"])
            h = self.norm(x, self.w[p + "ffn_norm.weight"])
            x = x + F.linear(F.silu(F.linear(h, self.w[p + "ffn_gate.weight"])) * F.linear(h, self.w[p + "ffn_up.weight"]), self.w[p + "ffn_down.weight"])
        logits = F.linear(self.norm(x, self.w["output_norm.weight"]), self.embed)
        return logits, states

    @torch.no_grad()
    def generate(self, prompts, n_new, temperature, gen):
        """Continues each prompt (equal lengths, [B, P]) by n_new tokens; T = 0 is greedy."""
        cache = []
        logits, _ = self.forward(prompts, cache=cache)
        out = [prompts]
        pos = prompts.shape[1]
        for _ in range(n_new):
            last = logits[:, -1].float()
            if temperature == 0:
                nxt = last.argmax(-1, keepdim=True)
            else:
                probs = torch.softmax(last / temperature, -1)
                nxt = torch.multinomial(probs, 1, generator=gen)  # gen lives on the target's device
            out.append(nxt)
            logits, _ = self.forward(nxt, cache=cache, pos0=pos)
            pos += 1
        return torch.cat(out, 1)


def causal_attention(q, k, v, q_pos0):
    # Written out (no scaled_dot_product_attention) so that PyTorch 1.13 runs it too.
    Tq, Tk = q.shape[2], k.shape[2]
    s = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    qi = torch.arange(Tq, device=q.device)[:, None] + q_pos0
    kj = torch.arange(Tk, device=q.device)[None, :]
    s = s.masked_fill(kj > qi, float("-inf"))
    return torch.softmax(s.float(), -1).to(v.dtype) @ v


def byte_chars():
    # GPT-2's reversible byte <-> printable character map (the vocabulary is stored in these characters).
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


# GPT-2 pre-tokenization; Python's re has no \p{L}/\p{N}, so letters are [^\W\d_] and numbers \d.
PRETOK = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")


class Tokenizer:
    """Byte-level BPE from the GGUF's tokens and merges (pure Python, cached per pre-token)."""

    def __init__(self, tokens, merges):
        self.ids = {t: i for i, t in enumerate(tokens)}
        self.tokens = tokens
        self.ranks = {tuple(m.split(" ")): i for i, m in enumerate(merges)}
        self.b2c = byte_chars()
        self.c2b = {c: b for b, c in self.b2c.items()}
        self.cache = {}

    def _bpe(self, word):
        parts = list(word)
        while len(parts) > 1:
            pairs = [(self.ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
            rank, i = min(pairs)
            if rank == 1 << 30:
                break
            parts[i:i + 2] = [parts[i] + parts[i + 1]]
        return [self.ids[p] for p in parts]

    def encode(self, text):
        out = []
        for piece in PRETOK.findall(text):
            word = "".join(self.b2c[b] for b in piece.encode("utf-8"))
            if word not in self.cache:
                self.cache[word] = self._bpe(word)
            out.extend(self.cache[word])
        return out

    def decode(self, ids):
        return bytes(self.c2b[c] for i in ids for c in self.tokens[i]).decode("utf-8", errors="replace")


if __name__ == "__main__":
    # Parity check against llama.cpp: prints the prompt's token ids and a greedy continuation;
    # compare with `llama-completion -m models/verispec-target.gguf -p PROMPT -n N --temp 0`.
    path, prompt, n = sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 32
    torch.set_num_threads(1)
    t = Target(path, "cpu")
    ids = [t.bos] + t.tok.encode(prompt)
    out = t.generate(torch.tensor([ids]), n, 0, None)[0].tolist()
    print("prompt ids:", ids)
    print("generated ids:", out[len(ids):])
    print("generated text:", repr(t.tok.decode(out[len(ids):])))
