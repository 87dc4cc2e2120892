/** The CLI's flags and the server's fields take the same values: both check against one table (SETTING_RANGES). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { inRange } from "../../src/cli/optionParsers.js";
import { SETTING_RANGES } from "../../src/generation/settingRanges.js";
import { parseJob } from "../../src/server/requestParsing.js";

// Each setting with its request field and values at and just past its ends.
const CASES: [keyof typeof SETTING_RANGES, string, number[]][] = [
  ["temperature", "temperature", [-0.01, 0, 2, 2.01, 100]],
  ["topP", "top_p", [0, 1e-9, 1, 1.01]],
  ["topK", "top_k", [-1, 0, 40, 2 ** 30, 2 ** 30 + 1, 1.5]],
  ["seed", "seed", [-5, 0, 7, 0.5]],
  ["maxTokens", "max_tokens", [0, 1, 100, 1.5]],
];

function cliTakes(setting: keyof typeof SETTING_RANGES, v: number): boolean {
  try {
    inRange(SETTING_RANGES[setting])(String(v));
    return true;
  } catch {
    return false;
  }
}

function serverTakes(field: string, v: number): boolean {
  try {
    parseJob({ model: "m", prompt: "p", [field]: v }, "completion");
    return true;
  } catch {
    return false;
  }
}

test("every value the CLI takes the server takes, and the other way round; outside the range both refuse", () => {
  for (const [setting, field, values] of CASES) for (const v of values) assert.equal(cliTakes(setting, v), serverTakes(field, v), `${setting} ${v}`);
  // The ends themselves, as the table says: 2 is the hottest temperature, top-p 0 would keep no token.
  assert.deepEqual([cliTakes("temperature", 2), cliTakes("temperature", 2.01), cliTakes("topP", 0)], [true, false, false]);
  // verispec.k, in the extension object: 1 to 64, as --k.
  const k = (v: number) => parseJob({ model: "m", prompt: "p", verispec: { k: v } }, "completion").k;
  assert.equal(k(64), 64);
  assert.throws(() => k(65), /'verispec.k' must be a whole number from 1 to 64/);
  assert.equal(cliTakes("k", 65), false);
});
