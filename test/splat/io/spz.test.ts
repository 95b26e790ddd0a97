/**
 * spz reader tests against real files written by Niantic's own library (see test/fixtures/README.md): each
 * decodes to its source PLY within quantization, and to the library's own decode (`*.ref.ply`) within float
 * rounding. Older or odd variants the library cannot write (v1, extension records) are built here by hand.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { gzipSync } from "fflate";
import { InvalidFileError, UnsupportedFormatError } from "../../../src/core/errors.ts";
import { clampedLogit, sigmoid, type GaussianCloud } from "../../../src/splat/cloud.ts";
import { readSplatSync } from "../../../src/splat/io/index.ts";
import { memorySource } from "../../../src/splat/io/source.ts";
import { halfToFloat, readSpz } from "../../../src/splat/io/spz.ts";
import { assertFileError, FIXTURES, maxAbsDiff } from "./helpers.ts";

const SPZ = `${FIXTURES}spz/`;
const fixture = (name: string) => new Uint8Array(readFileSync(`${SPZ}${name}`));
const source = (degree: number) => readSplatSync(`${SPZ}spz-src-sh${degree}.ply`).cloud;
const decode = (bytes: Uint8Array, name = "mem.spz") => readSpz(memorySource(bytes, name));

/** 1 − |q·p| over all splats: 0 when every pair is the same rotation (q and −q are). */
function rotationError(a: GaussianCloud, b: GaussianCloud): number {
  let worst = 0;
  for (let i = 0; i < a.count; i++) {
    let dot = 0;
    for (let j = 0; j < 4; j++) dot += a.rotations[i * 4 + j] * b.rotations[i * 4 + j];
    worst = Math.max(worst, 1 - Math.abs(dot));
  }
  return worst;
}

/** Check `ours` against the float source within spz quantization (load-spz.cc packGaussians). */
function assertMatchesSource(ours: GaussianCloud, src: GaussianCloud, what: string, rotTol: number): void {
  assert.equal(ours.count, src.count, what);
  assert.equal(ours.shDegree, src.shDegree, what);
  const check = (name: string, err: number, tol: number) => assert.ok(err <= tol, `${what} ${name}: error ${err} > ${tol}`);
  check("positions", maxAbsDiff(ours.positions, src.positions), 0.5 / 4096 + 1e-6); // 12 fractional bits
  check("logScales", maxAbsDiff(ours.logScales, src.logScales), 0.5 / 16 + 1e-5); // (ln s + 10)·16
  check("shDc", maxAbsDiff(ours.shDc, src.shDc), 0.5 / (0.15 * 255) + 1e-5); // colorScale 0.15
  check("opacity", maxAbsDiff(ours.opacityLogits.map(sigmoid), src.opacityLogits.map(sigmoid)), 0.5 / 255 + 1e-6);
  // SH: 8-bit (x·128 + 128), degree-1 coefficients kept to 5 bits (bucket 8), higher ones to 4 bits (bucket 16).
  const k = ours.shRest.length / ours.count / 3;
  for (let i = 0; i < ours.shRest.length; i++) {
    const coefficient = Math.floor(i / 3) % k;
    const tol = (coefficient < 3 ? 4.5 : 8.5) / 128 + 1e-6;
    if (Math.abs(ours.shRest[i] - src.shRest[i]) > tol) assert.fail(`${what} shRest[${i}]: ${ours.shRest[i]} vs ${src.shRest[i]}`);
  }
  check("rotations", rotationError(ours, src), rotTol);
  for (let i = 0; i < ours.count; i++) assert.ok(Math.abs(Math.hypot(...ours.rotations.subarray(i * 4, i * 4 + 4)) - 1) < 1e-6);
}

test("spz v2, v3, v4 from Niantic's library match their source PLYs within quantization (SH 0-3)", () => {
  const cases: [string, number, number][] = [
    ["sh3-v2.spz", 3, 3e-3], // v2: 8-bit x, y, z with w rebuilt
    ["sh3-v3.spz", 3, 3e-6], // v3+: smallest three, 9 bits + sign
    ["sh3-v4.spz", 3, 3e-6],
    ["sh2-v3.spz", 2, 3e-6],
    ["sh1-v4.spz", 1, 3e-6],
    ["sh0-v3.spz", 0, 3e-6],
    ["sh0-v4.spz", 0, 3e-6],
  ];
  for (const [name, degree, rotTol] of cases) {
    const { cloud, format, comments } = readSplatSync(`${SPZ}${name}`);
    assert.equal(format, "spz");
    assert.deepEqual(comments, []);
    assertMatchesSource(cloud, source(degree), name, rotTol);
  }
});

