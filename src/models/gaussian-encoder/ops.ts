/**
 * Device-side point operations of the Gaussian encoder, all built from `np.take` gathers and matmuls (ENGINE.md
 * rule 1): row gathers, segment max / sum along a fixed-width plan (pooling, voxel means), and the voxel-hash
 * submanifold convolution that replaces spconv's SubMConv3d (METHOD.md §10 decision 10). Index tables come
 * from the plain-JS planners (`pooling.ts`, `neighbourhood.ts`) and enter as int32 arrays.
 */
import { numpy as np } from "../../nn/jax.ts";
import type { Rng } from "../../core/rng.ts";
import { expectShape } from "../../nn/params.ts";
import { Linear, type LinearParams, type Layer, type MacCount } from "../../nn/layers/index.ts";
import { segmentMaxPlan, type SegmentMaxRound } from "./pooling.ts";
import { neighbourTable, voxelMembers, voxelize } from "./neighbourhood.ts";

/** An int32 device array from JS indices. */
export function indexArray(index: Int32Array): np.Array {
  return np.array(index, { dtype: np.int32 });
}

/**
 * `x[index]` along axis 0. The gathered rows are multiplied by a row of ones: under `jit(grad(…))` jax-js
 * 0.1.25 fails ("routine primitive scatter input is not imm") when the cotangent reaching `take` is still an
 * unmaterialized expression (e.g. a max's or a sum's vjp); the product with a broadcast array makes the
 * cotangent a real buffer (a scalar does not). One row, not the gather's full shape: a jitted function keeps
 * its constants as buffers for its lifetime, and full-size ones held 1.4 GiB of a lite pre-training step's heap.
 */
export function takeRows(x: np.Array, index: np.Array): np.Array {
  const rows = index.shape[0];
  const shape = x.ndim > 1 ? [1, ...x.shape.slice(1)] : [rows];
  return np.take(x, index, 0).mul(np.ones(shape, { dtype: x.dtype }));
}

/** One round of a segment reduction on the device: `index` is `[rows·width]` int32. */
export interface DeviceSegmentRound {
  rows: number;
  width: number;
  index: np.Array;
}

/** Move a segment plan's index tables to the device. */
export function toDeviceSegmentPlan(plan: readonly SegmentMaxRound[]): DeviceSegmentRound[] {
  return plan.map((r) => ({ rows: r.rows, width: r.width, index: indexArray(r.index) }));
}

/**
 * Segment max or sum of `[N, C]` rows along a plan from `segmentMaxPlan` (the plan is the same for either
 * reduction): each round appends a sentinel row (−1e30 for max, 0 for sum) for the plan's padding slots,
 * gathers `[rows, width, C]` and reduces over the width. The gradient flows back as `take`'s scatter-add.
 * `x` is consumed; the plan's index arrays are borrowed (a level's plans serve every block of the level).
 */
export function segmentReduce(x: np.Array, plan: readonly DeviceSegmentRound[], op: "max" | "sum"): np.Array {
  let cur = x;
  const C = x.shape[1];
  for (const r of plan) {
    // A large finite fill rather than −∞, so no 0·∞ can appear in a vjp.
    const sentinel = op === "max" ? np.full([1, C], -1e30, { dtype: x.dtype }) : np.zeros([1, C], { dtype: x.dtype });
    const g = takeRows(np.concatenate([cur, sentinel], 0), r.index.ref).reshape([r.rows, r.width, C]);
    cur = op === "max" ? np.max(g, 1) : np.sum(g, 1);
  }
  return cur;
}

/** The index tables of one level's voxel hash, on the device. */
export interface DeviceVoxelGeometry {
  /** Voxels V. */
  voxels: number;
  /** One voxel per point, in point order (pooled levels): the voxel mean is the input itself. */
  identity?: boolean;
  /** Segment plan grouping the points of each voxel (for the voxel mean). */
  members: DeviceSegmentRound[];
  /** `[V, 1]` float 1/(points in the voxel). */
  invCount: np.Array;
  /** `[V·k³]` int32 neighbour voxel per (voxel, offset); V names the appended zero row. */
  neighbours: np.Array;
  /** `[N]` int32 voxel of each point. */
  voxelOf: np.Array;
}

