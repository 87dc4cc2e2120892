/** The generate command as a user runs it: target alone, speculative with --json, and clear one-line errors. */
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { runCli } from "./helpers/cli.js";
import { fixtureDir, fixturePair } from "./helpers/fixtures.js";

test("--target without --draft drafts by suffix and lookup; --target-only is the target alone; with --draft it speculates; --json is one object", async () => {
  const m = fixturePair();
  const alone = await runCli(["generate", "--target", m.target, "--target-only", "--prompt", "the cat", "--max-tokens", "8", "--threads", "1", "--json"]);
  assert.equal(alone.code, 0, alone.stderr);
  const a = JSON.parse(alone.stdout);
  assert.equal(a.mode, "target-only");
  assert.equal(a.metrics.tokens, 8);
  const free = await runCli(["generate", "--target", m.target, "--prompt", "the cat", "--max-tokens", "8", "--threads", "1", "--json"]);
  assert.equal(free.code, 0, free.stderr);
  const f = JSON.parse(free.stdout);
  // The default policy is adaptive; with no draft model the drafter is both free sources.
  assert.equal(f.mode, "adaptive k=4, suffix+prompt-lookup");
  assert.equal(f.draft, "ngram");
  assert.equal(f.text, a.text, "greedy speculative text equals the target's own");
  const spec = await runCli([
    "generate",
    "--target",
    m.target,
    "--draft",
    m.draft,
    "--prompt",
    "the cat",
    "--max-tokens",
    "8",
    "--threads",
    "1",
    "--json",
    "--policy",
    "tree",
  ]);
  assert.equal(spec.code, 0, spec.stderr);
  const s = JSON.parse(spec.stdout);
  // The model drafter is named after its file.
  assert.equal(s.mode, `tree k=4, suffix+prompt-lookup+${path.basename(m.draft, ".gguf")}`);
  assert.equal(s.text, a.text, "greedy speculative text equals the target's own");
});

test("bad model files and options give one-line errors and exit status 1", async () => {
  const m = fixturePair();
  const cases: [string[], RegExp][] = [
    [["--target", path.join(fixtureDir, "nope.gguf")], /model file not found: .*nope\.gguf/],
    [["--target", m.target, "--draft", m.draft, "--temperature", "-1"], /--temperature .*expected a number from 0 to 2, got "-1"/],
    [["--target", m.target, "--draft", m.draft, "--top-p", "2"], /--top-p .*expected a number in \(0, 1\], got "2"/],
    [["--target", m.target, "--draft", m.draft, "--head", path.join(fixtureDir, "missing-head.json")], /head file not found/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(["generate", "--threads", "1", "--max-tokens", "4", ...args]);
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
});

test("usage errors are one line on stderr with a non-zero status; the CLI takes the ranges the server takes", async () => {
  const cases: [string[], RegExp][] = [
    // The server refuses a temperature above 2 (SETTING_RANGES); so does the CLI.
    [["generate", "--temperature", "100"], /^verispec: option '--temperature <t>' argument '100' is invalid\. expected a number from 0 to 2/],
    [["generate", "--k", "65"], /--k .*expected a whole number from 1 to 64/],
    // commander's suggestion and the help hint join the message's line.
    [["generate", "--temperatur", "1"], /^verispec: unknown option '--temperatur' \(Did you mean --temperature\?\) \(run with --help for usage\)$/],
    [["serve", "--port", "99999"], /^verispec: option '--port <n>' argument '99999' is invalid\. expected a port from 0 to 65535/],
    [["no-such-command"], /^verispec: unknown command 'no-such-command'/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(args);
    assert.notEqual(r.code, 0, args.join(" "));
    assert.equal(r.stderr.split("\n").length, 2, `one line and its newline: ${JSON.stringify(r.stderr)}`);
    assert.match(r.stderr.trim(), message);
  }
});