test("spz decode agrees with Niantic's own decoder (loadSpz to RDF) to float rounding", () => {
  for (const name of ["sh3-v2", "sh3-v4"]) {
    const ours = readSplatSync(`${SPZ}${name}.spz`).cloud;
    const ref = readSplatSync(`${SPZ}${name}.ref.ply`).cloud;
    for (const f of ["positions", "logScales", "shDc", "shRest", "opacityLogits"] as const) {
      assert.ok(maxAbsDiff(ours[f], ref[f]) < 2e-6, `${name} ${f}`);
    }
    assert.ok(rotationError(ours, ref) < 1e-6, `${name} rotations`);
  }
});

test("spz SPZ_ADOBE_coordinate_system is honoured: RDF (v4) and LUF (v3, record after the data)", () => {
  // Same source, stored in RDF (no flip) and LUF (x flipped instead of y, z); both must decode to the source.
  assertMatchesSource(readSplatSync(`${SPZ}sh3-v4-rdf.spz`).cloud, source(3), "rdf", 3e-6);
  assertMatchesSource(readSplatSync(`${SPZ}sh3-v3-luf.spz`).cloud, source(3), "luf", 3e-6);
  // The rotated families (second axis front/back) need an SH rotation: refused, not silently mis-read.
  const file = `${SPZ}sh0-v4-rfu.spz`;
  assertFileError(() => readSplatSync(file), UnsupportedFormatError, file, /coordinate system RFU .* not supported/);
});

/** sh0-v4.spz with `records` spliced in as extension records (flag 0x2) between the header and the TOC. */
function withExtensions(records: Uint8Array): Uint8Array {
  const base = fixture("sh0-v4.spz");
  const out = new Uint8Array(base.length + records.length);
  out.set(base.subarray(0, 32));
  out.set(records, 32);
  out.set(base.subarray(32), 32 + records.length);
  const dv = new DataView(out.buffer);
  dv.setUint8(14, dv.getUint8(14) | 2);
  dv.setUint32(16, 32 + records.length, true);
  return out;
}

function record(type: number, payload: number[]): number[] {
  const head = new DataView(new ArrayBuffer(8));
  head.setUint32(0, type, true);
  head.setUint32(4, payload.length, true);
  return [...new Uint8Array(head.buffer), ...payload];
}

test("spz extension records: unknown ones are skipped, the coordinate system one changes the flip", () => {
  const plain = decode(fixture("sh0-v4.spz"));
  const unknown = decode(withExtensions(new Uint8Array(record(0x12340001, [1, 2, 3, 4, 5]))));
  assert.deepEqual(unknown.positions, plain.positions);
  assert.deepEqual(unknown.rotations, plain.rotations);
  // Declaring RDF (6) after an unknown record: the stored axes are taken as they are, i.e. y and z un-flipped.
  const rdf = decode(withExtensions(new Uint8Array([...record(0x12340001, [9]), ...record(0xadbe0003, [6, 0, 0, 0])])));
  for (let i = 0; i < plain.count * 3; i++) assert.equal(rdf.positions[i], i % 3 === 0 ? plain.positions[i] : -plain.positions[i]);
  for (let i = 0; i < plain.count * 4; i++) assert.equal(rdf.rotations[i], i % 4 < 2 ? plain.rotations[i] : -plain.rotations[i]);
  // UNSPECIFIED (0) means the default RUB.
  assert.deepEqual(decode(withExtensions(new Uint8Array(record(0xadbe0003, [0, 0, 0, 0])))).positions, plain.positions);
  assertFileError(() => decode(withExtensions(new Uint8Array(record(0xadbe0003, [17, 0, 0, 0]))), "c.spz"), InvalidFileError, "c.spz", /value 17 is not a coordinate system/);
  const overrun = new Uint8Array(record(0x12340001, [1, 2, 3]));
  new DataView(overrun.buffer).setUint32(4, 100, true);
  assertFileError(() => decode(withExtensions(overrun), "o.spz"), InvalidFileError, "o.spz", /extension 0x12340001 overruns/);
});

