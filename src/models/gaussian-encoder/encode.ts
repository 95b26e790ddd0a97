/**
 * Inference: the frozen encoder over a whole scene, giving the L2-normalized 32-d feature of every Gaussian
 * (the `f_pc_0..31` of ARCHITECTURE.md §4). Large scenes run in spatial chunks: each chunk encodes the
 * Gaussians of one cubic cell plus a margin of context around it and keeps the results of the cell's own
 * Gaussians, so device memory is bounded by the chunk, not the scene. All chunks share the scene's grid
 * origin, so voxels and pooling cells line up with an unchunked run.
 */
import { numpy as np } from "../../nn/jax.ts";
import { ConfigError } from "../../core/errors.ts";
import { refParams } from "../../nn/params.ts";
import type { EncoderBnStates } from "./block.ts";
import type { GaussianEncoder, GaussianEncoderParams } from "./encoder.ts";
import { encodeInput, INPUT_CHANNELS, type EncoderInputSource } from "./input.ts";
import { disposeDevicePlan, planEncoder, toDevicePlan } from "./levels.ts";

/** Options of `encodeCloud`. */
export interface EncodeCloudOptions {
  /** Edge of a chunk's core cell in metres (default: one chunk holding the whole scene). */
  chunkSize?: number;
  /** Context kept around each core cell, in metres (default 1). */
  margin?: number;
  /** Called after each chunk with (chunks done, chunks in all). */
  onChunk?: (done: number, total: number) => void;
}

/** Scale each `[dim]` row to unit length (zero rows stay zero). */
export function normalizeRows(x: Float32Array, dim: number): Float32Array {
  for (let o = 0; o < x.length; o += dim) {
    let s = 0;
    for (let k = 0; k < dim; k++) s += x[o + k] * x[o + k];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let k = 0; k < dim; k++) x[o + k] *= inv;
  }
  return x;
}

/**
 * `[N·32]` L2-normalized features of every Gaussian, in eval mode. Borrows `params` and `state`.
 */
export function encodeCloud(
  encoder: GaussianEncoder,
  params: GaussianEncoderParams,
  state: EncoderBnStates,
  cloud: EncoderInputSource,
  options: EncodeCloudOptions = {},
): Float32Array {
  const n = cloud.count;
  const D = encoder.outChannels;
  const out = new Float32Array(n * D);
  if (n === 0) return out;
  const pos = cloud.positions;
  const min: [number, number, number] = [Infinity, Infinity, Infinity];
  const max = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      min[k] = Math.min(min[k], pos[i * 3 + k]);
      max[k] = Math.max(max[k], pos[i * 3 + k]);
    }
  }
  const size = options.chunkSize ?? Infinity;
  const margin = options.margin ?? 1;
  if (!(size > 0) || !(margin >= 0)) throw new ConfigError("chunkSize", `need chunkSize > 0 and margin ≥ 0, got ${size}, ${margin}`);
  const cells = [0, 1, 2].map((k) => (Number.isFinite(size) ? Math.max(1, Math.ceil((max[k] - min[k]) / size)) : 1));
  const cellOf = (i: number, k: number): number =>
    Number.isFinite(size) ? Math.min(cells[k] - 1, Math.floor((pos[i * 3 + k] - min[k]) / size)) : 0;
  const total = cells[0] * cells[1] * cells[2];
  let done = 0;
  for (let cx = 0; cx < cells[0]; cx++)
    for (let cy = 0; cy < cells[1]; cy++)
      for (let cz = 0; cz < cells[2]; cz++) {
        const c = [cx, cy, cz];
        // Core: the Gaussians of this cell. Context: every Gaussian within `margin` of the cell's box.
        const members: number[] = [];
        const core: boolean[] = [];
        for (let i = 0; i < n; i++) {
          let inCore = true;
          let inBox = true;
          for (let k = 0; k < 3; k++) {
            if (cellOf(i, k) !== c[k]) inCore = false;
            if (Number.isFinite(size)) {
              const lo = min[k] + c[k] * size - margin;
              const hi = min[k] + (c[k] + 1) * size + margin;
              const p = pos[i * 3 + k];
              if (p < lo || p > hi) inBox = false;
            }
          }
          if (inCore || inBox) {
            members.push(i);
            core.push(inCore);
          }
        }
        if (core.some((b) => b)) {
          const idx = Uint32Array.from(members);
          const chunkPos = new Float32Array(idx.length * 3);
          idx.forEach((g, r) => chunkPos.set(pos.subarray(g * 3, g * 3 + 3), r * 3));
          const plan = toDevicePlan(planEncoder(chunkPos, encoder.config, { origin: min }), encoder.config);
          const x = np.array(encodeInput(cloud, idx)).reshape([idx.length, INPUT_CHANNELS]);
          const res = encoder.apply(refParams(params), x, plan, { train: false, state: refParams(state) });
          const y = res.y.dataSync() as Float32Array;
          for (const s of Object.values(res.state)) {
            s.runningMean.dispose();
            s.runningVar.dispose();
          }
          disposeDevicePlan(plan);
          idx.forEach((g, r) => {
            if (core[r]) out.set(y.subarray(r * D, r * D + D), g * D);
          });
        }
        options.onChunk?.(++done, total);
      }
  return normalizeRows(out, D);
}
