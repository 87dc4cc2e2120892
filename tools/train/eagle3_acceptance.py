"""Offline acceptance of an EAGLE-3 head against the 3.3M draft model, on the target's own continuations of
HumanEval prompts, per setting, with no decoding loop in between (so no block selection, no runtime):

  python3 tools/train/eagle3_acceptance.py HEAD.gguf [PROMPTS.jsonl] [N] [TOKENS]
  python3 tools/train/eagle3_acceptance.py HEAD.gguf --draft-temperatures 0.5,0.6,0.7,0.8,0.9,1


For each setting the target continues each prompt (T = 0; T = 0.8 sampled, seed 7; T = 0 with repetition penalty
1.1 over the last 64 tokens, as verispec's constraints apply it), then at every continuation position it reports:
  - head step j (j = 0..3, teacher-forced: step 0 reads the target's states, later steps its own): the chance a
    draft is accepted there: top-1 agreement for greedy settings, sum over tokens of min(p, q) at T = 0.8 (the
    rejection rule's acceptance), both distributions through the same transform (temperature, penalty);
  - the draft model's step 0 on the same positions.
With --draft-temperatures, only T = 0.8, with each drafter's q taken at each listed temperature instead (p stays
at 0.8): the rejection rule is lossless for any q it is told, so this is how much a drafting temperature of its
own could lift acceptance.
"""
import json, sys, torch
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import eagle3 as e  # noqa: E402
from eagle3_target import Target  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
STEPS, WINDOW, PENALTY = 4, 64, 1.1


def penalized(logits, context):
    """verispec's repetition penalty on one row: the window's tokens' positive logits divided, negative multiplied."""
    out = logits.clone()
    ids = torch.unique(context[-WINDOW:])
    out[ids] = torch.where(out[ids] > 0, out[ids] / PENALTY, out[ids] * PENALTY)
    return out


def continue_prompt(t, prompt, n, temperature, penalty, gen):
    x = torch.tensor([prompt])
    for _ in range(n):  # the whole sequence again each step: plain and exact, cheap at these sizes
        last = t.forward(x)[0][0, -1].float()
        if penalty:
            last = penalized(last, x[0])
        nxt = last.argmax() if temperature == 0 else torch.multinomial(torch.softmax(last / temperature, -1), 1, generator=gen)[0]
        x = torch.cat([x, nxt.view(1, 1)], 1)
    return x


def acceptance(p_logits, q_logits, context, temperature, penalty, q_temperature=None):
    """Per position: the acceptance chance of q's draft under p (rows aligned; context[i] ends before row i)."""
    if penalty:
        p_logits = torch.stack([penalized(r, c) for r, c in zip(p_logits, context)])
        q_logits = torch.stack([penalized(r, c) for r, c in zip(q_logits, context)])
    if temperature == 0:
        return (p_logits.argmax(-1) == q_logits.argmax(-1)).float()
    p, q = torch.softmax(p_logits / temperature, -1), torch.softmax(q_logits / (q_temperature or temperature), -1)
    return torch.minimum(p, q).sum(-1)


@torch.no_grad()
def main(head_path, prompts_path, count, tokens):
    torch.manual_seed(0)
    t = Target(str(e.TARGET_GGUF), "cpu")
    draft = Target(str(ROOT / "models" / "verispec-draft.gguf"), "cpu")
    head = e.load_head(head_path, t)
    lines = Path(prompts_path).read_text().splitlines()[:count]
    prompts = [[t.bos] + t.tok.encode(json.loads(l)["prompt"].rstrip()) for l in lines]
    report = {}
    for name, temperature, penalty in (("T=0", 0.0, False), ("T=0.8", 0.8, False), ("T=0 penalty 1.1", 0.0, True)):
        gen = torch.Generator().manual_seed(7)
        sums, n = torch.zeros(STEPS + 1), torch.zeros(STEPS + 1)
        for prompt in prompts:
            x = continue_prompt(t, prompt, tokens, temperature, penalty, gen)
            start, end = len(prompt), x.shape[1]
            t_logits, states = t.forward(x, keep=e.LAYERS)
            h_logits = head.unroll(x, torch.cat([states[i] for i in e.LAYERS], -1), STEPS)
            # The target's rows r = start .. end - 2 (row r predicts token r + 1, a continuation token); head step j
            # predicts that token from origin o = r - 1 - j (it reads token o + 1 and the target's states at o).
            ctx = [x[0, :r + 1] for r in range(start, end - 1)]
            for j in range(STEPS):
                a = acceptance(t_logits[0, start:end - 1], h_logits[j][0, start - 1 - j:end - 2 - j], ctx, temperature, penalty)
                sums[j] += a.sum()
                n[j] += len(a)
            d_logits = draft.forward(x)[0]
            a = acceptance(t_logits[0, start:end - 1], d_logits[0, start:end - 1], ctx, temperature, penalty)
            sums[STEPS] += a.sum()
            n[STEPS] += len(a)
        rates = (sums / n).tolist()
        report[name] = dict(head_per_step=[round(r, 4) for r in rates[:STEPS]], draft_model_step0=round(rates[STEPS], 4), positions=int(n[STEPS]))
        print(name, json.dumps(report[name]), flush=True)
    return report


@torch.no_grad()
def sweep(head_path, taus, count=10, tokens=128):
    """T = 0.8 text; each drafter's q at each temperature in `taus`, p at 0.8: acceptance per setting."""
    t = Target(str(e.TARGET_GGUF), "cpu")
    draft = Target(str(ROOT / "models" / "verispec-draft.gguf"), "cpu")
    head = e.load_head(head_path, t)
    lines = (ROOT.parent / "shared" / "bench" / "humaneval.jsonl").read_text().splitlines()[:count]
    gen = torch.Generator().manual_seed(7)
    sums = torch.zeros(len(taus), STEPS + 1)
    n = 0
    for line in lines:
        x = continue_prompt(t, [t.bos] + t.tok.encode(json.loads(line)["prompt"].rstrip()), tokens, 0.8, False, gen)
        start, end = len(x[0]) - tokens, x.shape[1]
        t_logits, states = t.forward(x, keep=e.LAYERS)
        h_logits = head.unroll(x, torch.cat([states[i] for i in e.LAYERS], -1), STEPS)
        d_logits = draft.forward(x)[0]
        p_rows = t_logits[0, start:end - 1]
        n += len(p_rows)
        for i, tau in enumerate(taus):
            for j in range(STEPS):
                sums[i, j] += acceptance(p_rows, h_logits[j][0, start - 1 - j:end - 2 - j], None, 0.8, False, tau).sum()
            sums[i, STEPS] += acceptance(p_rows, d_logits[0, start:end - 1], None, 0.8, False, tau).sum()
    for i, tau in enumerate(taus):
        rates = (sums[i] / n).tolist()
        print(f"q at T = {tau}", json.dumps(dict(head_per_step=[round(r, 4) for r in rates[:STEPS]], draft_model_step0=round(rates[STEPS], 4), positions=n)), flush=True)


if __name__ == "__main__":
    a = sys.argv[1:]
    if "--draft-temperatures" in a:
        sys.exit(sweep(a[0], [float(v) for v in a[a.index("--draft-temperatures") + 1].split(",")]))
    main(a[0], a[1] if len(a) > 1 else str(ROOT.parent / "shared" / "bench" / "humaneval.jsonl"),
         int(a[2]) if len(a) > 2 else 10, int(a[3]) if len(a) > 3 else 128)
