/**
 * src/ is built in floors, and imports run downward. biome.json gives every src/ folder a floor, from the ground up
 *   util < gguf < model < backends < slots < sampling < generation < metrics < drafters < drafts < policies
 *   < verification < decoding < server | bench < tools < cli < index.ts
 * (written by scripts/layering.mjs from its list) and forbids it (style/noRestrictedImports, one override per folder)
 * the other folders of its own floor, every floor above it and index.ts. `npm run lint` holds the tree to it; these tests show that the rule bites, by linting fixture
 * files that break it, in a scratch folder with a copy of the real biome.json, so src/ itself is never touched.
 * (Files, not stdin: Biome's --stdin-file-path mode prints no diagnostics, by design.)
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { packageRoot } from "../../src/util/packageRoot.js";

const root = packageRoot();
const BIOME = path.join(root, "node_modules", "@biomejs", "biome", "bin", "biome");
const RULE = "lint/style/noRestrictedImports";

const scratch = mkdtempSync(path.join(tmpdir(), "verispec-layering-"));
copyFileSync(path.join(root, "biome.json"), path.join(scratch, "biome.json"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Writes `source` to `file` (a path under src/) in the scratch folder and lints it with the project's rules. */
function lint(file: string, source: string): { code: number | null; output: string } {
  mkdirSync(path.dirname(path.join(scratch, file)), { recursive: true });
  writeFileSync(path.join(scratch, file), source);
  const run = spawnSync(process.execPath, [BIOME, "lint", "--colors=off", file], { cwd: scratch, encoding: "utf8" });
  return { code: run.status, output: run.stdout + run.stderr };
}

test("an import that runs up a floor fails the lint, naming the floor", () => {
  // backends/ is floor 3 and decoding/ floor 12: a file two folders deep in backends/ (as ngram/ngramModel.ts is)
  // reaching for the scheduler imports nine floors up.
  const { code, output } = lint(
    "src/backends/ngram/upwardFixture.ts",
    'import { SpeculativeScheduler } from "../../decoding/scheduler.js";\n\nexport const S = SpeculativeScheduler;\n',
  );
  assert.notEqual(code, 0, output);
  assert.match(output, new RegExp(RULE));
  assert.match(output, /src\/backends\/ is floor 3 .*Imports must run downward: src\/backends\/ may import only util\/, gguf\/, model\/\./);
});

test("the same kind of import pointing down passes", () => {
  // decoding/ (floor 12) builds on the model contract in model/ (floor 2): downward, so the rule has nothing to say.
  const { code, output } = lint(
    "src/decoding/downwardFixture.ts",
    'import type { LanguageModel } from "../model/session.js";\n\nexport type Target = LanguageModel;\n',
  );
  assert.equal(code, 0, output);
  assert.doesNotMatch(output, new RegExp(RULE));
});

test("folders on one floor do not import each other", () => {
  // server/ and bench/ share floor 13: neither is below the other, so an import between them is refused too.
  const { code, output } = lint("src/server/siblingFixture.ts", 'import { CsvRowWriter } from "../bench/benchCsv.js";\n\nexport const W = CsvRowWriter;\n');
  assert.notEqual(code, 0, output);
  assert.match(output, /src\/server\/ is floor 13 .*Imports must run downward/);
});

test("every src/ folder has a floor in biome.json", () => {
  // A folder without an override would import anything unnoticed; a new folder must be given its floor.
  const config = JSON.parse(readFileSync(path.join(root, "biome.json"), "utf8")) as { overrides: { includes: string[] }[] };
  const layered = new Set(config.overrides.flatMap((o) => o.includes));
  const folders = readdirSync(path.join(root, "src"), { withFileTypes: true }).filter((e) => e.isDirectory());
  for (const folder of folders) assert.ok(layered.has(`src/${folder.name}/**`), `src/${folder.name}/ has no floor in biome.json`);
});

test("biome.json's layering is scripts/layering.mjs's list of floors, and the model contract imports nothing", () => {
  const check = spawnSync(process.execPath, [path.join(root, "scripts", "layering.mjs"), "--check"], { encoding: "utf8" });
  assert.equal(check.status, 0, check.stderr);
  // model/ is above util/ and gguf/ only by its floor: the contract itself needs neither.
  for (const file of readdirSync(path.join(root, "src", "model"))) {
    const imports = readFileSync(path.join(root, "src", "model", file), "utf8").match(/from "\.\.\/[^"]+"/g) ?? [];
    assert.deepEqual(imports, [], `src/model/${file} imports outside model/`);
  }
});
