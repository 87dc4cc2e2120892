import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { BYTE_TO_CHAR, randomBpeVocabulary } from "../../src/gguf/byteLevelBpe.js";
import { GgufFormatError, readGgufHeader } from "../../src/gguf/ggufReader.js";
import { GgmlType, gguf } from "../../src/gguf/ggufTypes.js";
import { encodeGguf, writeGguf } from "../../src/gguf/ggufWriter.js";
import { encodeTensor, fromHalf, toHalf } from "../../src/gguf/tensorEncoding.js";
import { fixtureDir } from "../helpers/fixtures.js";

test("half precision: exact values by hand", () => {
  // 1.0 = sign 0, exponent 15 (0b01111), mantissa 0 -> 0x3c00; -2.0 -> 0xc000; 65504 is the largest finite half (0x7bff).
  assert.equal(toHalf(1), 0x3c00);
  assert.equal(toHalf(-2), 0xc000);
  assert.equal(toHalf(65504), 0x7bff);
  assert.equal(toHalf(1e6), 0x7c00); // overflow -> +infinity
  assert.equal(toHalf(2 ** -24), 0x0001); // smallest subnormal
  assert.equal(fromHalf(0x3555), 0.333251953125); // 1/3 rounds to 0x3555
  assert.equal(toHalf(1 / 3), 0x3555);
});

test("Q8_0 block: scale is max|x|/127, values round to the nearest step", () => {
  const values = new Float32Array(32);
  values[0] = 1.27; // the largest magnitude: scale d = 0.01, stored as 127
  values[1] = -0.5; // -0.5 / 0.01 = -50
  values[2] = 0.004; // 0.4 steps rounds to 0
  const bytes = encodeTensor(values, GgmlType.Q8_0);
  assert.equal(bytes.length, 34);
  const view = new DataView(bytes.buffer);
  assert.ok(Math.abs(fromHalf(view.getUint16(0, true)) - 0.01) < 1e-5);
  assert.deepEqual([view.getInt8(2), view.getInt8(3), view.getInt8(4)], [127, -50, 0]);
});

test("GGUF header round-trips through the reader", () => {
  mkdirSync(fixtureDir, { recursive: true });
  const file = path.join(fixtureDir, "roundtrip.gguf");
  const meta = new Map([
    ["general.architecture", gguf.str("llama")],
    ["x.count", gguf.u32(7)],
    ["x.names", gguf.strings(["a", "bé"])],
  ]);
  const data = encodeTensor(Float32Array.from([1, 2, 3, 4]), GgmlType.F32);
  writeGguf(file, meta, [{ name: "t", shape: [4], type: GgmlType.F32, data }]);
  const h = readGgufHeader(file);
  assert.equal(h.metadata.get("x.count"), 7);
  assert.deepEqual(h.metadata.get("x.names"), ["a", "bé"]);
  assert.deepEqual(h.tensors, [{ name: "t", shape: [4], type: GgmlType.F32, offset: 0 }]);
  assert.equal(h.dataOffset % 32, 0);
  assert.equal(h.fileSize, h.dataOffset + 32); // 16 bytes of data padded to the 32-byte alignment
});

test("the reader names what is wrong with bad files", () => {
  const notGguf = path.join(fixtureDir, "not.gguf");
  writeFileSync(notGguf, "hello, this is text");
  assert.throws(
    () => readGgufHeader(notGguf),
    (e: Error) => e instanceof GgufFormatError && /bad magic/.test(e.message),
  );
  const chunks = encodeGguf(new Map([["a", gguf.str("b")]]), [{ name: "t", shape: [8], type: GgmlType.F32, data: new Uint8Array(32) }]);
  const whole = Buffer.concat(chunks);
  const truncated = path.join(fixtureDir, "truncated.gguf");
  writeFileSync(truncated, whole.subarray(0, whole.length - 8));
  assert.throws(() => readGgufHeader(truncated), /truncated/);
});

test("random BPE vocabularies are deterministic and consistent", () => {
  const a = randomBpeVocabulary(300, 3);
  assert.deepEqual(a, randomBpeVocabulary(300, 3));
  assert.equal(a.tokens.length, 300);
  assert.equal(a.merges.length, 300 - 256 - 1); // every token past the bytes comes from one merge
  assert.equal(a.tokens[32], BYTE_TO_CHAR[32]);
  assert.equal(BYTE_TO_CHAR[32], "Ġ"); // GPT-2 maps the space byte to U+0120
  for (const m of a.merges) assert.ok(a.tokens.includes(m.replace(" ", "")), `merge ${m} yields a token`);
});
