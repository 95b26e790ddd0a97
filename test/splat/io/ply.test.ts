import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError, InvalidFileError, UnsupportedFormatError } from "../../../src/core/errors.ts";
import { allocateCloud, type ExtraArray, type ShDegree } from "../../../src/splat/cloud.ts";
import { parsePlyHeader } from "../../../src/splat/io/ply-header.ts";
import { encodePly, readPly, writePly } from "../../../src/splat/io/ply.ts";
import { memorySource } from "../../../src/splat/io/source.ts";
import {
  assertFileError,
  assertSameBits,
  CORE_PROPS,
  floatRows,
  plyBytes,
  randomCloud,
  tempDir,
  type PlyType,
} from "./helpers.ts";

const dir = tempDir();

function concat(chunks: Iterable<Uint8Array>): Uint8Array {
  const list = [...chunks];
  const out = new Uint8Array(list.reduce((a, c) => a + c.length, 0));
  let at = 0;
  for (const c of list) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** One valid core row: position, colour, opacity, scales, identity-ish rotation. */
function coreRow(i: number): number[] {
  return [i, i + 0.5, -i, 0.1, 0.2, 0.3, 1.5, -3, -4, -5, 1, 0, 0, 0];
}

test("ply write → read is bit-exact for every SH degree, extras of every type and comments", () => {
  for (const degree of [0, 1, 2, 3] as ShDegree[]) {
    const cloud = randomCloud(300, degree, 10 + degree);
    const n = cloud.count;
    const extras: [string, ExtraArray][] = [
      ["f_pc_0", new Float32Array(n).map((_, i) => Math.sin(i))],
      ["f_pc_1", new Float32Array(n).map((_, i) => -Math.cos(i) / 3)],
      ["label", new Uint16Array(n).map((_, i) => (i % 7 === 0 ? 65535 : i % 20))],
      ["label_confidence", new Float32Array(n).map((_, i) => (i % 11) / 10)],
      ["weight64", new Float64Array(n).map((_, i) => Math.PI * i * 1e-9)],
      ["i8", new Int8Array(n).map((_, i) => (i % 256) - 128)],
      ["u8", new Uint8Array(n).map((_, i) => i % 256)],
      ["i16", new Int16Array(n).map((_, i) => -i * 97)],
      ["i32", new Int32Array(n).map((_, i) => -i * 1_000_003)],
      ["u32", new Uint32Array(n).map((_, i) => 4_000_000_000 - i)],
    ];
    for (const [name, arr] of extras) cloud.extras.set(name, arr);
    const comments = ["rtgs2 encoder 3f9a0c", "made by a test", "", "  leading spaces kept"];
    const path = join(dir, `roundtrip-${degree}.ply`);
    writePly(path, cloud, { comments });

    const back = readPly(memorySource(readFileSync(path), path));
    assert.deepEqual(back.comments, comments);
    assert.equal(back.cloud.count, n);
    assert.equal(back.cloud.shDegree, degree);
    for (const f of ["positions", "logScales", "rotations", "opacityLogits", "shDc", "shRest"] as const) {
      assertSameBits(back.cloud[f], cloud[f], `degree ${degree} ${f}`);
    }
    assert.deepEqual([...back.cloud.extras.keys()], extras.map(([name]) => name));
    for (const [name, arr] of extras) assertSameBits(back.cloud.extras.get(name)!, arr, `extra ${name}`);
  }
});

test("ply writer uses the Inria property order, float everywhere, zero normals, extras after rot_3", () => {
  const cloud = randomCloud(3, 1);
  cloud.extras.set("label", new Uint16Array([1, 2, 65535]));
  const bytes = concat(encodePly(cloud, { comments: ["rtgs2 encoder abc"] }));
  const header = parsePlyHeader(memorySource(bytes, "mem.ply"));
  const vertex = header.elements[0];
  const names = vertex.properties.map((p) => p.name);
  const rest = Array.from({ length: 9 }, (_, j) => `f_rest_${j}`);
  assert.deepEqual(names, ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2", ...rest, "opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3", "label"]);
  assert.ok(vertex.properties.slice(0, -1).every((p) => p.type === "float"));
  assert.equal(vertex.properties.at(-1)!.type, "ushort");
  assert.deepEqual(header.comments, ["rtgs2 encoder abc"]);
  assert.equal(vertex.stride, (3 + 3 + 3 + 9 + 1 + 3 + 4) * 4 + 2);
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  for (let i = 0; i < 3; i++) for (let a = 0; a < 3; a++) assert.equal(dv.getFloat32(vertex.dataOffset + i * vertex.stride + 12 + 4 * a, true), 0);
  // f_rest is channel-major in the file: f_rest_3 is coefficient 0 of the green channel.
  assert.equal(dv.getFloat32(vertex.dataOffset + (9 + 3) * 4, true), cloud.shRest[0 * 3 + 1]);
  assert.equal(bytes.length, vertex.dataOffset + 3 * vertex.stride);
});

test("ply reader accepts any property order, any scalar type, aliases and elements around vertex", () => {
  // Properties shuffled, core ones in double/float32, normals present, plus elements before and after vertex.
  const props: [PlyType, string][] = [
    ["float32", "rot_2"], ["uint8", "label_small"], ["double", "x"], ["float", "nz"], ["float", "y"], ["float", "z"],
    ["float", "scale_2"], ["float", "scale_0"], ["float", "scale_1"], ["float", "opacity"], ["float", "f_dc_2"],
    ["float", "f_dc_0"], ["float", "f_dc_1"], ["float", "rot_0"], ["float", "rot_1"], ["float", "rot_3"],
  ];
  const body: number[] = [];
  const push = (type: PlyType, v: number) => {
    const b = new DataView(new ArrayBuffer(8));
    if (type === "double") {
      b.setFloat64(0, v, true);
      body.push(...new Uint8Array(b.buffer));
    } else if (type === "uint8") body.push(v);
    else if (type === "int16") {
      b.setInt16(0, v, true);
      body.push(...new Uint8Array(b.buffer, 0, 2));
    } else {
      b.setFloat32(0, v, true);
      body.push(...new Uint8Array(b.buffer, 0, 4));
    }
  };
  push("int16", -7); // "camera" element row before vertex
  const values: Record<string, number>[] = [];
  for (let i = 0; i < 2; i++) {
    const v: Record<string, number> = {
      rot_0: 2, rot_1: 0, rot_2: 0, rot_3: 0, label_small: 200 + i, x: 1.25 + i, nz: 9, y: -2, z: 3, scale_0: -1, scale_1: -2, scale_2: -3,
      opacity: 0.5, f_dc_0: 0.1, f_dc_1: 0.2, f_dc_2: 0.3,
    };
    values.push(v);
    for (const [type, name] of props) push(type, v[name]);
  }
  push("uint8", 42); // "extra" element row after vertex
  const bytes = plyBytes(
    [{ name: "camera", count: 1, props: [["int16", "id"]] }, { name: "vertex", count: 2, props }, { name: "extra", count: 1, props: [["uchar", "k"]] }],
    new Uint8Array(body),
  );
  const { cloud } = readPly(memorySource(bytes, "shuffled.ply"));
  assert.equal(cloud.count, 2);
  assert.equal(cloud.shDegree, 0);
  assert.deepEqual([...cloud.positions], [1.25, -2, 3, 2.25, -2, 3]);
  assert.deepEqual([...cloud.logScales.subarray(0, 3)], [-1, -2, -3]);
  // rot (2, 0, 0, 0) is normalized on load.
  assert.deepEqual([...cloud.rotations.subarray(0, 4)], [1, 0, 0, 0]);
  assert.deepEqual([...cloud.extras.keys()], ["label_small"]);
  const label = cloud.extras.get("label_small")!;
  assert.ok(label instanceof Uint8Array);
  assert.deepEqual([...label], [200, 201]);
});

test("ply reader maps channel-major f_rest to coefficient-major, channel-innermost SH", () => {
  for (const degree of [1, 2, 3] as ShDegree[]) {
    const k = (degree + 1) ** 2 - 1;
    const rest: [PlyType, string][] = Array.from({ length: 3 * k }, (_, j) => ["float", `f_rest_${j}`]);
    const row = [...coreRow(0), ...Array.from({ length: 3 * k }, (_, j) => j)];
    const { cloud } = readPly(memorySource(plyBytes([{ name: "vertex", count: 1, props: [...CORE_PROPS, ...rest] }], floatRows([row])), "rest.ply"));
    assert.equal(cloud.shDegree, degree);
    for (let c = 0; c < 3; c++) for (let j = 0; j < k; j++) assert.equal(cloud.shRest[j * 3 + c], c * k + j);
  }
});

test("ply reader normalizes quaternions and keeps unit ones bit-exact", () => {
  const rows = [coreRow(0), coreRow(1), coreRow(2)];
  rows[0].splice(10, 4, 0.62, 0, 0, 0);
  rows[1].splice(10, 4, 0, 0, 0, 0);
  rows[2].splice(10, 4, 0.6, 0.8, 0, 0);
  const { cloud } = readPly(memorySource(plyBytes([{ name: "vertex", count: 3, props: CORE_PROPS }], floatRows(rows)), "q.ply"));
  assert.deepEqual([...cloud.rotations], [1, 0, 0, 0, 1, 0, 0, 0, Math.fround(0.6), Math.fround(0.8), 0, 0]);
});

test("ply reader returns an empty cloud for a vertex count of 0", () => {
  const { cloud } = readPly(memorySource(plyBytes([{ name: "vertex", count: 0, props: CORE_PROPS }], new Uint8Array(0)), "empty-vertex.ply"));
  assert.equal(cloud.count, 0);
});

test("ply: truncated body is an InvalidFileError naming the file", () => {
  const good = concat(encodePly(randomCloud(10, 0)));
  const file = "truncated.ply";
  assertFileError(() => readPly(memorySource(good.subarray(0, good.length - 7), file)), InvalidFileError, file, /truncated/);
});

test("ply: a header count larger than the file can hold fails before reading", () => {
  const bytes = plyBytes([{ name: "vertex", count: 1000, props: CORE_PROPS }], floatRows([coreRow(0), coreRow(1)]));
  assertFileError(() => readPly(memorySource(bytes, "count.ply")), InvalidFileError, "count.ply", /1000 rows of 56 B .* file has only \d+ B/);
});

test("ply: a count of 2^40 is refused at once, before any allocation", () => {
  const bytes = plyBytes([{ name: "vertex", count: 2 ** 40, props: CORE_PROPS }], floatRows([coreRow(0)]));
  const before = process.memoryUsage().arrayBuffers;
  assertFileError(() => readPly(memorySource(bytes, "huge.ply")), InvalidFileError, "huge.ply", /1099511627776 rows/);
  assert.ok(process.memoryUsage().arrayBuffers - before < 1 << 20, "should not allocate");
  // A count past 2^53 cannot even be represented exactly: refused as a bad count.
  const absurd = plyBytes([{ name: "vertex", count: "123456789012345678901234567890", props: CORE_PROPS }], new Uint8Array(0));
  assertFileError(() => readPly(memorySource(absurd, "absurd.ply")), InvalidFileError, "absurd.ply", /bad count/);
});

test("ply: NaN and Inf floats are errors naming the property and the splat", () => {
  const rows = [coreRow(0), coreRow(1), coreRow(2), coreRow(3), coreRow(4), coreRow(5)];
  rows[5][6] = NaN; // opacity of splat 5
  const nan = plyBytes([{ name: "vertex", count: 6, props: CORE_PROPS }], floatRows(rows));
  assertFileError(() => readPly(memorySource(nan, "nan.ply")), InvalidFileError, "nan.ply", /NaN in property opacity of splat 5/);
  rows[5][6] = 0;
  rows[2][8] = -Infinity; // scale_1 of splat 2
  const inf = plyBytes([{ name: "vertex", count: 6, props: CORE_PROPS }], floatRows(rows));
  assertFileError(() => readPly(memorySource(inf, "inf.ply")), InvalidFileError, "inf.ply", /-Infinity in property scale_1 of splat 2/);
  // Extras are checked too.
  const extra = plyBytes([{ name: "vertex", count: 1, props: [...CORE_PROPS, ["float", "f_pc_0"]] }], floatRows([[...coreRow(0), Infinity]]));
  assertFileError(() => readPly(memorySource(extra, "extra.ply")), InvalidFileError, "extra.ply", /Infinity in property f_pc_0 of splat 0/);
});

test("ply: an unknown property type is an InvalidFileError naming the type", () => {
  const bytes = plyBytes([{ name: "vertex", count: 1, props: [...CORE_PROPS, ["float16", "f_pc_0"]] }], floatRows([coreRow(0)]));
  assertFileError(() => parsePlyHeader(memorySource(bytes, "type.ply")), InvalidFileError, "type.ply", /unknown PLY property type "float16" for property f_pc_0/);
});

test("ply: ascii and big-endian formats, and list properties, are unsupported with a clear reason", () => {
  const ascii = plyBytes([{ name: "vertex", count: 0, props: CORE_PROPS }], new Uint8Array(0), { format: "ascii 1.0" });
  assertFileError(() => parsePlyHeader(memorySource(ascii, "ascii.ply")), UnsupportedFormatError, "ascii.ply", /format "ascii 1.0" is not supported/);
  const big = plyBytes([{ name: "vertex", count: 0, props: CORE_PROPS }], new Uint8Array(0), { format: "binary_big_endian 1.0" });
  assertFileError(() => parsePlyHeader(memorySource(big, "big.ply")), UnsupportedFormatError, "big.ply", /binary_big_endian/);
  const list = new TextEncoder().encode("ply\nformat binary_little_endian 1.0\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n");
  assertFileError(() => parsePlyHeader(memorySource(list, "list.ply")), UnsupportedFormatError, "list.ply", /list property "vertex_indices" in element face/);
});

test("ply: malformed headers name the problem", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const cases: [string, string, RegExp][] = [
    ["nomagic.ply", "plx\nformat binary_little_endian 1.0\nend_header\n", /wrong magic/],
    ["noend.ply", "ply\nformat binary_little_endian 1.0\nelement vertex 1\n", /no end_header/],
    ["noformat.ply", "ply\nelement vertex 0\nend_header\n", /no format line/],
    ["orphan.ply", "ply\nformat binary_little_endian 1.0\nproperty float x\nend_header\n", /property before any element/],
    ["dup.ply", "ply\nformat binary_little_endian 1.0\nelement vertex 0\nproperty float x\nproperty float x\nend_header\n", /duplicate property "x"/],
    ["junk.ply", "ply\nformat binary_little_endian 1.0\nbogus line\nend_header\n", /line 3: unexpected line "bogus line"/],
    ["neg.ply", "ply\nformat binary_little_endian 1.0\nelement vertex -5\nend_header\n", /bad count "-5"/],
  ];
  for (const [file, text, problem] of cases) assertFileError(() => parsePlyHeader(memorySource(enc(text), file)), InvalidFileError, file, problem);
  // A header that never ends within 64 KiB is refused without scanning the rest of a large file.
  const long = enc("ply\nformat binary_little_endian 1.0\n" + "comment padding padding padding\n".repeat(3000));
  assertFileError(() => parsePlyHeader(memorySource(long, "long.ply")), InvalidFileError, "long.ply", /no end_header line in its first 65536 bytes/);
});

test("ply: windows line endings are accepted", () => {
  const text = "ply\r\nformat binary_little_endian 1.0\r\ncomment hi\r\nelement vertex 0\r\n" + CORE_PROPS.map(([t, n]) => `property ${t} ${n}\r\n`).join("") + "end_header\r\n";
  const header = parsePlyHeader(memorySource(new TextEncoder().encode(text), "crlf.ply"));
  assert.deepEqual(header.comments, ["hi"]);
  assert.equal(header.elements[0].properties.length, 14);
});

test("ply: missing 3DGS properties, a bad f_rest count and a missing vertex element are errors", () => {
  const noOpacity = CORE_PROPS.filter(([, n]) => n !== "opacity" && n !== "rot_3");
  const a = plyBytes([{ name: "vertex", count: 0, props: noOpacity }], new Uint8Array(0));
  assertFileError(() => readPly(memorySource(a, "a.ply")), InvalidFileError, "a.ply", /lacks 3DGS properties: opacity, rot_3/);
  const rest: [PlyType, string][] = Array.from({ length: 10 }, (_, j) => ["float", `f_rest_${j}`]);
  const b = plyBytes([{ name: "vertex", count: 0, props: [...CORE_PROPS, ...rest] }], new Uint8Array(0));
  assertFileError(() => readPly(memorySource(b, "b.ply")), InvalidFileError, "b.ply", /10 f_rest properties; expected 0, 9, 24 or 45/);
  const gap: [PlyType, string][] = Array.from({ length: 9 }, (_, j) => ["float", `f_rest_${j === 4 ? 40 : j}`]);
  const c = plyBytes([{ name: "vertex", count: 0, props: [...CORE_PROPS, ...gap] }], new Uint8Array(0));
  assertFileError(() => readPly(memorySource(c, "c.ply")), InvalidFileError, "c.ply", /no f_rest_4/);
  const d = plyBytes([{ name: "points", count: 0, props: CORE_PROPS }], new Uint8Array(0));
  assertFileError(() => readPly(memorySource(d, "d.ply")), InvalidFileError, "d.ply", /no vertex element/);
});

test("ply writer refuses NaN, comments with line breaks and clashing extra names; leaves no file behind", () => {
  const cloud = randomCloud(4, 0);
  cloud.positions[5] = NaN;
  const path = join(dir, "bad.ply");
  assertFileError(() => writePly(path, cloud), InvalidFileError, path, /NaN in positions of splat 1/);
  assert.throws(() => writePly(path, randomCloud(2, 0), { comments: ["two\nlines"] }), ConfigError);
  const clash = randomCloud(2, 0);
  clash.extras.set("opacity", new Float32Array(2));
  assert.throws(() => writePly(path, clash), /clashes with a 3DGS property/);
  const spaced = randomCloud(2, 0);
  spaced.extras.set("my label", new Uint16Array(2));
  assert.throws(() => writePly(path, spaced), ConfigError);
  assert.throws(() => readFileSync(path), /ENOENT/);
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes("tmp")), []);
});

test("ply writer streams a large cloud in bounded chunks", () => {
  const cloud = allocateCloud(200_000, 0);
  const sizes = [...encodePly(cloud)].map((c) => c.length);
  assert.ok(sizes.length >= 4, `expected several chunks, got ${sizes.length}`);
  assert.ok(Math.max(...sizes) <= 65536 * 17 * 4);
});