/** A gzipped legacy spz body: 16-byte header then the given streams. */
function legacy(version: number, count: number, degree: number, streams: (number[] | Uint8Array)[], flags = 0): Uint8Array {
  const header = new DataView(new ArrayBuffer(16));
  header.setUint32(0, 0x5053474e, true);
  header.setUint32(4, version, true);
  header.setUint32(8, count, true);
  header.setUint8(12, degree);
  header.setUint8(13, 12);
  header.setUint8(14, flags);
  const parts = [new Uint8Array(header.buffer), ...streams.map((s) => Uint8Array.from(s))];
  const body = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  parts.reduce((at, p) => (body.set(p, at), at + p.length), 0);
  return gzipSync(body);
}

test("spz v1 (float16 positions, 3-byte rotations) decodes by hand, with the RUB → RDF flip", () => {
  // Point 0: (1.5, −2.25, 0.125); point 1: (0, 65504, 2^−24), all exact in float16.
  const halves = [0x3e00, 0xc080, 0x3000, 0x0000, 0x7bff, 0x0001];
  const positions = halves.flatMap((h) => [h & 255, h >> 8]);
  const alphas = [0, 255];
  const colors = [128, 0, 255, 100, 150, 200];
  const scales = [160, 0, 255, 144, 176, 80];
  const rotations = [128, 128, 128, 255, 128, 128]; // point 0 identity; point 1 ≈ 180° about x
  const sh = Array.from({ length: 2 * 9 }, (_, j) => 128 + j * 5); // degree 1: 3 coefficients × RGB
  const cloud = decode(legacy(1, 2, 1, [positions, alphas, colors, scales, rotations, sh]), "v1.spz");

  assert.deepEqual([...cloud.positions], [1.5, 2.25, -0.125, 0, -65504, -(2 ** -24)].map(Math.fround));
  assert.deepEqual([...cloud.opacityLogits], [clampedLogit(0), clampedLogit(1)].map(Math.fround));
  assert.deepEqual([...cloud.shDc], colors.map((c) => Math.fround((c / 255 - 0.5) / 0.15)));
  assert.deepEqual([...cloud.logScales], scales.map((s) => s / 16 - 10));
  // Point 0: x = y = z = 128/127.5 − 1 ≈ 0.0039, w rebuilt ≈ 1; then y and z flip sign.
  const e = 128 / 127.5 - 1;
  const w = Math.sqrt(1 - 3 * e * e);
  [w, e, -e, -e].forEach((v, j) => assert.ok(Math.abs(cloud.rotations[j] - v) < 1e-6, `rot ${j}`));
  // Point 1: x = 1, y = z ≈ 0.0039 → |xyz| > 1, so w = 0 and the quaternion is renormalized.
  const n = Math.hypot(1, e, e);
  [0, 1 / n, -e / n, -e / n].forEach((v, j) => assert.ok(Math.abs(cloud.rotations[4 + j] - v) < 1e-6, `rot ${4 + j}`));
  // SH coefficient k of channel c is byte (k·3 + c); coefficients 0 (y) and 1 (z) flip sign, 2 (x) does not.
  for (let i = 0; i < 2; i++) {
    for (let k = 0; k < 3; k++) {
      for (let c = 0; c < 3; c++) {
        const j = i * 9 + k * 3 + c;
        assert.equal(cloud.shRest[j], (k < 2 ? -1 : 1) * ((sh[j] - 128) / 128));
      }
    }
  }
});

test("halfToFloat covers normals, subnormals, infinities and NaN", () => {
  assert.equal(halfToFloat(0x3c00), 1);
  assert.equal(halfToFloat(0xc000), -2);
  assert.equal(halfToFloat(0x0001), 2 ** -24);
  assert.equal(halfToFloat(0x7c00), Infinity);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
});

test("spz: a NaN float16 position (v1) is an error naming the splat", () => {
  const bytes = legacy(1, 1, 0, [[0, 0, 0, 0x7e, 0, 0], [128], [128, 128, 128], [0, 0, 0], [128, 128, 128]]);
  assertFileError(() => decode(bytes, "nan.spz"), InvalidFileError, "nan.spz", /NaN in positions of splat 0/);
});

