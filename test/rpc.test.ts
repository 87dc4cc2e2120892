/**
 * The target on llama.cpp's RPC backend: real ggml-rpc-server processes on 127.0.0.1 (built by `npm run build:rpc`),
 * the embedded trained pair, the drafter local. Output must be the local target's, token for token, and a server
 * that dies or stalls must give a clear error in bounded time without harming anything else in this process.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, test } from "node:test";
import { LlamaCppModel } from "../src/backends/llamaCpp/llamaCppModel.js";
import { openLlamaCppModel } from "../src/backends/llamaCpp/openModel.js";
import { parseRpcEndpoints, RpcServerError } from "../src/backends/llamaCpp/rpc/rpcEndpoints.js";
import { type RpcServerHandle, startRpcServer } from "../src/backends/llamaCpp/rpc/rpcServer.js";
import { ProcessModel } from "../src/backends/llamaCpp/worker/processModel.js";
import { generateTargetOnly } from "../src/decoding/targetOnly.js";
import { ModelDrafter } from "../src/drafters/modelDrafter.js";
import type { LanguageModel } from "../src/model/session.js";
import { GREEDY } from "../src/sampling/samplingSettings.js";
import { embeddedModelPaths } from "../src/util/embeddedModels.js";
import { runCli } from "./helpers/cli.js";
import { speculativeTokens, targetOnlyTokens } from "./helpers/generate.js";
import { POLICIES } from "./helpers/policies.js";

const PROMPTS = ["def fibonacci(n):", "import os\n\n\ndef list_files(path):", "class Stack:\n    def __init__(self):", "def is_prime(n):\n    "];
const OPTIONS = { maxTokens: 32, sampling: GREEDY };
const paths = embeddedModelPaths();
let servers: RpcServerHandle[] = [];
let local: LlamaCppModel;
let draft: LlamaCppModel;
const expected = new Map<string, number[]>();

before(async () => {
  servers = [await startRpcServer(), await startRpcServer()];
  local = await LlamaCppModel.load(paths.target, { threads: 2 });
  draft = await LlamaCppModel.load(paths.draft, { threads: 2 });
  for (const p of PROMPTS) expected.set(p, await targetOnlyTokens(local, p, OPTIONS));
});
after(async () => {
  local.dispose();
  draft.dispose();
  await Promise.all(servers.map((s) => s.stop()));
});

/** Milliseconds until the promise settles, and its error. */
async function timeToError(work: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const start = performance.now();
  try {
    await work;
  } catch (error) {
    return { ms: performance.now() - start, error };
  }
  assert.fail("expected the work to fail");
}

test("the helper binds ggml-rpc-server to 127.0.0.1 unless told otherwise", () => {
  for (const s of servers) assert.match(s.endpoint, /^127\.0\.0\.1:\d+$/);
});

test("a target split across two RPC servers gives the local target's greedy output, alone and under every policy", async () => {
  const remote = await openLlamaCppModel(paths.target, { rpcServers: servers.map((s) => s.endpoint), tensorSplit: [1, 1], threads: 2 });
  assert.ok(remote instanceof ProcessModel);
  try {
    for (const prompt of PROMPTS) {
      const want = expected.get(prompt)!;
      assert.ok(want.length >= 16, "the local target generates a real continuation");
      assert.deepEqual(await targetOnlyTokens(remote, prompt, OPTIONS), want, `target-only over RPC: ${prompt}`);
      for (const name of ["chain", "tree", "adaptive"]) {
        const drafter = new ModelDrafter(draft, GREEDY);
        assert.deepEqual(await speculativeTokens(remote, drafter, prompt, { ...OPTIONS, policy: POLICIES[name](4) }), want, `${name}: ${prompt}`);
        drafter.dispose();
      }
    }
  } finally {
    remote.dispose();
  }
});

test("the CLI's --target-rpc output equals its local target-only output", async () => {
  const args = ["generate", "--prompt", PROMPTS[0], "--max-tokens", "24", "--threads", "2", "--json"];
  const localRun = await runCli([...args, "--target-only"]);
  const rpcRun = await runCli([...args, "--policy", "adaptive", "--target-rpc", servers.map((s) => s.endpoint).join(",")]);
  assert.equal(rpcRun.code, 0, rpcRun.stderr);
  assert.equal(JSON.parse(rpcRun.stdout).text, JSON.parse(localRun.stdout).text);
});

