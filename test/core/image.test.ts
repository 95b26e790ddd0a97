import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import {
  colorizeLabels,
  createImage,
  decodeLabelPng,
  decodePng,
  decodePngRaw,
  defaultPalette,
  encodeLabelPng,
  encodePng,
  IGNORE_LABEL,
  readLabelPng,
  readPng,
  readPngRaw,
  validateImage,
  writeLabelPng,
  writePng,
  type Image,
} from "../../src/core/image.ts";
import { ConfigError, InvalidFileError, MissingFileError, ShapeError } from "../../src/core/errors.ts";
import { Rng } from "../../src/core/rng.ts";

const dir = mkdtempSync(join(tmpdir(), "rtgs2-image-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

function randomImage(w: number, h: number, c: number, seed: number): Image {
  const img = createImage(w, h, c);
  new Rng(seed).fillUniform(img.data);
  return img;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// A minimal, independent PNG writer (stored rows, filter 0) so decoding is checked against bytes this file
// builds itself, including colour types and depths our encoder never writes.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "latin1");
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
/** Recompute the IHDR CRC after editing the header, so the edit is a valid file with a bad size. */
function fixIhdrCrc(png: Uint8Array): void {
  new DataView(png.buffer, png.byteOffset).setUint32(29, crc32(png.subarray(12, 29)));
}
function buildPng(
  w: number,
  h: number,
  depth: number,
  colorType: number,
  rows: Uint8Array[],
  extra: Buffer[] = [],
): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = depth;
  ihdr[9] = colorType;
  const raw = Buffer.concat(rows.map((r) => Buffer.concat([Buffer.of(0), Buffer.from(r)])));
  return Buffer.concat([
    Buffer.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    chunk("IHDR", ihdr),
    ...extra,
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", new Uint8Array(0)),
  ]);
}

test("8-bit round trip is within half a step for 1, 2, 3 and 4 channels", () => {
  for (const c of [1, 2, 3, 4]) {
    const img = randomImage(13, 7, c, c);
    const back = decodePng(encodePng(img));
    assert.equal(back.bitDepth, 8);
    assert.deepEqual([back.width, back.height, back.channels], [13, 7, c]);
    assert.ok(maxAbsDiff(back.data, img.data) <= 0.5 / 255 + 1e-7, `channels ${c}`);
  }
});

test("16-bit round trip is within half a step for 1, 2, 3 and 4 channels", () => {
  for (const c of [1, 2, 3, 4]) {
    const img = randomImage(9, 11, c, 10 + c);
    const back = decodePng(encodePng(img, { bitDepth: 16 }));
    assert.equal(back.bitDepth, 16);
    assert.equal(back.channels, c);
    assert.ok(maxAbsDiff(back.data, img.data) <= 0.5 / 65535 + 1e-7, `channels ${c}`);
  }
});

test("encoding clamps to [0, 1] and writes NaN as 0; exact steps are exact", () => {
  const img: Image = { width: 6, height: 1, channels: 1, data: new Float32Array([-1, 2, NaN, 0, 1, 128 / 255]) };
  const back = decodePngRaw(encodePng(img));
  assert.deepEqual(Array.from(back.data), [0, 255, 0, 0, 255, 128]);
  const back16 = decodePngRaw(encodePng(img, { bitDepth: 16 }));
  assert.ok(back16.data instanceof Uint16Array);
  assert.deepEqual(Array.from(back16.data).slice(0, 5), [0, 65535, 0, 0, 65535]);
});

test("pixel layout is channel-last, row-major (pixel (x, y) at (y·W + x)·C)", () => {
  const img = createImage(3, 2, 3);
  img.data.set([1, 0, 0], (1 * 3 + 2) * 3); // pixel x = 2, y = 1 is red
  const raw = decodePngRaw(encodePng(img));
  assert.deepEqual(Array.from(raw.data.subarray(15, 18)), [255, 0, 0]);
  assert.equal(Array.from(raw.data).reduce((a, b) => a + b, 0), 255);
});

test("writePng and readPng go through a file atomically", () => {
  const path = join(dir, "sub", "rgb.png");
  const img = randomImage(32, 24, 3, 5);
  writePng(path, img, { bitDepth: 16 });
  const back = readPng(path);
  assert.equal(back.bitDepth, 16);
  assert.ok(maxAbsDiff(back.data, img.data) <= 0.5 / 65535 + 1e-7);
  writePng(path, img); // overwrite in place
  assert.equal(readPng(path).bitDepth, 8);
  assert.deepEqual(readdirSync(join(dir, "sub")), ["rgb.png"], "no temporary files left behind");
});

test("label maps round-trip exactly through 16-bit PNG, ignore label included", () => {
  const w = 37,
    h = 23;
  const labels = new Uint16Array(w * h);
  const r = new Rng(3);
  for (let i = 0; i < labels.length; i++) labels[i] = r.int(65536);
  labels[0] = 0;
  labels[1] = IGNORE_LABEL;
  labels[2] = 1;
  labels[3] = 65534;
  const decoded = decodeLabelPng(encodeLabelPng(labels, w, h));
  assert.deepEqual([decoded.width, decoded.height], [w, h]);
  assert.deepEqual(decoded.labels, labels);

  const path = join(dir, "labels.png");
  writeLabelPng(path, labels, w, h);
  assert.deepEqual(readLabelPng(path).labels, labels);
  assert.equal(readPngRaw(path).bitDepth, 16);

  // A view into a larger buffer must encode only its own elements.
  const big = new Uint16Array(100).map((_, i) => i * 7);
  const view = big.subarray(10, 22);
  assert.deepEqual(decodeLabelPng(encodeLabelPng(view, 4, 3)).labels, view);
});

test("label maps read from 8-bit greyscale PNGs (dataset class images)", () => {
  const img: Image = { width: 4, height: 1, channels: 1, data: new Float32Array([0, 1 / 255, 40 / 255, 1]) };
  assert.deepEqual(Array.from(decodeLabelPng(encodePng(img)).labels), [0, 1, 40, 255]);
});

test("label maps refuse colour, alpha and palette PNGs", () => {
  assert.throws(() => decodeLabelPng(encodePng(randomImage(2, 2, 3, 1)), "rgb.png"), (e: unknown) => {
    assert.ok(e instanceof InvalidFileError);
    assert.match(e.message, /^rgb\.png: expected a greyscale label map, got a 3-channel PNG/);
    return true;
  });
  assert.throws(() => decodeLabelPng(encodePng(randomImage(2, 2, 2, 1))), InvalidFileError);
  const palette = chunk("PLTE", Uint8Array.of(255, 0, 0, 0, 255, 0));
  const pal = buildPng(2, 1, 8, 3, [Uint8Array.of(1, 0)], [palette]);
  assert.throws(() => decodeLabelPng(pal, "pal.png"), /palette/);
});

test("decoding hand-built PNGs: 16-bit grey, 4-bit grey, palette, RGB with tRNS", () => {
  const g16 = buildPng(2, 1, 16, 0, [Uint8Array.of(0x12, 0x34, 0xff, 0xff)]);
  const raw16 = decodePngRaw(g16);
  assert.deepEqual(Array.from(raw16.data), [0x1234, 0xffff]);
  assert.deepEqual(Array.from(decodeLabelPng(g16).labels), [0x1234, 0xffff]);
  assert.ok(Math.abs(decodePng(g16).data[0] - 0x1234 / 65535) < 1e-7);

  const g4 = buildPng(3, 1, 4, 0, [Uint8Array.of(0x0f, 0x80)]); // samples 0, 15, 8
  const d4 = decodePng(g4);
  assert.equal(d4.bitDepth, 4);
  assert.deepEqual(Array.from(d4.data).map((v) => Math.round(v * 15)), [0, 15, 8]);
  assert.deepEqual(Array.from(decodeLabelPng(g4).labels), [0, 15, 8]);

  const plte = chunk("PLTE", Uint8Array.of(10, 20, 30, 200, 100, 0));
  const pal = decodePng(buildPng(2, 1, 8, 3, [Uint8Array.of(1, 0)], [plte]));
  assert.equal(pal.channels, 3);
  assert.deepEqual(Array.from(pal.data).map((v) => Math.round(v * 255)), [200, 100, 0, 10, 20, 30]);

  const trns = chunk("tRNS", Uint8Array.of(0, 10, 0, 20, 0, 30)); // colour (10, 20, 30) is transparent
  const rgb = decodePngRaw(buildPng(2, 1, 8, 2, [Uint8Array.of(10, 20, 30, 1, 2, 3)], [trns]));
  assert.equal(rgb.channels, 4);
  assert.deepEqual(Array.from(rgb.data), [0, 0, 0, 0, 1, 2, 3, 255]);
});

test("bad PNG files give InvalidFileError naming the file", () => {
  const good = encodePng(randomImage(16, 16, 3, 2));
  const cases: [string, Uint8Array, RegExp][] = [
    ["empty.png", new Uint8Array(0), /empty file/],
    ["text.png", Buffer.from("hello, this is not a png at all"), /not a PNG file/],
    ["jpeg.png", Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46), /not a PNG file/],
    ["sig-only.png", good.subarray(0, 8), /truncated/],
    ["half.png", good.subarray(0, Math.floor(good.length / 2)), /truncated/],
    ["no-iend.png", good.subarray(0, good.length - 12), /truncated/],
    ["one-short.png", good.subarray(0, good.length - 1), /truncated/],
  ];
  const crcBad = Uint8Array.from(good);
  crcBad[45] ^= 0xff; // inside the IDAT data: the chunk CRC no longer matches
  cases.push(["crc.png", crcBad, /CRC mismatch in chunk IDAT/]);
  const huge = Uint8Array.from(good);
  new DataView(huge.buffer).setUint32(16, 100000); // width
  new DataView(huge.buffer).setUint32(20, 100000); // height
  fixIhdrCrc(huge);
  cases.push(["huge.png", huge, /exceeds/]);
  const zero = Uint8Array.from(good);
  new DataView(zero.buffer).setUint32(16, 0);
  fixIhdrCrc(zero);
  cases.push(["zero.png", zero, /zero size/]);
  const noIdat = buildPng(1, 1, 8, 0, [Uint8Array.of(0)]);
  const withoutIdat = Buffer.concat([noIdat.subarray(0, 33), noIdat.subarray(noIdat.length - 12)]);
  cases.push(["no-idat.png", withoutIdat, /no image data/]);

  for (const [name, bytes, why] of cases) {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    for (const read of [readPng, readPngRaw, readLabelPng]) {
      assert.throws(
        () => read(path),
        (e: unknown) => {
          assert.ok(e instanceof InvalidFileError, `${name}: ${String(e)}`);
          assert.equal(e.file, path);
          assert.ok(e.message.startsWith(`${path}: `));
          assert.match(e.reason, why, name);
          return true;
        },
      );
    }
  }
});

test("missing files and directories are reported as such", () => {
  assert.throws(() => readPng(join(dir, "nope.png")), MissingFileError);
  assert.throws(() => readLabelPng(dir), (e: unknown) => e instanceof InvalidFileError && /directory/.test(e.message));
});

test("a data length that does not match width × height × channels is a ShapeError", () => {
  const img: Image = { width: 4, height: 4, channels: 3, data: new Float32Array(47) };
  assert.throws(() => encodePng(img), ShapeError);
  assert.throws(() => writePng(join(dir, "never.png"), img), ShapeError);
  assert.ok(!readdirSync(dir).includes("never.png"));
  assert.throws(() => validateImage({ width: 0, height: 4, channels: 3, data: new Float32Array(0) }), ShapeError);
  assert.throws(() => encodePng({ width: 1, height: 1, channels: 5, data: new Float32Array(5) }), ShapeError);
  assert.throws(() => encodeLabelPng(new Uint16Array(10), 3, 3), ShapeError);
  assert.throws(() => writeLabelPng(join(dir, "never.png"), new Uint16Array(10), 3, 3), ShapeError);
  assert.throws(() => colorizeLabels(new Uint16Array(5), 2, 2), ShapeError);
  assert.throws(() => encodePng(randomImage(2, 2, 3, 0), { bitDepth: 12 as 8 }), ConfigError);
  assert.throws(() => createImage(0, 1, 1), ConfigError);
});

test("colorizeLabels maps classes through the palette, wraps past its end and paints ignore", () => {
  const palette = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
  ] as const;
  const labels = Uint16Array.of(0, 1, 2, 3, IGNORE_LABEL, 5);
  const img = colorizeLabels(labels, 3, 2, palette, [255, 255, 255]);
  assert.deepEqual([img.width, img.height, img.channels], [3, 2, 3]);
  assert.deepEqual(
    Array.from(img.data),
    [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1],
  );
  const def = colorizeLabels(Uint16Array.of(IGNORE_LABEL), 1, 1);
  assert.deepEqual(Array.from(def.data), [0, 0, 0]);
  assert.throws(() => colorizeLabels(labels, 3, 2, []), ConfigError);
});

test("defaultPalette is deterministic, in range and has distinct colours", () => {
  const p = defaultPalette(40);
  assert.deepEqual(p, defaultPalette(40));
  assert.equal(new Set(p.map((c) => c.join(","))).size, 40);
  for (const c of p) for (const v of c) assert.ok(Number.isInteger(v) && v >= 0 && v <= 255);
});

test("an encoded PNG is a standard file (signature, IHDR depth and colour type)", () => {
  const path = join(dir, "grey16.png");
  writePng(path, randomImage(5, 5, 1, 1), { bitDepth: 16 });
  const bytes = readFileSync(path);
  assert.deepEqual(Array.from(bytes.subarray(1, 4)), [0x50, 0x4e, 0x47]);
  assert.equal(bytes.toString("latin1", 12, 16), "IHDR");
  assert.equal(bytes[24], 16); // bit depth
  assert.equal(bytes[25], 0); // greyscale
});
