"""Checks Head.unroll (every origin at once, masked attention) against a step-by-step draft loop
with a KV cache, as llama.cpp runs the head: the logits must agree to float32 rounding.
  python3 tools/train/eagle3_check.py
"""
import sys, math, torch
sys.path.insert(0, str(__import__('pathlib').Path(__file__).resolve().parent))
import eagle3 as e
torch.manual_seed(0); torch.set_num_threads(1)
t = e.Target(str(e.TARGET_GGUF), 'cpu')
h = e.Head(t, e.HEAD_FFN)
for p in h.parameters(): p.data += 0.05 * torch.randn_like(p)
x = torch.randint(1, 8192, (1, 20)); K = 4
with torch.no_grad():
    _, st = t.forward(x, keep=e.LAYERS); feats = torch.cat([st[i] for i in e.LAYERS], -1)
    ref = h.unroll(x, feats, K)
    for origin in (0, 5, 12):
        g_all = h.fc(feats[:, :origin + 1])
        q, k0, v0 = h.qkv(x[:, 1:origin + 2], g_all, torch.arange(origin + 1))
        ks, vs = k0, v0
        g, tok = g_all[:, -1:], x[:, origin + 1:origin + 2]
        for j in range(K):
            q, k, v = h.qkv(tok, g, torch.tensor([origin + j]))
            if j > 0: ks, vs = torch.cat([ks, k], 2), torch.cat([vs, v], 2)
            qq = q
            s = (qq @ ks.transpose(-1, -2)) / math.sqrt(q.shape[-1])
            attn = torch.softmax(s, -1) @ vs
            g, lg = h.finish(attn, g)
            err = (lg[0, 0] - ref[j][0, origin]).abs().max().item()
            print(origin, j, f"max |diff| {err:.2e}")
            tok = x[:, origin + 2 + j:origin + 3 + j]
            if tok.numel() == 0: break
