"""Whether a head just trained (report.json of `eagle3.py --compare OLD`) should replace the compared one:

  python3 tools/train/eagle3_better.py REPORT.json     # prints 1 (replace) or 0, and why on stderr

It must accept more on held-out text sampled at T = 0.8 (the rejection rule's acceptance, summed over the first
four draft positions) and lose no more than 1% of the compared head's mean tokens per block on greedy text."""
import json, sys

r = json.load(open(sys.argv[1]))
old = r.get("compared")
if not old:
    sys.exit("the report compares no earlier head (eagle3.py --compare HEAD.gguf)")
sampled = lambda s: sum(s["rejection_acceptance_per_position"][:4])  # noqa: E731
new_s, old_s = sampled(r["heldout_sampled"]), sampled(old["heldout_sampled"])
new_g, old_g = r["heldout"]["mean_accepted_per_block"], old["heldout"]["mean_accepted_per_block"]
better = new_s > old_s and new_g >= 0.99 * old_g
print(f"sampled acceptance (4 positions) {new_s:.3f} vs {old_s:.3f}; greedy tokens per block {new_g:.3f} vs {old_g:.3f}",
      file=sys.stderr)
print(int(better))
