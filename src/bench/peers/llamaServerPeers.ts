/**
 * llama.cpp's own speculative decoding through llama-server, one server per configuration, started on first use
 * and kept for the whole run: a model is loaded once (a 7B file takes seconds to load, which a process per
 * generation would pay each time), and each generation is timed by the server itself, from its prompt prefill to
 * its last token (the `timings` of its /completion answer), as verispec times its own. Requests are sampled as
 * verispec samples (temperature alone; top-k, top-p and min-p off; the same repetition penalty over the last 64
 * tokens), with no prompt cache. Tokens are at most the asked-for count (its n-gram drafters may go past it), and
 * its decoding time is counted pro rata, as for llama.cpp's programs (llamaCppTools.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { stockEnvironment } from "../../backends/llamaCpp/batchInvariance.js";
import type { SpecConfig } from "../benchTypes.js";
import { draftModelOptions, type LlamaCppPeer, type LlamaCppToolsOptions, lengthOptions, type ToolGeneration, type ToolRun } from "./llamaCppTools.js";

/** Longest wait for a server to load its model and answer /health. */
const START_TIMEOUT_MS = 120_000;

interface Timings {
  prompt_ms: number;
  predicted_ms: number;
  predicted_n: number;
  draft_n?: number;
  draft_n_accepted?: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A running llama-server with one configuration. */
class PeerServer {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly log: string[],
  ) {}

  static async start(binary: string, args: string[]): Promise<PeerServer> {
    const port = await freePort();
    const log: string[] = [];
    const child = spawn(binary, [...args, "--host", "127.0.0.1", "--port", String(port)], { env: stockEnvironment(), stdio: ["ignore", "pipe", "pipe"] });
    const keep = (d: Buffer) => {
      log.push(...d.toString().split("\n"));
      if (log.length > 40) log.splice(0, log.length - 40);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const server = new PeerServer(`http://127.0.0.1:${port}`, child, log);
    await server.ready();
    return server;
  }

  private async ready(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`llama-server exited (${this.child.exitCode}): ${this.log.slice(-8).join(" | ")}`);
      const ok = await fetch(`${this.url}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    this.stop();
    throw new Error(`llama-server did not answer /health within ${START_TIMEOUT_MS / 1000} s: ${this.log.slice(-8).join(" | ")}`);
  }

  async complete(g: ToolGeneration): Promise<Timings> {
    const sampling = g.temperature > 0 ? { temperature: g.temperature, top_k: 0, top_p: 1, min_p: 0 } : { temperature: 0 };
    const body = {
      prompt: g.prompt,
      n_predict: g.maxTokens,
      seed: g.seed,
      repeat_penalty: g.repetitionPenalty,
      repeat_last_n: 64,
      cache_prompt: false,
      ...sampling,
    };
    const response = await fetch(`${this.url}/completion`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`llama-server answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
    return ((await response.json()) as { timings: Timings }).timings;
  }

  stop(): void {
    this.child.kill("SIGTERM");
  }
}

export class LlamaServerPeers implements LlamaCppPeer {
  private readonly servers = new Map<string, Promise<PeerServer>>();
  private readonly binary: string;

  constructor(private readonly o: LlamaCppToolsOptions) {
    this.binary = path.join(o.binDir, "llama-server");
    if (!existsSync(this.binary)) throw new Error(`llama-server is not in ${o.binDir}; build it with \`npm run build:llama -- --tools --server\``);
  }

  /** The target alone. */
  targetOnly(g: ToolGeneration): Promise<ToolRun> {
    return this.generate(g, []);
  }

  /** Speculative decoding with the configuration's types and options, at draft length k (0: the types' defaults). */
  speculative(g: ToolGeneration, spec: SpecConfig, k: number): Promise<ToolRun> {
    const args = ["--spec-type", spec.types.join(","), ...draftModelOptions(this.o, spec)];
    args.push(...lengthOptions(spec, k));
    for (const [key, value] of spec.options) args.push(`--${key}`, value);
    return this.generate(g, args);
  }

  /** Stops every server. */
  async close(): Promise<void> {
    for (const s of this.servers.values()) (await s.catch(() => undefined))?.stop();
    this.servers.clear();
  }

  private async generate(g: ToolGeneration, extra: string[]): Promise<ToolRun> {
    const key = extra.join(" ");
    if (!this.servers.has(key)) {
      const common = [
        "-m",
        this.o.target,
        "-c",
        String(this.o.contextSize),
        "-np",
        "1",
        "-t",
        String(this.o.threads),
        "-ngl",
        String(this.o.gpuLayers),
        "--no-mmap",
      ];
      this.servers.set(key, PeerServer.start(this.binary, [...common, ...extra]));
    }
    const t = await (await this.servers.get(key)!).complete(g);
    const tokens = Math.min(g.maxTokens, t.predicted_n);
    return {
      tokens,
      seconds: (t.prompt_ms + t.predicted_ms * (t.predicted_n > 0 ? tokens / t.predicted_n : 1)) / 1000,
      drafted: t.draft_n ?? 0,
      accepted: t.draft_n_accepted ?? 0,
    };
  }
}
