/**
 * Inference: the frozen encoder over a whole scene, giving the L2-normalized 32-d feature of every Gaussian
 * (the `f_pc_0..31` of ARCHITECTURE.md §4). Large scenes run in chunks by point count: k-d median splits
 * until each core holds at most `chunkPoints` Gaussians; a chunk encodes its core plus the Gaussians within
 * `margin` of the core's box (the nearest `contextRatio`·core of them) and keeps the core's results. All chunks are planned first and padded to one
 * set of capacities (the maximum over chunks, rounded up), so the device sees one shape per scene: one
 * kernel compile and a bounded, reused wasm heap. All chunks share the scene's grid origin, so voxels and
 * pooling cells line up with an unchunked run.
 */
import { numpy as np } from "../../nn/jax.ts";
import { ConfigError } from "../../core/errors.ts";
import { refParams } from "../../nn/params.ts";
import type { EncoderBnStates } from "./block.ts";
import type { GaussianEncoder, GaussianEncoderParams } from "./encoder.ts";
import { encodeInput, INPUT_CHANNELS, type EncoderInputSource } from "./input.ts";
import {
  disposeDevicePlan,
  maxCapacities,
  planCapacities,
  planEncoder,
  toDevicePlan,
  type EncoderPlan,
  type PlanCapacities,
} from "./levels.ts";

