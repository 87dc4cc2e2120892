/**
 * llama.cpp's peers as the bench runs them, against stand-ins for llama.cpp's programs that print what the real
 * ones print (and note the arguments they were given): what reaches llama.cpp (its speculative types, their
 * lengths and options, sampling as verispec samples), how the figures are read (prefill from llama-completion,
 * tokens capped at the asked-for count, decoding time pro rata), llama-server's timings, and a program whose
 * output lacks its statistics (run once more, then a clear error). The real programs take 10 minutes to build
 * on 2 cores, which CI does not spend; the bench was run against them (bench/results/).
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { before, test } from "node:test";
import type { BenchSummary } from "../src/bench/benchTypes.js";
import { LlamaCppTools } from "../src/bench/peers/llamaCppTools.js";
import { runCli } from "./helpers/cli.js";
import { fixtureDir, fixturePair } from "./helpers/fixtures.js";

const bin = path.join(fixtureDir, "fake-llama-bin");
const calls = path.join(bin, "calls.jsonl");
const promptFile = path.join(fixtureDir, "peer-prompts.jsonl");
let models: { target: string; draft: string };

/** A stand-in program: notes its arguments in calls.jsonl, then prints `output` to stderr. */
function program(name: string, output: string): void {
  const file = path.join(bin, name);
  writeFileSync(
    file,
    `#!/usr/bin/env node
require("fs").appendFileSync(${JSON.stringify(calls)}, JSON.stringify({ program: ${JSON.stringify(name)}, args: process.argv.slice(2) }) + "\\n");
process.stderr.write(${JSON.stringify(output)});
`,
  );
  chmodSync(file, 0o755);
}

/** A stand-in llama-server: /health, and /completion answering fixed timings (noting each request's body). */
function server(): void {
  const file = path.join(bin, "llama-server");
  writeFileSync(
    file,
    `#!/usr/bin/env node
const fs = require("fs");
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(calls)}, JSON.stringify({ program: "llama-server", args }) + "\\n");
const port = Number(args[args.indexOf("--port") + 1]);
require("http").createServer((req, res) => {
  if (req.url === "/health") return res.end("{}");
  let body = "";
  req.on("data", (d) => (body += d)).on("end", () => {
    fs.appendFileSync(${JSON.stringify(calls)}, JSON.stringify({ program: "request", body: JSON.parse(body) }) + "\\n");
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ timings: { prompt_ms: 40, predicted_ms: 60, predicted_n: 20, draft_n: 12, draft_n_accepted: 6 } }));
  });
}).listen(port, "127.0.0.1");
`,
  );
  chmodSync(file, 0o755);
}

before(() => {
  models = fixturePair();
  rmSync(bin, { recursive: true, force: true });
  mkdirSync(bin, { recursive: true });
  writeFileSync(promptFile, `${JSON.stringify({ prompt: "the cat sat" })}\n`);
  // llama-completion: 40 ms of prefill, 11 decodes (the 12th token is sampled after the last one), 2 ms of sampling.
  program(
    "llama-completion",
    "common_perf_print:    sampling time =       2.00 ms\ncommon_perf_print: prompt eval time =      40.00 ms /     4 tokens\ncommon_perf_print:        eval time =     100.00 ms /    11 runs\n",
  );
  // llama-speculative-simple: 20 tokens decoded (past the 12 asked for, as its n-gram drafters do) in 50 ms.
  program("llama-speculative-simple", "encoded    4 tokens in    0.090 seconds\ndecoded   20 tokens in    0.050 seconds\nn_drafted = 30\nn_accept  = 15\n");
  server();
});

