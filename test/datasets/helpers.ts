/** Writers of tiny dataset fixtures, in exactly the layouts the readers accept (DATA.md §1–§2). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createImage, writeLabelPng, writePng } from "../../src/core/image.ts";
import { writePly } from "../../src/splat/io/index.ts";
import { randomCloud } from "../helpers/clouds.ts";

/** A temp folder removed when the process exits. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `rtgs2-${prefix}-`));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function ensureParent(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
}

/** A few Gaussians as an Inria PLY. */
export function writeGaussians(path: string, count = 6, seed = 1): void {
  ensureParent(path);
  writePly(path, randomCloud(seed, count, 0));
}

/** An 8-bit RGB PNG whose red channel encodes `seed` (so a test can tell frames apart). */
export function writeRgb(path: string, width: number, height: number, seed = 0): void {
  ensureParent(path);
  const img = createImage(width, height, 3);
  for (let p = 0; p < width * height; p++) img.data.set([seed / 255, (p % 256) / 255, 0.5], p * 3);
  writePng(path, img);
}

/** A 16-bit greyscale PNG of `values` (depth in mm, label ids, instance ids); a number fills every pixel. */
export function writeU16(path: string, width: number, height: number, values: number | ArrayLike<number>): void {
  ensureParent(path);
  const data = typeof values === "number" ? new Uint16Array(width * height).fill(values) : Uint16Array.from(values);
  writeLabelPng(path, data, width, height);
}

/**
 * The header of a baseline JPEG of `width`×`height` (SOI, JFIF APP0, SOF0, EOI): enough for size probing, which
 * is all the readers do with JPEGs until a decoder is a dependency.
 */
export function writeJpegHeader(path: string, width: number, height: number): void {
  ensureParent(path);
  const app0 = [0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00];
  const sof0 = [0xff, 0xc0, 0x00, 0x11, 0x08, height >> 8, height & 0xff, width >> 8, width & 0xff, 0x03];
  for (let c = 1; c <= 3; c++) sof0.push(c, 0x11, 0x00);
  writeFileSync(path, Uint8Array.from([0xff, 0xd8, ...app0, ...sof0, 0xff, 0xd9]));
}

/** Write a text file, creating its folder. */
export function writeText(path: string, text: string): void {
  ensureParent(path);
  writeFileSync(path, text);
}

/**
 * A camera-to-world 4×4 (row-major, 16 numbers): rotation by `yaw` radians about the y axis, then translation
 * `t`. Its camera centre is `t`.
 */
export function c2wYaw(yaw: number, t: [number, number, number]): number[] {
  const c = Math.cos(yaw),
    s = Math.sin(yaw);
  return [c, 0, s, t[0], 0, 1, 0, t[1], -s, 0, c, t[2], 0, 0, 0, 1];
}

/** A 4×4 as ScanNet writes it: four lines of four numbers, −∞ as `-inf`. */
export function matrixLines(m: readonly number[]): string {
  const text = m.map((v) => (v === -Infinity ? "-inf" : String(v)));
  return [0, 1, 2, 3].map((r) => text.slice(r * 4, r * 4 + 4).join(" ")).join("\n") + "\n";
}

export function near(actual: number, expected: number, tol = 1e-6): boolean {
  return Math.abs(actual - expected) <= tol;
}