test("spz: SH degree 4 is refused as unsupported, other bad degrees as invalid", () => {
  const bytes = fixture("sh0-v4.spz");
  bytes[12] = 4;
  assertFileError(() => decode(bytes, "sh4.spz"), UnsupportedFormatError, "sh4.spz", /SH degree 4 is not supported/);
  bytes[12] = 7;
  assertFileError(() => decode(bytes, "sh7.spz"), InvalidFileError, "sh7.spz", /SH degree 7 is invalid/);
  const gz = legacy(3, 1, 4, [new Array(9 + 1 + 3 + 3 + 4 + 72).fill(128)]);
  assertFileError(() => decode(gz, "sh4-gz.spz"), UnsupportedFormatError, "sh4-gz.spz", /SH degree 4/);
});

test("spz v4: bad headers, TOCs and streams are errors naming the file", () => {
  const patched = (edit: (dv: DataView, bytes: Uint8Array) => void) => {
    const bytes = fixture("sh3-v4.spz");
    edit(new DataView(bytes.buffer), bytes);
    return bytes;
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ["version.spz", patched((dv) => dv.setUint32(4, 5, true)), /version 5 is not supported/],
    ["zero.spz", patched((dv) => dv.setUint32(8, 0, true)), /declares 0 points/],
    ["huge.spz", patched((dv) => dv.setUint32(8, 0xffffffff, true)), /declares 4294967295 points, more than a \d+-byte file can hold/],
    ["count.spz", patched((dv) => dv.setUint32(8, 129, true)), /positions stream holds 1152 B, expected 1161 for 129 points/],
    ["streams.spz", patched((dv) => dv.setUint8(15, 5)), /header says 5 streams, expected 6/],
    ["toc.spz", patched((dv) => dv.setUint32(16, 8, true)), /table of contents at byte 8 overlaps/],
    ["tocfar.spz", patched((dv) => dv.setUint32(16, 1 << 30, true)), /table of contents ends at byte \d+, past the end/],
    ["corrupt.spz", patched((_, b) => b.fill(0xff, 140, 170)), /positions stream/],
    ["truncated.spz", fixture("sh3-v4.spz").subarray(0, 3000), /sh stream runs past the end of the file \(truncated\?\)/],
    ["trailing.spz", new Uint8Array([...fixture("sh3-v4.spz"), 0, 0, 0]), /3 unexpected bytes after the last stream/],
  ];
  for (const [file, bytes, problem] of cases) assertFileError(() => decode(bytes, file), InvalidFileError, file, problem);
});

test("spz v1-3: truncated, corrupt and mislabelled gzip payloads are errors naming the file", () => {
  const v3 = fixture("sh3-v3.spz");
  const cases: [string, Uint8Array, RegExp][] = [
    ["cut.spz", v3.subarray(0, v3.length - 40), /corrupt or truncated gzip data/],
    ["inner.spz", gzipSync(new TextEncoder().encode("HELLO WORLD, NOT SPLATS")), /gzip data is not an spz file \(wrong inner magic\)/],
    ["short.spz", gzipSync(new Uint8Array([0x4e, 0x47, 0x53, 0x50, 3])), /too short for the 16-byte header/],
    ["body.spz", legacy(3, 10, 0, [new Array(50).fill(128)]), /truncated: 10 points need 216 B of data, the gzip payload has 66/],
    ["v9.spz", legacy(9, 1, 0, [new Array(20).fill(128)]), /version 9 is not supported \(expected 1-4\)/],
    ["magic.spz", new Uint8Array([1, 2, 3, 4, 5]), /wrong magic/],
  ];
  for (const [file, bytes, problem] of cases) assertFileError(() => decode(bytes, file), InvalidFileError, file, problem);
});

test("spz: a gzip bomb behind a small header stops at the declared size", () => {
  const bytes = legacy(3, 1, 0, [new Array(9 + 1 + 3 + 3 + 4).fill(128), new Uint8Array(8 << 20)]);
  assert.ok(bytes.length < 64 * 1024);
  assertFileError(() => decode(bytes, "bomb.spz"), InvalidFileError, "bomb.spz", /gzip payload exceeds the \d+ B its header's 1 points can use/);
});
