/** `verispec serve` in a child process, watched through its stderr. */
import type { ChildProcess } from "node:child_process";
import { type CliResult, runCli } from "./cli.js";

export interface ServeProcess {
  /** The server's URL once it listens. */
  url: Promise<string>;
  /** Resolves when its stderr has a line matching this. */
  saw(line: RegExp): Promise<void>;
  /** What it has written to stderr so far. */
  stderr(): string;
  signal(name: NodeJS.Signals): void;
  ended: Promise<CliResult & { ms: number }>;
}

/** `verispec serve --port 0 args...` in a child process, killed if it runs past `limitMs`. */
export function startServe(args: string[], env: Record<string, string> = {}, limitMs = 60_000): ServeProcess {
  let child: ChildProcess | undefined;
  let stderr = "";
  const watchers: { line: RegExp; resolve(): void }[] = [];
  const start = Date.now();
  const ended = runCli(
    ["serve", "--port", "0", ...args],
    (text, c) => {
      child = c;
      stderr = text;
      for (const w of watchers) if (w.line.test(stderr)) w.resolve();
    },
    env,
  ).then((r) => ({ ...r, ms: Date.now() - start }));
  const watchdog = setTimeout(() => child?.kill("SIGKILL"), limitMs);
  void ended.then(() => clearTimeout(watchdog));
  const saw = (line: RegExp) => (line.test(stderr) ? Promise.resolve() : new Promise<void>((resolve) => watchers.push({ line, resolve })));
  const url = saw(/listening on http:\S+/).then(() => /listening on (http:\S+)/.exec(stderr)![1]);
  return { url, saw, stderr: () => stderr, signal: (name) => child?.kill(name), ended };
}

/** What `probe` gives once it gives something, polled every `everyMs`; fails after `ms`. */
export async function waitFor<T>(probe: () => Promise<T | undefined>, ms = 5000, everyMs = 20): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
