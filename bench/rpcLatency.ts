/**
 * The target across machines, simulated on this one: two ggml-rpc-server processes on 127.0.0.1 hold the
 * embedded target's layers (split evenly), the drafter stays local, and a delay proxy in front of each server
 * adds 0, 1 or 5 ms to every round trip. For each latency it runs `verispec bench` (one run each, same
 * prompts and seeds) into <out>/rpc-<N>ms/, then writes <out>/rpc-latency.md, the trend across latencies
 * (by default bench/results/cpu, where the stored results are).
 * Usage: node dist/bench/rpcLatency.js [--latencies 0,1,5] [--limit 10] [--max-tokens 64] [--repeats 2]
 *        [--policies target-only,chain,heuristic,cascade,tree,adaptive] [--out bench/results/cpu]
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { startRpcServer } from "../src/backends/llamaCpp/rpc/rpcServer.js";
import type { BenchSummary } from "../src/bench/benchTypes.js";
import { packageRoot } from "../src/util/packageRoot.js";

const { values: a } = parseArgs({
  options: {
    latencies: { type: "string", default: "0,1,5" },
    limit: { type: "string", default: "10" },
    "max-tokens": { type: "string", default: "64" },
    repeats: { type: "string", default: "2" },
    policies: { type: "string", default: "target-only,chain,heuristic,cascade,tree,adaptive" },
    prompts: { type: "string", default: "../shared/bench/humaneval.jsonl" },
    out: { type: "string", default: "bench/results/cpu" },
  },
});

const cli = path.join(packageRoot(), "dist", "src", "cli", "main.js");
const latencies = a.latencies.split(",").map(Number);
const servers = [await startRpcServer({ threads: 1 }), await startRpcServer({ threads: 1 })];
const summaries: { latency: number; summary: BenchSummary }[] = [];
try {
  for (const latency of latencies) {
    const out = path.join(a.out, `rpc-${latency}ms`);
    const args = ["bench", "--prompts", a.prompts, "--limit", a.limit, "--trim-prompts", "--repeats", a.repeats, "--max-tokens", a["max-tokens"]];
    args.push("--threads", "1", "--policies", a.policies, "--target-rpc", servers.map((s) => s.endpoint).join(","), "--tensor-split", "1,1");
    args.push("--added-latency", String(latency), "--out", out);
    execFileSync(process.execPath, [cli, ...args], { stdio: "inherit" });
    summaries.push({ latency, summary: JSON.parse(readFileSync(path.join(out, "summary.json"), "utf8")) });
  }
} finally {
  await Promise.all(servers.map((s) => s.stop()));
}

const variants = summaries[0].summary.variants.map((v) => v.variant);
const cell = (latency: number, variant: string) => {
  const s = summaries.find((x) => x.latency === latency)!.summary;
  const v = s.variants.find((x) => x.variant === variant)!;
  const base = s.variants.find((x) => x.policy === "target-only")!;
  return `${v.tokensPerSecond.toFixed(1)} (${(v.tokensPerSecond / base.tokensPerSecond).toFixed(2)}x)`;
};
const table = [
  `| variant | ${latencies.map((l) => `+${l} ms RTT: tokens/s (x target-only)`).join(" | ")} |`,
  `| --- | ${latencies.map(() => "---").join(" | ")} |`,
  ...variants.map((v) => `| ${v} | ${latencies.map((l) => cell(l, v)).join(" | ")} |`),
];
const report = [
  "# The target on two RPC servers, drafter local, at added round-trip latencies",
  "",
  `Command: \`node dist/bench/rpcLatency.js ${process.argv.slice(2).join(" ")}\` (made ${new Date().toISOString()}).`,
  `Two ggml-rpc-server processes on 127.0.0.1 (1 thread each) hold the embedded target (layers split 1:1); the drafter runs in the bench process; ${a.limit} HumanEval prompts, ${a["max-tokens"]} tokens, ${a.repeats} repeats, greedy.`,
  "A delay proxy in front of each server holds every reply for the added latency (Node timers: about 1 ms granularity). All on one 2-core machine: servers, proxies, target client and drafter share the cores.",
  "",
  ...table,
  "",
  `Per-latency outputs (results.csv, summary.json, figures, report.html): ${latencies.map((l) => `[rpc-${l}ms/](rpc-${l}ms/)`).join(", ")}.`,
  "",
];
writeFileSync(path.join(a.out, "rpc-latency.md"), report.join("\n"));
console.log(table.join("\n"));
