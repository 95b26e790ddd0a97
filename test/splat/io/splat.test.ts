import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { InvalidFileError } from "../../../src/core/errors.ts";
import { SH_C0, sigmoid } from "../../../src/splat/cloud.ts";
import { encodeSplat, readSplatFile, writeSplatFile } from "../../../src/splat/io/splat.ts";
import { memorySource } from "../../../src/splat/io/source.ts";
import { assertFileError, maxAbsDiff, randomCloud, tempDir } from "./helpers.ts";

const dir = tempDir();

test(".splat write → read agrees within 1/128 (positions exact)", () => {
  const cloud = randomCloud(1000, 2, 7);
  const path = join(dir, "round.splat");
  writeSplatFile(path, cloud);
  const bytes = readFileSync(path);
  assert.equal(bytes.length, 1000 * 32);
  const back = readSplatFile(memorySource(bytes, path));
  assert.equal(back.count, 1000);
  assert.equal(back.shDegree, 0);
  assert.equal(back.extras.size, 0);
  assert.deepEqual(back.positions, cloud.positions);
  assert.ok(maxAbsDiff(back.logScales, cloud.logScales) < 1e-6);
  // Colour and opacity are bytes: half a step of 1/255 after rounding.
  const rgb = (v: number) => 0.5 + SH_C0 * v;
  assert.ok(maxAbsDiff(back.shDc.map(rgb), cloud.shDc.map(rgb)) <= 0.5 / 255 + 1e-6);
  assert.ok(maxAbsDiff(back.opacityLogits.map(sigmoid), cloud.opacityLogits.map(sigmoid)) <= 0.5 / 255 + 1e-6);
  // Quaternion bytes step by 1/128; the decoded quaternion is renormalized, which can add a little.
  assert.ok(maxAbsDiff(back.rotations, cloud.rotations) < 1 / 128);
});

test(".splat bytes follow convert.py: f32 xyz, f32 linear scale, RGBA, quaternion w first", () => {
  const cloud = randomCloud(1, 0);
  cloud.positions.set([1, -2, 3]);
  cloud.logScales.set([Math.log(0.5), Math.log(0.25), 0]);
  cloud.shDc.set([0, (1 - 0.5) / SH_C0, (0 - 0.5) / SH_C0]);
  cloud.opacityLogits[0] = 0;
  cloud.rotations.set([0, 1, 0, 0]);
  const [bytes] = [...encodeSplat(cloud)];
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  assert.deepEqual([0, 4, 8, 12, 16, 20].map((o) => dv.getFloat32(o, true)), [1, -2, 3, 0.5, 0.25, 1]);
  assert.deepEqual([...bytes.subarray(24, 32)], [128, 255, 0, 128, 128, 255, 128, 128]);
});

test(".splat reader: quaternion bytes of all 128 give the identity; zero scale stays finite", () => {
  const bytes = new Uint8Array(32);
  const dv = new DataView(bytes.buffer);
  dv.setFloat32(12, 0, true);
  dv.setFloat32(16, 1, true);
  dv.setFloat32(20, 1, true);
  bytes.fill(128, 28, 32);
  bytes[27] = 255;
  const cloud = readSplatFile(memorySource(bytes, "zero.splat"));
  assert.deepEqual([...cloud.rotations], [1, 0, 0, 0]);
  assert.ok(Number.isFinite(cloud.logScales[0]));
  assert.ok(Number.isFinite(cloud.opacityLogits[0]));
});

test(".splat: a size that is not a multiple of 32 is an error naming the file", () => {
  const bytes = new Uint8Array(32 * 3 - 5);
  assertFileError(() => readSplatFile(memorySource(bytes, "cut.splat")), InvalidFileError, "cut.splat", /size 91 B is not a non-zero multiple of 32/);
});

test(".splat: NaN, Inf and negative scales are errors naming the field and splat", () => {
  const make = (offset: number, v: number) => {
    const bytes = new Uint8Array(32 * 4);
    const dv = new DataView(bytes.buffer);
    for (let i = 0; i < 4; i++) for (let a = 3; a < 6; a++) dv.setFloat32(i * 32 + 4 * a, 0.1, true);
    dv.setFloat32(offset, v, true);
    return bytes;
  };
  assertFileError(() => readSplatFile(memorySource(make(2 * 32 + 4, NaN), "nan.splat")), InvalidFileError, "nan.splat", /bad value NaN in y of splat 2/);
  assertFileError(() => readSplatFile(memorySource(make(3 * 32 + 20, Infinity), "inf.splat")), InvalidFileError, "inf.splat", /bad value Infinity in scale_z of splat 3/);
  assertFileError(() => readSplatFile(memorySource(make(12, -1), "neg.splat")), InvalidFileError, "neg.splat", /bad value -1 in scale_x of splat 0/);
});