/** Options of `encodeCloud`. */
export interface EncodeCloudOptions {
  /** Most Gaussians in a chunk's core (default: one chunk holding the whole scene). */
  chunkPoints?: number;
  /** Context kept around each core's bounding box, in metres (default 0.5). */
  margin?: number;
  /** Most context Gaussians per chunk, as a fraction of its core (default 0.5; the nearest are kept). */
  contextRatio?: number;
  /** Round every capacity up to a multiple of this (default 256), so similar scenes share shapes. */
  capacityMultiple?: number;
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
 * Split point indices by k-d median cuts (the longest box axis each time) until every part holds at most
 * `maxPoints`. Parts are returned in a depth-first order; together they hold every index once.
 */
export function kdChunks(positions: Float32Array, indices: Uint32Array, maxPoints: number): Uint32Array[] {
  if (!(maxPoints >= 1)) throw new ConfigError("chunkPoints", `must be at least 1, got ${maxPoints}`);
  if (indices.length <= maxPoints) return [indices];
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (const i of indices) {
    for (let k = 0; k < 3; k++) {
      const v = positions[i * 3 + k];
      if (v < lo[k]) lo[k] = v;
      if (v > hi[k]) hi[k] = v;
    }
  }
  let axis = 0;
  for (let k = 1; k < 3; k++) if (hi[k] - lo[k] > hi[axis] - lo[axis]) axis = k;
  const sorted = Uint32Array.from(indices).sort((a, b) => positions[a * 3 + axis] - positions[b * 3 + axis] || a - b);
  const half = sorted.length >> 1;
  return [...kdChunks(positions, sorted.subarray(0, half), maxPoints), ...kdChunks(positions, sorted.subarray(half), maxPoints)];
}

/** One planned chunk: its rows (core first), the core count and the host plan. */
interface PlannedChunk {
  rows: Uint32Array;
  core: number;
  plan: EncoderPlan;
}

/**
 * Core plus the non-core Gaussians within `margin` (L∞) of the core's box, at most `maxContext` of them (the
 * nearest, found with a 256-bin distance histogram), sorted core-first. The count bound keeps chunk sizes
 * bounded in dense scenes, where a fixed margin would hold many times the core.
 */
function chunkRows(positions: Float32Array, n: number, core: Uint32Array, margin: number, maxContext: number): Uint32Array {
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (const i of core) {
    for (let k = 0; k < 3; k++) {
      const v = positions[i * 3 + k];
      if (v < lo[k]) lo[k] = v;
      if (v > hi[k]) hi[k] = v;
    }
  }
  const inCore = new Uint8Array(n);
  for (const i of core) inCore[i] = 1;
  const rows = Array.from(core).sort((a, b) => a - b);
  const BINS = 256;
  const dist = new Float32Array(n).fill(Infinity);
  const hist = new Int32Array(BINS + 1);
  for (let i = 0; i < n; i++) {
    if (inCore[i] === 1) continue;
    let d = 0;
    for (let k = 0; k < 3; k++) {
      const v = positions[i * 3 + k];
      d = Math.max(d, lo[k] - v, v - hi[k]);
    }
    if (d > margin) continue;
    dist[i] = d;
    hist[margin > 0 ? Math.min(BINS, Math.floor((d / margin) * BINS)) : 0]++;
  }
  // The largest bin b whose cumulative count fits; points of bin b + 1 fill the rest in index order.
  let take = 0;
  let full = -1;
  while (full < BINS && take + hist[full + 1] <= maxContext) take += hist[++full];
  let partial = maxContext - take;
  for (let i = 0; i < n; i++) {
    if (dist[i] === Infinity) continue;
    const b = margin > 0 ? Math.min(BINS, Math.floor((dist[i] / margin) * BINS)) : 0;
    if (b <= full) rows.push(i);
    else if (b === full + 1 && partial > 0) {
      rows.push(i);
      partial--;
    }
  }
  return Uint32Array.from(rows);
}

/**
 * Plan the chunks of a scene and the capacities that fit all of them (exported for benchmarks and tests).
 */
export function planChunks(
  config: GaussianEncoder["config"],
  cloud: EncoderInputSource,
  options: EncodeCloudOptions = {},
): { chunks: PlannedChunk[]; capacities: PlanCapacities } {
  const n = cloud.count;
  const pos = cloud.positions;
  const margin = options.margin ?? 0.5;
  if (!(margin >= 0)) throw new ConfigError("margin", `must be ≥ 0, got ${margin}`);
  const contextRatio = options.contextRatio ?? 0.5;
  if (!(contextRatio >= 0)) throw new ConfigError("contextRatio", `must be ≥ 0, got ${contextRatio}`);
  const origin: [number, number, number] = [Infinity, Infinity, Infinity];
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) origin[k] = Math.min(origin[k], pos[i * 3 + k]);
  const all = new Uint32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const cores = kdChunks(pos, all, options.chunkPoints ?? Infinity);
  const chunks = cores.map((core): PlannedChunk => {
    const rows = cores.length === 1 ? all : chunkRows(pos, n, core, margin, Math.floor(contextRatio * core.length));
    const chunkPos = new Float32Array(rows.length * 3);
    rows.forEach((g, r) => chunkPos.set(pos.subarray(g * 3, g * 3 + 3), r * 3));
    return { rows, core: core.length, plan: planEncoder(chunkPos, config, { origin }) };
  });
  const capacities = maxCapacities(
    chunks.map((c) => planCapacities(c.plan)),
    options.capacityMultiple ?? 256,
  );
  return { chunks, capacities };
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
  const { chunks, capacities } = planChunks(encoder.config, cloud, options);
  const N = capacities.points[0];
  let done = 0;
  for (const chunk of chunks) {
    const plan = toDevicePlan(chunk.plan, encoder.config, np.float32, capacities);
    const rows = new Float32Array(N * INPUT_CHANNELS);
    rows.set(encodeInput(cloud, chunk.rows));
    const x = np.array(rows).reshape([N, INPUT_CHANNELS]);
    const res = encoder.apply(refParams(params), x, plan, { train: false, state: refParams(state) });
    const y = res.y.dataSync() as Float32Array;
    for (const s of Object.values(res.state)) {
      s.runningMean.dispose();
      s.runningVar.dispose();
    }
    disposeDevicePlan(plan);
    // Core rows come first in a chunk (or the chunk is the whole scene, in scene order).
    const core = chunks.length === 1 ? n : chunk.core;
    for (let r = 0; r < core; r++) out.set(y.subarray(r * D, r * D + D), chunk.rows[r] * D);
    options.onChunk?.(++done, chunks.length);
  }
  return normalizeRows(out, D);
}
