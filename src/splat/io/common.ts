/** Small helpers shared by the splat readers and writers. */
import type { ExtraArray } from "../cloud.ts";

/** Rows decoded per read, so a reader holds one bounded chunk of the file at a time. */
export const ROWS_PER_CHUNK = 65536;

/** Rows per chunk for a given row size, keeping each read near 16 MiB even for very wide rows. */
export function rowsPerChunk(stride: number): number {
  return Math.max(1, Math.min(ROWS_PER_CHUNK, Math.floor((16 << 20) / Math.max(1, stride))));
}

/**
 * Normalize quaternions (w, x, y, z) in place, skipping those already unit to float32 precision, so that a
 * cloud written and read back keeps its bits (dividing by a norm of 1 ± 1e-8 would churn the last ulp).
 * A zero quaternion becomes the identity.
 */
export function normalizeQuaternions(q: Float32Array): void {
  for (let i = 0; i < q.length; i += 4) {
    const n = Math.hypot(q[i], q[i + 1], q[i + 2], q[i + 3]);
    if (n === 0) q[i] = 1;
    // A NaN/Inf norm (n − n is NaN) is left for validateCloud to report with its splat index.
    if (n === 0 || n - n !== 0 || Math.abs(n - 1) < 1e-6) continue;
    q[i] /= n;
    q[i + 1] /= n;
    q[i + 2] /= n;
    q[i + 3] /= n;
  }
}

/** A zeroed typed array of class `ctor`, backed by a SharedArrayBuffer like the cloud's core arrays. */
export function sharedArray(ctor: { new (buffer: SharedArrayBuffer): ExtraArray; BYTES_PER_ELEMENT: number }, length: number): ExtraArray {
  return new ctor(new SharedArrayBuffer(length * ctor.BYTES_PER_ELEMENT));
}

/** Lower-case extension of a path or name including the dot (".ply"), or "" when there is none. */
export function extensionOf(path: string): string {
  const base = path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
  const dot = base.lastIndexOf(".");
  return dot <= 0 ? "" : base.slice(dot).toLowerCase();
}