function callsOf(program: string): { args: string[]; body?: Record<string, unknown> }[] {
  return readFileSync(calls, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .filter((c) => c.program === program);
}

const option = (args: string[], name: string) => args[args.indexOf(name) + 1];

async function bench(peer: "program" | "server", out: string): Promise<BenchSummary> {
  rmSync(calls, { force: true });
  const policies = "target-only,llamacpp-target-only,llamacpp-spec[ngram-mod|spec-ngram-mod-n-match=12|poll=0]:16,llamacpp-spec[ngram-simple,draft-simple]";
  const r = await runCli([
    "bench",
    ...["--target", models.target, "--draft", models.draft, "--threads", "1", "--max-tokens", "12", "--prompts", promptFile, "--repeats", "1"],
    ...[
      "--temperatures",
      "0,0.8",
      "--repetition-penalty",
      "1.1",
      "--policies",
      policies,
      "--llama-tools",
      bin,
      "--llama-peer",
      peer,
      "--out",
      out,
      "--no-figures",
    ],
  ]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(readFileSync(path.join(out, "summary.json"), "utf8")) as BenchSummary;
}

test("as programs: llama-completion is the target alone, llama-speculative-simple each configuration, timed from prefill to the last token", async () => {
  const s = await bench("program", path.join(fixtureDir, "peers-program"));
  const v = (id: string) => s.variants.find((x) => x.variant === id)!;
  // 11 decodes + 1 = 12 tokens in 40 + 100 + 2 ms.
  assert.equal(v("llamacpp-target-only T=0").tokens, 12);
  assert.ok(Math.abs(v("llamacpp-target-only T=0").seconds - 0.142) < 1e-9);
  // 20 decoded, 12 counted, at its own rate: 12/20 of its 50 ms of decoding (30 ms), plus llama-completion's 40 ms
  // prefill of the same prompt (not the 90 ms "encoded").
  const spec = v("llamacpp-spec[ngram-mod|spec-ngram-mod-n-match=12|poll=0] k=16 T=0");
  assert.equal(spec.tokens, 12);
  assert.ok(Math.abs(spec.seconds - 0.07) < 1e-9, `${spec.seconds}`);
  assert.ok(s.best?.some((b) => b.temperature === 0.8 && b.llamacpp !== null));
  const specCalls = callsOf("llama-speculative-simple");
  const [greedy] = specCalls;
  assert.equal(option(greedy.args, "--spec-type"), "ngram-mod");
  assert.equal(option(greedy.args, "--spec-ngram-mod-n-max"), "16");
  assert.equal(option(greedy.args, "--spec-ngram-mod-n-match"), "12");
  assert.equal(option(greedy.args, "--poll"), "0");
  assert.equal(option(greedy.args, "--temp"), "0");
  assert.equal(option(greedy.args, "--repeat-penalty"), "1.1");
  // The chain with the draft model takes it, at llama.cpp's default lengths (written with brackets, no ":k").
  const chained = specCalls.find((c) => option(c.args, "--spec-type") === "ngram-simple,draft-simple")!;
  assert.equal(option(chained.args, "-md"), models.draft);
  assert.ok(!chained.args.includes("--spec-draft-n-max"));
  // Sampled as verispec samples: temperature alone.
  const sampled = specCalls.find((c) => option(c.args, "--temp") === "0.8")!;
  assert.deepEqual([option(sampled.args, "--top-k"), option(sampled.args, "--top-p"), option(sampled.args, "--min-p")], ["0", "1", "0"]);
});

test("through llama-server: one server per configuration, its timings, the same sampling", async () => {
  const s = await bench("server", path.join(fixtureDir, "peers-server"));
  const spec = s.variants.find((x) => x.variant === "llamacpp-spec[ngram-mod|spec-ngram-mod-n-match=12|poll=0] k=16 T=0.8")!;
  // predicted_n 20, counted 12: 40 ms of prefill and 12/20 of 60 ms.
  assert.equal(spec.tokens, 12);
  assert.ok(Math.abs(spec.seconds - 0.076) < 1e-9);
  // Three configurations (the target alone and two speculative ones), each one server for both temperatures.
  const servers = callsOf("llama-server");
  assert.equal(servers.length, 3);
  assert.ok(servers.some((c) => option(c.args, "--spec-type") === "ngram-mod" && option(c.args, "--spec-ngram-mod-n-max") === "16"));
  const bodies = callsOf("request").map((c) => c.body!);
  assert.ok(bodies.every((b) => b.n_predict === 12 && b.cache_prompt === false && b.repeat_penalty === 1.1));
  assert.ok(bodies.some((b) => b.temperature === 0.8 && b.top_k === 0 && b.top_p === 1 && b.min_p === 0));
});

test("a program whose output lacks its statistics is run once more, and a second such output stops with its file", async () => {
  const flakyBin = path.join(fixtureDir, "flaky-llama-bin");
  rmSync(flakyBin, { recursive: true, force: true });
  mkdirSync(flakyBin, { recursive: true });
  const stats = "decoded   20 tokens in    0.050 seconds\nn_drafted = 30\nn_accept  = 15\n";
  // Prints nothing the first `failures` times it runs (counted in a file beside it), then the statistics.
  const stand = (failures: number) => {
    const count = path.join(flakyBin, "count");
    rmSync(count, { force: true });
    for (const [name, out] of [
      ["llama-speculative-simple", stats],
      ["llama-completion", "common_perf_print: prompt eval time =      40.00 ms /     4 tokens\n"],
    ]) {
      const file = path.join(flakyBin, name);
      const body =
        name === "llama-completion"
          ? ""
          : `const n = fs.existsSync(c) ? Number(fs.readFileSync(c, "utf8")) : 0; fs.writeFileSync(c, String(n + 1)); if (n < ${failures}) process.exit(0);`;
      writeFileSync(
        file,
        `#!/usr/bin/env node\nconst fs = require("fs"); const c = ${JSON.stringify(count)};\n${body}\nprocess.stderr.write(${JSON.stringify(out)});\n`,
      );
      chmodSync(file, 0o755);
    }
  };
  const g = { prompt: "p", maxTokens: 12, temperature: 0, seed: 1, repetitionPenalty: 1 };
  const spec = { types: ["ngram-mod"], options: [], defaults: true };
  stand(1);
  const tools = new LlamaCppTools({ binDir: flakyBin, target: "t.gguf", gpuLayers: 0, threads: 1, contextSize: 64 });
  assert.deepEqual(await tools.speculative(g, spec, 0), { tokens: 12, seconds: 0.07, drafted: 30, accepted: 15 });
  stand(2);
  await assert.rejects(tools.speculative(g, spec, 0), (e: Error) => {
    const file = /its output: (\S+)\)/.exec(e.message)?.[1];
    return /llama\.cpp printed no decoded token count twice/.test(e.message) && file !== undefined && existsSync(file);
  });
});