/** Starts a greedy generation of many tokens and calls `harm` once `after` tokens have come out; returns the run. */
async function generateAndHarm(model: LanguageModel, after: number, harm: () => void): Promise<number> {
  let tokens = 0;
  for await (const step of generateTargetOnly(model, PROMPTS[0], { maxTokens: 400, sampling: GREEDY })) {
    tokens += step.tokens.length;
    if (tokens >= after && tokens - step.tokens.length < after) harm();
  }
  return tokens;
}

test("a server killed mid-generation gives an RpcServerError within the bound; other targets, local models and this process go on", async () => {
  const [doomed, spare] = [await startRpcServer(), await startRpcServer()];
  const a = await openLlamaCppModel(paths.target, { rpcServers: [doomed.endpoint], threads: 1, callTimeoutMs: 5000 });
  const b = await openLlamaCppModel(paths.target, { rpcServers: [spare.endpoint], threads: 1 });
  try {
    const other = targetOnlyTokens(b, PROMPTS[1], OPTIONS);
    const { ms, error } = await timeToError(generateAndHarm(a, 8, () => doomed.process.kill("SIGKILL")));
    assert.ok(error instanceof RpcServerError, String(error));
    assert.match(error.message, new RegExp(`RPC servers ${doomed.endpoint} failed: its worker process ended`));
    assert.ok(ms < 10_000, `the error took ${ms} ms`);
    await assert.rejects(a.createSession(), RpcServerError, "a failed target keeps failing clearly");
    assert.deepEqual(await other, expected.get(PROMPTS[1]), "the target on the other server is untouched");
    assert.deepEqual(await targetOnlyTokens(local, PROMPTS[2], OPTIONS), expected.get(PROMPTS[2]), "local models still work");
  } finally {
    a.dispose();
    b.dispose();
    await Promise.all([doomed.stop(), spare.stop()]);
  }
});

test("a server that stops answering mid-generation times out with an RpcServerError instead of hanging", async () => {
  const server = await startRpcServer();
  const model = await openLlamaCppModel(paths.target, { rpcServers: [server.endpoint], threads: 1, callTimeoutMs: 1500 });
  try {
    const { ms, error } = await timeToError(generateAndHarm(model, 4, () => server.process.kill("SIGSTOP")));
    assert.ok(error instanceof RpcServerError, String(error));
    assert.match(error.message, /did not answer its evaluate call within 1500 ms/);
    assert.ok(ms < 6000, `the error took ${ms} ms`);
  } finally {
    model.dispose();
    server.process.kill("SIGCONT");
    await server.stop();
  }
});

test("a listener that accepts and never answers fails the load within its deadline", async () => {
  const silent = net.createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const endpoint = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
  try {
    const { ms, error } = await timeToError(openLlamaCppModel(paths.target, { rpcServers: [endpoint], loadTimeoutMs: 2000 }));
    assert.ok(error instanceof RpcServerError, String(error));
    assert.match(error.message, /did not answer its load call within 2000 ms/);
    assert.ok(ms < 6000, `the error took ${ms} ms`);
  } finally {
    silent.close();
  }
});

test("a port with no server is refused at once, naming the endpoint", async () => {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const endpoint = `127.0.0.1:${(probe.address() as net.AddressInfo).port}`;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const { ms, error } = await timeToError(openLlamaCppModel(paths.target, { rpcServers: [endpoint] }));
  assert.ok(error instanceof RpcServerError);
  assert.equal(error.message, `RPC server ${endpoint} is not reachable: ECONNREFUSED`);
  assert.ok(ms < 5000, `the error took ${ms} ms`);
});

test("bad endpoints and tensor splits are refused with what is wrong", async () => {
  assert.deepEqual(parseRpcEndpoints(" 127.0.0.1:5000,[::1]:6000 "), ["127.0.0.1:5000", "[::1]:6000"]);
  assert.throws(() => parseRpcEndpoints(""), /no RPC server given/);
  assert.throws(() => parseRpcEndpoints("localhost"), /invalid RPC server "localhost"/);
  assert.throws(() => parseRpcEndpoints("host:70000"), /port in 1..65535/);
  assert.throws(() => parseRpcEndpoints("a:1,a:1"), /listed twice/);
  const endpoints = servers.map((s) => s.endpoint);
  await assert.rejects(openLlamaCppModel(paths.target, { rpcServers: endpoints, tensorSplit: [1] }), {
    name: "RangeError",
    message: /the tensor split needs 2 non-negative shares/,
  });
  const cli = await runCli(["generate", "--target-rpc", "nohost", "--max-tokens", "4"]);
  assert.equal(cli.code, 1);
  assert.match(cli.stderr, /invalid RPC server "nohost"/);
});
