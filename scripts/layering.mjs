// The floors of src/, from the ground up, and the lint rule that holds the tree to them: biome.json gets one override
// per folder forbidding (style/noRestrictedImports) imports of its own floor's other folders, of every floor above,
// and of index.ts. This script writes those overrides; `--check` fails when biome.json's differ (npm run lint runs it).
//   node scripts/layering.mjs [--check]
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Floors, lowest first; folders on one floor may not import each other. */
export const FLOORS = [
  ["util"],
  ["gguf"],
  ["model"],
  ["backends"],
  ["slots"],
  ["sampling"],
  ["generation"],
  ["metrics"],
  ["drafters"],
  ["drafts"],
  ["policies"],
  ["verification"],
  ["decoding"],
  ["server", "bench"],
  ["tools"],
  ["cli"],
];

const picture = `${FLOORS.map((f) => f.join(" | ")).join(" < ")} < index.ts`;
const INDEX = ["../index.js", "../../index.js", "../../../index.js", "../../../../index.js"];

/** The override of one folder on floor `level`. */
function override(folder, level) {
  const below = FLOORS.slice(0, level).flat();
  const forbidden = [...FLOORS[level].filter((f) => f !== folder), ...FLOORS.slice(level + 1).flat()];
  const may = level === 0 ? "is the ground floor and imports no other src/ folder" : `may import only ${below.map((f) => `${f}/`).join(", ")}`;
  const message = `Layering: src/${folder}/ is floor ${level} of src/ (${picture}). Imports must run downward: src/${folder}/ ${may}. Move what both need down a floor instead of importing up.`;
  const group = [...forbidden.map((f) => `../**/${f}/**`), ...INDEX];
  return {
    includes: [`src/${folder}/**`],
    linter: { rules: { style: { noRestrictedImports: { level: "error", options: { patterns: [{ message, group }] } } } } },
  };
}

export function layeringOverrides() {
  return FLOORS.flatMap((floor, level) => floor.map((folder) => override(folder, level)));
}

const file = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "biome.json");
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const config = JSON.parse(readFileSync(file, "utf8"));
  const want = layeringOverrides();
  if (process.argv.includes("--check")) {
    if (JSON.stringify(config.overrides) !== JSON.stringify(want)) {
      console.error("biome.json's layering overrides are not scripts/layering.mjs's floors: run node scripts/layering.mjs");
      process.exit(1);
    }
  } else {
    writeFileSync(file, `${JSON.stringify({ ...config, overrides: want }, null, 2)}\n`);
  }
}
