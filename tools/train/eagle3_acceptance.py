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


def models(head_path):
    t = Target(str(e.TARGET_GGUF), "cpu")
    return t, Target(str(ROOT / "models" / "verispec-draft.gguf"), "cpu"), e.load_head(head_path, t)


def continuations(t, draft, head, prompts, tokens, temperature, penalty):
    """Per prompt, the target's continuation and the rows aligned on it: (p rows, each head step's q rows, the draft
    model's q rows, contexts). The target's rows r = start .. end - 2 (row r predicts token r + 1, a continuation
    token); head step j predicts that token from origin o = r - 1 - j (it reads token o + 1 and the states at o)."""
    gen = torch.Generator().manual_seed(7)
    for prompt in prompts:
        x = continue_prompt(t, prompt, tokens, temperature, penalty, gen)
        start, end = len(prompt), x.shape[1]
        t_logits, states = t.forward(x, keep=e.LAYERS)
        h_logits = head.unroll(x, torch.cat([states[i] for i in e.LAYERS], -1), STEPS)
        heads = [h_logits[j][0, start - 1 - j:end - 2 - j] for j in range(STEPS)]
        ctx = [x[0, :r + 1] for r in range(start, end - 1)]
        yield t_logits[0, start:end - 1], heads, draft.forward(x)[0][0, start:end - 1], ctx


def rates_line(sums, n):
    rates = (sums / n).tolist()
    return dict(head_per_step=[round(r, 4) for r in rates[:STEPS]], draft_model_step0=round(rates[STEPS], 4), positions=int(n))


@torch.no_grad()
def main(head_path, prompts_path, count, tokens, taus=None):
    """Each setting's acceptance; with `taus`, T = 0.8 text only and each drafter's q at each of those temperatures."""
    t, draft, head = models(head_path)
    lines = Path(prompts_path).read_text().splitlines()[:count]
    prompts = [[t.bos] + t.tok.encode(json.loads(l)["prompt"].rstrip()) for l in lines]
    settings = [(f"q at T = {tau}", 0.8, False, tau) for tau in taus] if taus else \
        [("T=0", 0.0, False, None), ("T=0.8", 0.8, False, None), ("T=0 penalty 1.1", 0.0, True, None)]
    sums, n = torch.zeros(len(settings), STEPS + 1), 0
    for temperature, penalty in sorted({(s[1], s[2]) for s in settings}):
        n = 0
        for p_rows, heads, d_rows, ctx in continuations(t, draft, head, prompts, tokens, temperature, penalty):
            n += len(p_rows)
            for i, (_, temp, pen, tau) in enumerate(settings):
                if (temp, pen) != (temperature, penalty):
                    continue
                for j, q_rows in enumerate(heads + [d_rows]):
                    sums[i, j] += acceptance(p_rows, q_rows, ctx, temperature, penalty, tau).sum()
        for i, s in enumerate(settings):
            if (s[1], s[2]) == (temperature, penalty):
                print(s[0], json.dumps(rates_line(sums[i], n)), flush=True)


if __name__ == "__main__":
    a = sys.argv[1:]
    if "--draft-temperatures" in a:
        i = a.index("--draft-temperatures")
        taus, a = [float(v) for v in a[i + 1].split(",")], a[:i] + a[i + 2:]
    else:
        taus = None
    main(a[0], a[1] if len(a) > 1 else str(ROOT.parent / "shared" / "bench" / "humaneval.jsonl"),
         int(a[2]) if len(a) > 2 else 10, int(a[3]) if len(a) > 3 else 128, taus)
