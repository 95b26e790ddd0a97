/**
 * antimatter15 `.splat` (antimatter15/splat `convert.py`, `main.js`): no header, 32 bytes per splat — float32
 * position, float32 linear scale, RGBA bytes, quaternion bytes (w first). It has no SH beyond DC and no extras.
 */
import { InvalidFileError } from "../../core/errors.ts";
import { writeFileAtomic } from "../../core/fs.ts";
import { allocateCloud, clampedLogit, SH_C0, sigmoid, validateCloud, type GaussianCloud } from "../cloud.ts";
import { normalizeQuaternions, ROWS_PER_CHUNK } from "./common.ts";
import { view, type ByteSource } from "./source.ts";

export const SPLAT_ROW_BYTES = 32;

/**
 * Read a `.splat` file. Scales of exactly 0 (float32 underflow of a tiny Gaussian) are clamped to 1e-30 so their
 * log stays finite; negative, NaN or infinite floats are errors.
 * @throws InvalidFileError naming the file for a size that is not a non-zero multiple of 32, or a bad float.
 */
export function readSplatFile(source: ByteSource): GaussianCloud {
  const file = source.name;
  if (source.size === 0 || source.size % SPLAT_ROW_BYTES !== 0) {
    throw new InvalidFileError(file, `.splat size ${source.size} B is not a non-zero multiple of 32 (truncated?)`);
  }
  const n = source.size / SPLAT_ROW_BYTES;
  const cloud = allocateCloud(n, 0);
  const { positions, logScales, rotations, opacityLogits, shDc } = cloud;
  const FIELDS = ["x", "y", "z", "scale_x", "scale_y", "scale_z"];
  for (let first = 0; first < n; first += ROWS_PER_CHUNK) {
    const rows = Math.min(ROWS_PER_CHUNK, n - first);
    const bytes = source.read(first * SPLAT_ROW_BYTES, rows * SPLAT_ROW_BYTES);
    const dv = view(bytes);
    for (let r = 0; r < rows; r++) {
      const i = first + r;
      const at = r * SPLAT_ROW_BYTES;
      for (let a = 0; a < 6; a++) {
        const v = dv.getFloat32(at + 4 * a, true);
        if (v - v !== 0 || (a >= 3 && v < 0)) throw new InvalidFileError(file, `bad value ${v} in ${FIELDS[a]} of splat ${i}`);
        if (a < 3) positions[i * 3 + a] = v;
        else logScales[i * 3 + a - 3] = Math.log(Math.max(v, 1e-30));
      }
      for (let c = 0; c < 3; c++) shDc[i * 3 + c] = (bytes[at + 24 + c] / 255 - 0.5) / SH_C0;
      opacityLogits[i] = clampedLogit(bytes[at + 27] / 255);
      // main.js decodes (b − 128)/128, the exact inverse of convert.py's q·128 + 128.
      for (let j = 0; j < 4; j++) rotations[i * 4 + j] = (bytes[at + 28 + j] - 128) / 128;
    }
  }
  normalizeQuaternions(rotations);
  validateCloud(cloud, file);
  return cloud;
}

/**
 * Encode `cloud` as `.splat` rows in bounded chunks. Unlike convert.py, splats keep their order (convert.py sorts
 * by size × opacity) so indices still match the source, and bytes are rounded rather than truncated, which
 * halves the quantization error. SH rest coefficients and extra channels are dropped: the format has no room.
 */
export function* encodeSplat(cloud: GaussianCloud): Generator<Uint8Array> {
  const { count: n, positions, logScales, rotations, opacityLogits, shDc } = cloud;
  const byte = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
  for (let first = 0; first < n; first += ROWS_PER_CHUNK) {
    const rows = Math.min(ROWS_PER_CHUNK, n - first);
    const bytes = new Uint8Array(rows * SPLAT_ROW_BYTES);
    const dv = view(bytes);
    for (let r = 0; r < rows; r++) {
      const i = first + r;
      const at = r * SPLAT_ROW_BYTES;
      for (let a = 0; a < 3; a++) {
        dv.setFloat32(at + 4 * a, positions[i * 3 + a], true);
        dv.setFloat32(at + 12 + 4 * a, Math.exp(logScales[i * 3 + a]), true);
      }
      for (let c = 0; c < 3; c++) bytes[at + 24 + c] = byte((0.5 + SH_C0 * shDc[i * 3 + c]) * 255);
      bytes[at + 27] = byte(sigmoid(opacityLogits[i]) * 255);
      const q = rotations.subarray(i * 4, i * 4 + 4);
      const norm = Math.hypot(q[0], q[1], q[2], q[3]) || 1;
      for (let j = 0; j < 4; j++) bytes[at + 28 + j] = byte((q[j] / norm) * 128 + 128);
    }
    yield bytes;
  }
}

/** Write `cloud` to `path` as `.splat` (see {@link encodeSplat}), atomically. */
export function writeSplatFile(path: string, cloud: GaussianCloud): void {
  validateCloud(cloud, path);
  writeFileAtomic(path, encodeSplat(cloud));
}
