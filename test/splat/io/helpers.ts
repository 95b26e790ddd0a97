/** Shared helpers for the splat I/O tests: seeded clouds, hand-built PLY bytes, temp dirs, error assertions. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { allocateCloud, type GaussianCloud, type ShDegree } from "../../../src/splat/cloud.ts";

export const FIXTURES = new URL("../../fixtures/", import.meta.url).pathname;

/** A temp directory removed when the test file ends. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-io-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
export function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random cloud with unit quaternions and values in the ranges real scenes have. */
export function randomCloud(n: number, degree: ShDegree, seed = 1): GaussianCloud {
  const r = rng(seed);
  const u = (a: number, b: number) => a + (b - a) * r();
  const c = allocateCloud(n, degree);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 3; a++) {
      c.positions[i * 3 + a] = u(-5, 5);
      c.logScales[i * 3 + a] = u(-6, -1);
      c.shDc[i * 3 + a] = u(-1.5, 1.5);
    }
    const q = [u(-1, 1), u(-1, 1), u(-1, 1), u(-1, 1)];
    const norm = Math.hypot(...q);
    for (let j = 0; j < 4; j++) c.rotations[i * 4 + j] = q[j] / norm;
    c.opacityLogits[i] = u(-4, 4);
  }
  for (let j = 0; j < c.shRest.length; j++) c.shRest[j] = u(-0.5, 0.5);
  return c;
}

type Ctor = new (...args: never[]) => Error;

/**
 * Assert that `fn` throws an error of class `cls` whose `file` is `file`, whose message names the file, and
 * whose message matches `problem`.
 */
export function assertFileError(fn: () => unknown, cls: Ctor, file: string, problem: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`);
    assert.equal((err as { file?: string }).file, file);
    assert.ok(err.message.includes(file), `message does not name the file: ${err.message}`);
    assert.match(err.message, problem);
    return true;
  });
}

export type PlyType = "char" | "uchar" | "short" | "ushort" | "int" | "uint" | "float" | "double" | string;

/** A PLY file built by hand: header text from `elements`, then `body` verbatim. */
export function plyBytes(
  elements: { name: string; count: number | string; props: [PlyType, string][] }[],
  body: Uint8Array,
  { comments = [] as string[], format = "binary_little_endian 1.0" } = {},
): Uint8Array {
  const lines = ["ply", `format ${format}`, ...comments.map((c) => `comment ${c}`)];
  for (const e of elements) {
    lines.push(`element ${e.name} ${e.count}`);
    for (const [type, name] of e.props) lines.push(`property ${type} ${name}`);
  }
  lines.push("end_header", "");
  const head = new TextEncoder().encode(lines.join("\n"));
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/** The 14 required 3DGS properties as float, in Inria order (without normals or f_rest). */
export const CORE_PROPS: [PlyType, string][] = [
  "x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3",
].map((name) => ["float", name]);

/** Little-endian float32 rows. */
export function floatRows(rows: number[][]): Uint8Array {
  const flat = new Float32Array(rows.flat());
  return new Uint8Array(flat.buffer);
}

/** Byte-level equality of two typed arrays (bit-exact, NaN-safe). */
export function assertSameBits(actual: ArrayBufferView, expected: ArrayBufferView, what: string): void {
  assert.equal(actual.constructor.name, expected.constructor.name, `${what}: array class`);
  const a = new Uint8Array(actual.buffer, actual.byteOffset, actual.byteLength);
  const b = new Uint8Array(expected.buffer, expected.byteOffset, expected.byteLength);
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) assert.fail(`${what}: byte ${i} differs`);
}

/** Largest |a − b| over two arrays of equal length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
