/** The single-file HTML report: the summary figure inline, the tables, and the machine and model details. */
import type { BenchSummary, ModelDetails, VariantSummary } from "./benchTypes.js";

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

function fmt(x: number | null, digits = 2): string {
  return x === null || !Number.isFinite(x) ? "–" : x.toFixed(digits);
}

function variantTable(vs: VariantSummary[]): string {
  const head = [
    "variant",
    "generations",
    "tokens",
    "tokens/s",
    "spread (min–max)",
    "speedup",
    "mean accepted / block",
    "acceptance",
    "target calls / seq",
    "drafter calls / seq",
    "chain bound tokens/block",
    "chain bound tokens/s",
  ];
  const rows = vs.map((v) =>
    [
      escapeHtml(v.variant),
      v.generations,
      v.tokens,
      fmt(v.tokensPerSecond, 1),
      `${fmt(v.tokensPerSecondMin, 1)}–${fmt(v.tokensPerSecondMax, 1)}`,
      fmt(v.speedup),
      fmt(v.meanAcceptedPerBlock),
      fmt(v.acceptanceRate),
      fmt(v.targetCallsPerSequence, 1),
      fmt(v.drafterCallsPerSequence, 1),
      fmt(v.boundTokensPerBlock),
      fmt(v.boundTokensPerSecond, 1),
    ]
      .map((c) => `<td>${c}</td>`)
      .join(""),
  );
  return `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>${rows.map((r) => `<tr>${r}</tr>`).join("")}</tbody></table>`;
}

function modelRow(role: string, m: ModelDetails | null): string {
  if (!m) return `<tr><th>${role}</th><td colspan="4">none (prompt lookup)</td></tr>`;
  return `<tr><th>${role}</th><td>${escapeHtml(m.file)}</td><td>${(m.bytes / 1e6).toFixed(1)} MB</td><td>${(m.parameters / 1e6).toFixed(2)} M parameters</td><td>${m.vocabSize} tokens; ${escapeHtml(m.description)}</td></tr>`;
}

export function htmlReport(summary: BenchSummary, figureSvg: string): string {
  const m = summary.machine;
  const s = summary.settings;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>verispec benchmark</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
figure { margin: 1rem 0; } figcaption { color: #555; font-size: 0.9rem; }
</style></head><body>
<h1>verispec benchmark</h1>
<p>${escapeHtml(summary.createdAt)}${summary.complete ? "" : " — <strong>interrupted: partial results</strong>"}</p>
<p><code>${escapeHtml(summary.command)}</code>${summary.commit ? ` at commit ${escapeHtml(summary.commit)}` : ""}</p>
<figure id="summary-figure">${figureSvg}<figcaption>Throughput: bars are measured tokens/s, whiskers the min–max over repeats, red diamonds the chain bound (Leviathan et al.: (1 − a<sup>k+1</sup>)/(1 − a) tokens per block at the measured acceptance a, over the measured cost of a block). Mean accepted tokens per block counts the bonus token. Timings on a shared CPU are noisy: compare variants within this run only.</figcaption></figure>
<h2>Variants</h2>${variantTable(summary.variants)}
<h2>Settings</h2>
<table><tr><th>prompts</th><td>${escapeHtml(s.prompts)} (${s.promptCount})</td></tr><tr><th>repeats</th><td>${s.repeats}</td></tr><tr><th>max tokens</th><td>${s.maxTokens}</td></tr><tr><th>threads</th><td>${s.threads}</td></tr><tr><th>base seed</th><td>${s.seed}</td></tr></table>
<h2>Machine and models</h2>
<table><tr><th>machine</th><td colspan="4">${escapeHtml(m.cpu)}, ${m.cores} cores, ${m.memoryGiB.toFixed(0)} GiB, ${escapeHtml(m.platform)}, Node ${escapeHtml(m.node)}</td></tr>
${modelRow("target", summary.models.target)}${modelRow("draft", summary.models.draft)}</table>
</body></html>
`;
}
