/**
 * Batch invariance: verispec's llama.cpp patches (scripts/llamaPatches.mjs) and the switch that turns them on
 * (src/backends/llamaCpp/batchInvariance.ts). The patched kernels themselves run only on CUDA: their check is
 * the GPU head-to-heads (bench/results/h100, greedy text identical to target-only for every policy). Here: the
 * patches fit the bundled source and apply once, and the switch refuses what it cannot honour.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { enableBatchInvariance, noteContextCreated } from "../src/backends/llamaCpp/batchInvariance.js";
import type { NativeBuildInfo } from "../src/backends/llamaCpp/native.js";
import { packageRoot } from "../src/util/packageRoot.js";
import { runCli } from "./helpers/cli.js";

interface Patch {
  file: string;
  find: string;
  replace: string;
}
interface PatchModule {
  patches: Patch[];
  applyPatches(dir: string): number;
}

const root = packageRoot();
const sourceDir = path.join(root, "native", ".llama-src");
const loadPatches = async () => (await import(pathToFileURL(path.join(root, "scripts", "llamaPatches.mjs")).href)) as PatchModule;

/** A tree holding the bundled (unpatched) text of every file the patches touch, outside git. */
function pristineCopy(files: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), "verispec-llama-"));
  for (const file of files) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    // npm run build:rpc (run before the suite) checks the bundled source out into native/.llama-src.
    writeFileSync(path.join(dir, file), execFileSync("git", ["-C", sourceDir, "show", `HEAD:${file}`], { maxBuffer: 1 << 26 }));
  }
  return dir;
}

