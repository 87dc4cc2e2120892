"""Replays llama.cpp's first eagle3 draft after a prompt in PyTorch, from an exported head GGUF:
prints the top 3 draft candidates per position with p = softmax over the top 10 logits, which is
what `llama-speculative-simple -lv 5` logs as "draft candidate" lines.
  python3 tools/train/eagle3_parity.py HEAD.gguf PROMPT
"""
import sys, math, torch
sys.path.insert(0, str(__import__('pathlib').Path(__file__).resolve().parent))
import eagle3 as e
from eagle3_target import Target
torch.set_num_threads(1)
t = Target(str(e.TARGET_GGUF), 'cpu')
h = e.load_head(sys.argv[1], t)
x = torch.tensor([[0] + t.tok.encode(sys.argv[2])]); N = x.shape[1]
with torch.no_grad():
    _, st = t.forward(x, keep=e.LAYERS); feats = torch.cat([st[i] for i in e.LAYERS], -1)
    g_all = h.fc(feats[:, :N - 1])
    _, ks, vs = h.qkv(x[:, 1:N], g_all, torch.arange(N - 1))   # head KV for origins 0..N-2
    g, tok = g_all[:, -1:], x[:, N - 1:N]
    for j in range(3):
        q, k, v = h.qkv(tok, g, torch.tensor([N - 2 + j]))
        if j > 0: ks, vs = torch.cat([ks, k], 2), torch.cat([vs, v], 2)
        attn = torch.softmax((q @ ks.transpose(-1, -2)) / math.sqrt(q.shape[-1]), -1) @ vs
        g, lg = h.finish(attn, g)
        top = lg[0, 0].topk(10); p = torch.softmax(top.values, -1)
        print(f"pos {j}: " + ", ".join(f"{i} ({pp:.3f})" for i, pp in zip(top.indices[:3].tolist(), p[:3].tolist())))
        tok = top.indices[:1].view(1, 1)
