import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "fflate";
import { ConfigError, InvalidFileError, MissingFileError } from "../../../src/core/errors.ts";
import { detectFormat, parseSplat, readSplat, readSplatSync, writeSplat } from "../../../src/splat/io/index.ts";
import { encodePly } from "../../../src/splat/io/ply.ts";
import { memorySource } from "../../../src/splat/io/source.ts";
import { encodeSplat } from "../../../src/splat/io/splat.ts";
import { assertFileError, assertSameBits, FIXTURES, randomCloud, tempDir } from "./helpers.ts";

const dir = tempDir();
const bytesOf = (chunks: Iterable<Uint8Array>) => Buffer.concat([...chunks]);

test("detectFormat recognises every format by content, .splat by extension and size", () => {
  const cloud = randomCloud(4, 1);
  const cases: [string, Uint8Array, string][] = [
    ["a.bin", bytesOf(encodePly(cloud)), "ply"],
    ["b.ply", readFileSync(`${FIXTURES}playcanvas-test-sh3.compressed.ply`), "compressed-ply"],
    ["c.dat", readFileSync(`${FIXTURES}spz/sh0-v4.spz`), "spz"],
    ["d", readFileSync(`${FIXTURES}spz/sh0-v3.spz`), "spz"],
    ["e.SPLAT", bytesOf(encodeSplat(cloud)), "splat"],
  ];
  for (const [name, bytes, format] of cases) assert.equal(detectFormat(memorySource(bytes, name)), format, name);
});

test("readSplat (async), readSplatSync and parseSplat agree and report the format", async () => {
  const path = `${FIXTURES}spz/sh1-v4.spz`;
  const a = await readSplat(path);
  const b = readSplatSync(path);
  const c = parseSplat(readFileSync(path), "in-memory.spz");
  assert.equal(a.format, "spz");
  assertSameBits(a.cloud.positions, b.cloud.positions, "async vs sync");
  assertSameBits(c.cloud.shRest, b.cloud.shRest, "memory vs file");
});

test("writeSplat picks the writer from the extension and keeps comments and extras in .ply", () => {
  const cloud = randomCloud(50, 3);
  cloud.extras.set("label", new Uint16Array(50).fill(65535));
  const ply = join(dir, "out.PLY");
  writeSplat(ply, cloud, { comments: ["rtgs2 encoder deadbeef"] });
  const back = readSplatSync(ply);
  assert.equal(back.format, "ply");
  assert.deepEqual(back.comments, ["rtgs2 encoder deadbeef"]);
  assertSameBits(back.cloud.extras.get("label")!, cloud.extras.get("label")!, "label");
  assertSameBits(back.cloud.shRest, cloud.shRest, "shRest");

  const splat = join(dir, "out.splat");
  writeSplat(splat, cloud, { comments: ["ignored"] });
  const s = readSplatSync(splat);
  assert.equal(s.format, "splat");
  assert.equal(s.cloud.count, 50);
  assert.deepEqual(s.comments, []);
});

test("writeSplat refuses other extensions with a ConfigError naming the extension", () => {
  const cloud = randomCloud(2, 0);
  for (const [path, ext] of [[join(dir, "x.spz"), ".spz"], [join(dir, "x.compressed"), ".compressed"], [join(dir, "noext"), "(no extension)"]]) {
    assert.throws(() => writeSplat(path, cloud), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.ok(err.message.includes(`"${ext}"`), err.message);
      assert.ok(err.message.includes(path), err.message);
      return true;
    });
  }
});

test("converting the real sample through every writable format keeps the splats", () => {
  const src = readSplatSync(`${FIXTURES}playcanvas-test-sh3.compressed.ply`).cloud;
  const ply = join(dir, "sample.ply");
  writeSplat(ply, src);
  const viaPly = readSplatSync(ply).cloud;
  assertSameBits(viaPly.positions, src.positions, "positions");
  assertSameBits(viaPly.shRest, src.shRest, "shRest");
  const splat = join(dir, "sample.splat");
  writeSplat(splat, viaPly);
  const viaSplat = readSplatSync(splat).cloud;
  assert.deepEqual(viaSplat.positions, src.positions);
  assert.equal(viaSplat.shDegree, 0);
});

test("an empty file has its own error", () => {
  const path = join(dir, "empty.ply");
  writeFileSync(path, "");
  assertFileError(() => readSplatSync(path), InvalidFileError, path, /empty file/);
  assertFileError(() => parseSplat(new Uint8Array(0), "nothing.splat"), InvalidFileError, "nothing.splat", /empty file/);
});

test("unknown magic is 'unknown format'; a gzip that is not spz too", () => {
  const path = join(dir, "mystery.bin");
  writeFileSync(path, new Uint8Array(64).fill(7));
  assertFileError(() => readSplatSync(path), InvalidFileError, path, /unknown format \(first bytes 07 07 07 07/);
  // 64 bytes would be a valid .splat size, but only the .splat extension makes headerless data a splat file.
  assertFileError(() => parseSplat(gzipSync(new TextEncoder().encode("just text")), "t.gz"), InvalidFileError, "t.gz", /unknown format \(gzip data that is not spz\)/);
  assertFileError(() => parseSplat(new Uint8Array([0x1f, 0x8b, 1, 2, 3]), "bad.gz"), InvalidFileError, "bad.gz", /corrupt gzip data/);
  assertFileError(() => parseSplat(new Uint8Array(33), "odd.splat"), InvalidFileError, "odd.splat", /size 33 B is not a multiple of 32/);
});

test("a directory and a missing file give typed errors naming the path", () => {
  const sub = join(dir, "a-folder.ply");
  mkdirSync(sub);
  assertFileError(() => readSplatSync(sub), InvalidFileError, sub, /is a directory/);
  const missing = join(dir, "nope.ply");
  assertFileError(() => readSplatSync(missing), MissingFileError, missing, /no such file/);
});

test("a truncated file read from disk is an InvalidFileError naming it", () => {
  const path = join(dir, "cut.ply");
  const full = bytesOf(encodePly(randomCloud(20, 2)));
  writeFileSync(path, full.subarray(0, full.length - 100));
  assertFileError(() => readSplatSync(path), InvalidFileError, path, /truncated or bad count/);
});