describe("verispec's llama.cpp patches", () => {
  test("fit the bundled source, every one once, and a second application changes nothing", async () => {
    const { patches, applyPatches } = await loadPatches();
    const files = [...new Set(patches.map((p) => p.file))];
    const dir = pristineCopy(files);
    assert.equal(applyPatches(dir), files.length);
    for (const p of patches) {
      const text = readFileSync(path.join(dir, p.file), "utf8");
      // Each replacement is in place exactly once (a patch applied twice would define a function twice).
      assert.equal(text.split(p.replace).length - 1, 1, `${p.file}: ${p.replace.split("\n")[0]}`);
    }
    assert.equal(applyPatches(dir), 0);
  });

  test("MMVQ takes 9 to 16 columns only through the uniform launch, which the variable guards", async () => {
    const { applyPatches, patches } = await loadPatches();
    const dir = pristineCopy([...new Set(patches.map((p) => p.file))]);
    applyPatches(dir);
    const mmvq = readFileSync(path.join(dir, "ggml/src/ggml-cuda/mmvq.cu"), "utf8");
    for (let n = 9; n <= 16; n++) assert.match(mmvq, new RegExp(`case ${n}: launch_uniform\\(std::integral_constant<int, ${n}>\\{\\}\\)`));
    // Without the variable, 2 to 8 columns keep the stock launch and more than 8 are refused as before.
    assert.match(mmvq, /if \(ggml_batch_invariant_env\(\)\) \{\s*launch_uniform\(ncols_tag\);/);
    assert.match(mmvq, /ggml_batch_invariant_env\(\) \? MMVQ_INVARIANT_MAX_COLUMNS : MMVQ_MAX_BATCH_SIZE/);
  });

  test("a thread asking for stock passes gets every stock kernel back: each check, fusion and CUDA graphs", async () => {
    const { applyPatches, patches } = await loadPatches();
    const files = [...new Set(patches.map((p) => p.file))];
    const dir = pristineCopy(files);
    applyPatches(dir);
    const text = (file: string) => readFileSync(path.join(dir, file), "utf8");
    // Every CUDA file that reads the variable reads it through a check that the thread's stock pass overrides.
    for (const file of files.filter((f) => f.includes("ggml-cuda/") && text(f).includes('getenv("GGML_BATCH_INVARIANT")')))
      assert.match(text(file), /return on && !ggml_cuda_stock_pass;/, file);
    // The CPU backend has no stock passes: the variable turns on its reference kernels for the whole backend.
    assert.match(
      text("ggml/src/ggml-cpu/ggml-cpu.cpp"),
      /ctx->use_ref\s+= getenv\("GGML_BATCH_INVARIANT"\) != nullptr && atoi\(getenv\("GGML_BATCH_INVARIANT"\)\) != 0;/,
    );
    assert.match(text("ggml/src/ggml-cuda/common.cuh"), /inline thread_local bool ggml_cuda_stock_pass = false;/);
    const cuda = text("ggml/src/ggml-cuda/ggml-cuda.cu");
    // The binding finds the setter by this name (native/invariance.cc).
    assert.match(cuda, /strcmp\(name, "ggml_backend_cuda_set_stock_pass"\) == 0\) \{[^}]*return \(void \*\)ggml_backend_cuda_set_stock_pass;/);
    assert.match(readFileSync(path.join(root, "native", "invariance.cc"), "utf8"), /"ggml_backend_cuda_set_stock_pass"/);
    // Fusion only in stock passes; a CUDA graph recorded with the other kernels is recorded again, not replayed.
    assert.match(cuda, /if \(disable_fusion \|\| ggml_batch_invariant_env\(\)\)/);
    assert.match(cuda, /if \(graph->verispec_kernels != kernels\) \{\s*graph->verispec_kernels = kernels;\s*properties_changed = true;/);
  });

  test("a source they no longer fit is refused with the file's name", async () => {
    const { applyPatches } = await loadPatches();
    const { patches } = await loadPatches();
    const files = [...new Set(patches.map((p) => p.file))];
    const dir = pristineCopy(files);
    // mmvq.cuh changed where a patch anchors: the run stops naming it, and no file is written (common.cuh, patched
    // before it, included).
    const file = path.join(dir, "ggml/src/ggml-cuda/mmvq.cuh");
    writeFileSync(file, readFileSync(file, "utf8").replace("#define MMVQ_MAX_BATCH_SIZE 8", "#define MMVQ_MAX_BATCH_SIZE 16"));
    const before = files.map((f) => readFileSync(path.join(dir, f), "utf8"));
    assert.throws(() => applyPatches(dir), /do not fit ggml\/src\/ggml-cuda\/mmvq\.cuh/);
    assert.deepEqual(
      files.map((f) => readFileSync(path.join(dir, f), "utf8")),
      before,
    );
  });
});

const build = (batchInvariance: boolean, stockPasses = batchInvariance, cpuInvariance = batchInvariance): NativeBuildInfo => ({
  systemInfo: "",
  libraryDir: "",
  backends: ["CPU"],
  rpc: false,
  gpuOffload: false,
  batchInvariance,
  stockPasses,
  cpuInvariance,
});

describe("turning batch invariance on", () => {
  test("libraries without the patches are refused, naming the build that has them", () => {
    assert.throws(() => enableBatchInvariance(build(false), true), /needs verispec's build of llama\.cpp/);
    assert.equal(process.env.GGML_BATCH_INVARIANT, undefined);
  });

  test("a model off the GPU with older patches (no CPU patch) is refused, naming the rebuild", () => {
    assert.throws(() => enableBatchInvariance(build(true, true, false), false), /on the CPU needs verispec's current llama\.cpp patches/);
    assert.equal(process.env.GGML_BATCH_INVARIANT, undefined);
  });

  test("a CUDA backend without the stock-pass setter (older patches) is refused: prefills would run invariantly", () => {
    assert.throws(() => enableBatchInvariance(build(true, false), true), /cannot run prefills on the stock kernels/);
    assert.equal(process.env.GGML_BATCH_INVARIANT, undefined);
  });

  test("after a session exists it is too late: llama.cpp has read its settings", () => {
    noteContextCreated();
    assert.throws(() => enableBatchInvariance(build(true), true), /before this process's first session/);
    assert.equal(process.env.GGML_BATCH_INVARIANT, undefined);
  });

  test("turned on, it sets llama.cpp's variables, and benchmark peers get the stock environment", () => {
    const module = pathToFileURL(path.join(root, "dist", "src", "backends", "llamaCpp", "batchInvariance.js")).href;
    const script = `import(${JSON.stringify(module)}).then((m) => {
      m.enableBatchInvariance({ batchInvariance: true, stockPasses: true }, true);
      const peer = m.stockEnvironment();
      console.log(JSON.stringify([process.env.GGML_BATCH_INVARIANT, peer.GGML_BATCH_INVARIANT ?? null, peer.KEEP]));
    })`;
    const out = execFileSync(process.execPath, ["-e", script], { env: { ...process.env, KEEP: "yes" }, encoding: "utf8" });
    // The user's own variables pass through to peers; only those set here are taken out.
    assert.deepEqual(JSON.parse(out), ["1", null, "yes"]);
  });

  test("whether it is on: turned on here, or set in the environment the way llama.cpp reads it (atoi != 0)", () => {
    const module = pathToFileURL(path.join(root, "dist", "src", "backends", "llamaCpp", "batchInvariance.js")).href;
    const script = `import(${JSON.stringify(module)}).then((m) => {
      const before = m.batchInvarianceOn();
      if (process.env.ENABLE) m.enableBatchInvariance({ batchInvariance: true, stockPasses: true }, true);
      console.log(JSON.stringify([before, m.batchInvarianceOn()]));
    })`;
    const on = (env: Record<string, string>) => {
      const clean = { ...process.env };
      delete clean.GGML_BATCH_INVARIANT;
      return JSON.parse(execFileSync(process.execPath, ["-e", script], { env: { ...clean, ...env }, encoding: "utf8" }));
    };
    assert.deepEqual(on({}), [false, false]);
    assert.deepEqual(on({ ENABLE: "1" }), [false, true]);
    assert.deepEqual(on({ GGML_BATCH_INVARIANT: "1" }), [true, true]);
    // "0" and text atoi reads as 0 leave llama.cpp's kernels stock.
    assert.deepEqual(on({ GGML_BATCH_INVARIANT: "0" }), [false, false]);
    assert.deepEqual(on({ GGML_BATCH_INVARIANT: "yes" }), [false, false]);
  });

  test("the CLI says why when the loaded llama.cpp lacks the patches", async () => {
    const r = await runCli(["generate", "--max-tokens", "4", "--batch-invariant", "--target-only", "--prompt", "def f():"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /batch invariance needs verispec's build of llama\.cpp/);
  });
});