/**
 * Hash a level's points into voxels and move the tables a `VoxelConv` reads to the device: the member plan
 * (segment width `width`), 1/count, the k×k×k neighbour table and each point's voxel. `dtype` is the float
 * type of the features (float32; float64 in gradient checks).
 */
export function buildVoxelGeometry(
  grid: Int32Array,
  batch: ArrayLike<number> | undefined,
  kernel: number,
  options: { width?: number; dtype?: np.DType } = {},
): DeviceVoxelGeometry {
  const vm = voxelize(grid, batch);
  const { ptr, members } = voxelMembers(vm);
  const V = vm.voxelCount;
  const inv = new Float64Array(V);
  for (let v = 0; v < V; v++) inv[v] = 1 / vm.memberCount[v];
  return {
    voxels: V,
    members: toDeviceSegmentPlan(segmentMaxPlan(ptr, members, options.width ?? 8)),
    invCount: np.array(inv).reshape([V, 1]).astype(options.dtype ?? np.float32),
    neighbours: indexArray(neighbourTable(vm, kernel)),
    voxelOf: indexArray(vm.voxelOf),
  };
}

/** Drop the device arrays of a level's voxel geometry. */
export function disposeVoxelGeometry(g: DeviceVoxelGeometry): void {
  for (const r of g.members) r.index.dispose();
  g.invCount.dispose();
  g.neighbours.dispose();
  g.voxelOf.dispose();
}

/** Parameters of a voxel convolution: a Linear over the k³ gathered neighbour means. */
export type VoxelConvParams = LinearParams;

/**
 * Submanifold k×k×k convolution through the voxel hash: voxel means of the input (one value per occupied
 * cell, the same in training and inference), a gather of each voxel's k³ neighbours (missing → the zero row),
 * one `[V, k³·C] × [k³·C, out]` matmul, and a gather back to the points. Output sites are the occupied voxels,
 * as in SubMConv3d. The weight is `[out, k³·C]`, input column `o·C + c` for offset o (`kernelOffsets` order).
 */
export class VoxelConv implements Layer<VoxelConvParams, { x: np.Array; geometry: DeviceVoxelGeometry }> {
  readonly linear: Linear;
  readonly taps: number;
  constructor(
    readonly path: string,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    options: { bias?: boolean } = {},
  ) {
    this.taps = kernel ** 3;
    this.linear = new Linear(path, this.taps * inChannels, outChannels, { bias: options.bias ?? true });
  }

  init(rng: Rng): VoxelConvParams {
    return this.linear.init(rng);
  }

  /** Consumes `x`; the geometry's arrays are borrowed, since every block of a level reads the same geometry. */
  apply(p: VoxelConvParams, input: { x: np.Array; geometry: DeviceVoxelGeometry }): np.Array {
    const { x, geometry: g } = input;
    expectShape(this.path, x.shape, [null, this.inChannels]);
    expectShape(`${this.path}.weight`, p.weight.shape, [this.outChannels, this.taps * this.inChannels]);
    const C = this.inChannels;
    const mean = g.identity === true ? x : segmentReduce(x, g.members, "sum").mul(g.invCount.ref);
    const padded = np.concatenate([mean, np.zeros([1, C], { dtype: x.dtype })], 0);
    const cols = this.taps * C;
    let taps = takeRows(padded, g.neighbours.ref).reshape([g.voxels, cols]);
    let weight = p.weight;
    // jax-js 0.1.25's matmul leaves its fast path when the reduction length is not a multiple of 8: the
    // embedding's 125·10 = 1250 columns ran 15× slower than 1256 (measured). Zero columns cost one copy.
    const extra = (8 - (cols % 8)) % 8;
    if (extra > 0) {
      taps = np.concatenate([taps, np.zeros([g.voxels, extra], { dtype: x.dtype })], 1);
      weight = np.concatenate([weight, np.zeros([this.outChannels, extra], { dtype: weight.dtype })], 1);
    }
    let y = np.matmul(taps, weight.transpose());
    if (p.bias !== undefined) y = y.add(p.bias);
    return g.identity === true ? y : takeRows(y, g.voxelOf.ref);
  }

  macs(voxels: number): MacCount {
    return this.linear.macs([voxels, this.taps * this.inChannels]);
  }
}
