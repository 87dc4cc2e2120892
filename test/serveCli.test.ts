/**
 * `verispec serve` as a process: models that fail to load end it with status 1 and one line; an API key from
 * --api-key-file or $VERISPEC_API_KEY (an empty one refused); and SIGTERM drains: new requests get 503, a short
 * request finishes, long ones end with a shutdown error (a stream: an error event, then [DONE]), and it exits 0.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import OpenAI from "openai";
import type { CliResult } from "./helpers/cli.js";
import { fixturePair } from "./helpers/fixtures.js";
import { startServe } from "./helpers/serve.js";

const dir = mkdtempSync(path.join(tmpdir(), "verispec-serve-"));

/** The lines a process wrote to stderr, less the one saying where it listens. */
function errorLines(r: CliResult): string[] {
  return r.stderr
    .trim()
    .split("\n")
    .filter((l) => !/listening on/.test(l));
}

test("a target that is not a model ends serve with status 1 within 5 s and one line saying why", async () => {
  const notModel = path.join(dir, "notes.gguf");
  writeFileSync(notModel, "these are notes, not a model\n");
  const r = await startServe(["--target", notModel, "--draft", "none"], {}, 15_000).ended;
  assert.equal(r.code, 1, r.stderr);
  assert.ok(r.ms < 5000, `exited after ${r.ms} ms`);
  assert.deepEqual(errorLines(r).length, 1, r.stderr);
  assert.match(errorLines(r)[0], /^verispec: .*notes\.gguf: not a GGUF file/);
});

test("an empty API key is refused in one line; a key from --api-key-file or $VERISPEC_API_KEY guards the routes", async () => {
  const emptyFile = path.join(dir, "empty-key");
  writeFileSync(emptyFile, "\n");
  const refused: [string[], Record<string, string>, RegExp][] = [
    [["--api-key", ""], {}, /--api-key is empty/],
    [["--api-key-file", emptyFile], {}, /--api-key-file .*empty-key is empty/],
    [["--api-key-file", path.join(dir, "missing-key")], {}, /cannot read the --api-key-file .*missing-key: ENOENT/],
    [[], { VERISPEC_API_KEY: " " }, /VERISPEC_API_KEY is empty/],
  ];
  for (const [args, env, message] of refused) {
    const r = await startServe(args, env, 15_000).ended;
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, message);
  }
  const keyFile = path.join(dir, "key");
  // The file's final newline and spaces are not part of the key.
  writeFileSync(keyFile, "  from-file\n");
  const target = fixturePair().target;
  for (const [args, env, key] of [
    [["--api-key-file", keyFile], {}, "from-file"],
    [[], { VERISPEC_API_KEY: "from-env" }, "from-env"],
  ] as const) {
    const s = startServe(["--target", target, "--draft", "none", "--threads", "1", ...args], env);
    const url = await s.url;
    await s.saw(/verispec: ready/);
    const models = (key: string) => fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal((await models(key)).status, 200, key);
    assert.equal((await models("guess")).status, 401, key);
    s.signal("SIGINT");
    assert.equal((await s.ended).code, 0);
  }
});

test("SIGTERM: new requests get 503, a short one finishes, long ones end with a shutdown error after the grace period; exit 0", async () => {
  const s = startServe(["--draft", "none", "--parallel", "3", "--queue", "0", "--context", "2048", "--shutdown-grace", "3"]);
  const url = await s.url;
  await s.saw(/verispec: ready/);
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "none", maxRetries: 0 });
  const ask = (maxTokens: number, stream: boolean) =>
    fetch(`${url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "verispec-target", prompt: "def f(x):", max_tokens: maxTokens, temperature: 0, stream }),
    });
  // The embedded target continues this prompt past 1500 tokens greedily, at 100 to 500 tokens/s on 2 cores: the
  // long requests outlast the grace period by far.
  const stream = (await ask(1500, true)).body!.getReader();
  await stream.read();
  const whole = ask(1500, false);
  for (let busy = 0; busy < 2; await new Promise((r) => setTimeout(r, 10)))
    busy = ((await (await fetch(`${url}/health`)).json()) as { slots_processing: number }).slots_processing;
  // A stream's headers come once it has its slot (the queue is 0): it is in flight when the signal comes. 16 tokens
  // finish well within the 3 s grace even on a loaded machine.
  const short = await client.completions.create({ model: "verispec-target", prompt: "def f(x):", max_tokens: 16, temperature: 0, stream: true });
  s.signal("SIGTERM");
  await s.saw(/SIGTERM: shutting down/);
  const late = await ask(4, false);
  assert.equal(late.status, 503);
  assert.match(((await late.json()) as { error: { message: string } }).error.message, /is shutting down/);
  const finishes: (string | null)[] = [];
  for await (const chunk of short) finishes.push(chunk.choices[0].finish_reason);
  assert.equal(finishes.at(-1), "length");
  let rest = "";
  for (let r = await stream.read(); !r.done; r = await stream.read()) rest += new TextDecoder().decode(r.value);
  assert.match(rest, /data: \{"error":\{"message":"the server shut down[^\n]*"code":"server_shutting_down"\}\}\n\ndata: \[DONE\]\n\n$/);
  const cut = await whole;
  assert.equal(cut.status, 503);
  assert.match(((await cut.json()) as { error: { message: string } }).error.message, /the server shut down before this request finished/);
  const r = await s.ended;
  assert.equal(r.code, 0, r.stderr);
});
