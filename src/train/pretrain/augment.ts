/**
 * Per-view preparation for contrastive pre-training (METHOD.md §3 "Per training sample", §10 decisions 1, 5):
 * voxel subsampling of the scene (one random Gaussian per 0.05 m voxel) and the independent augmentation of
 * each view's encoder input rows — random scale, random rotation, centring, jitter on opacity and colour.
 * Everything works in place or on copies of `[N·10]` input rows (`encodeInput` layout), in plain JS.
 */
import type { Rng } from "../../core/rng.ts";
import { axisAngleMatrix, identity3, unitAxis } from "../../core/math.ts";
import { gridCoords } from "../../models/gaussian-encoder/serialization.ts";
import { voxelize } from "../../models/gaussian-encoder/neighbourhood.ts";
import { INPUT_CHANNELS, INPUT_LAYOUT } from "../../models/gaussian-encoder/input.ts";

/**
 * Keep one Gaussian per occupied `voxel`-metre cell, chosen uniformly among the cell's members (the released
 * code's `voxelize` with its default 0.05 m). Returns the kept indices in ascending order.
 */
export function voxelSubsample(positions: Float32Array, voxel: number, rng: Rng): Uint32Array {
  const { grid } = gridCoords(positions, voxel);
  const vm = voxelize(grid);
  const chosen = new Int32Array(vm.voxelCount).fill(-1);
  const seen = new Int32Array(vm.voxelCount);
  // Reservoir sampling of size one per voxel: the i-th member replaces the choice with probability 1/i.
  vm.voxelOf.forEach((v, i) => {
    seen[v]++;
    if (rng.int(seen[v]) === 0) chosen[v] = i;
  });
  return Uint32Array.from(chosen).sort();
}

/**
 * Choices of the augmentation's rotation axis. `random` is the paper's; a fixed world axis (y is up in the
 * synthetic rooms, z in Replica and ScanNet) keeps gravity, which a linear probe needs to tell floor from ceiling.
 */
export const ROTATION_AXES = ["random", "x", "y", "z"] as const;
export type RotationAxis = (typeof ROTATION_AXES)[number];

/** Augmentation ranges; the defaults are the released code's. */
export interface AugmentOptions {
  /** Uniform scale range (default [0.6, 1.2]). */
  scale?: [number, number];
  /** Random rotation (default true). */
  rotate?: boolean;
  /**
   * The rotation's axis: `random` (default, the released code: rand(3) − 0.5) or a world axis, e.g. the scene's
   * up axis, so a view keeps which way is up (not in the paper; see `ROTATION_AXES`).
   */
  rotationAxis?: RotationAxis;
  /** Std of the Gaussian jitter on opacity and colour (default 0.02). */
  jitter?: number;
}

/** What one augmentation did, for tests and debugging. */
export interface AugmentRecord {
  scale: number;
  /** Row-major 3×3 rotation. */
  rotation: Float64Array;
  /** The centroid (before scaling) that was subtracted. */
  centre: [number, number, number];
}

function rotationAxisVector(axis: RotationAxis, rng: Rng): number[] {
  if (axis === "random") return [rng.uniform() - 0.5, rng.uniform() - 0.5, rng.uniform() - 0.5];
  return unitAxis(axis);
}

/**
 * Augment one view's `[N·10]` input rows in place:
 * - scale s ~ U[0.6, 1.2] on xyz, and + ln s on the log-scales (§10 decision 5: the code multiplies them by s);
 * - rotation about axis rand(3) − 0.5 (or `rotationAxis`) by 2π·(rand − 0.5);
 * - centring: xyz ← R·s·(xyz − mean), the code's translation R·(−mean) of the scaled crop;
 * - N(0, jitter) on opacity and on each colour channel, clipped to [0, 1].
 * Scales are isotropic, so rotating the Gaussians' frames is not needed for their log-scales.
 */
export function augmentView(rows: Float32Array, rng: Rng, options: AugmentOptions = {}): AugmentRecord {
  const C = INPUT_CHANNELS;
  const n = rows.length / C;
  const [lo, hi] = options.scale ?? [0.6, 1.2];
  const s = rng.uniform(lo, hi);
  const rotation = options.rotate === false
    ? identity3()
    : axisAngleMatrix(rotationAxisVector(options.rotationAxis ?? "random", rng), 2 * Math.PI * (rng.uniform() - 0.5));
  const centre: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) centre[k] += rows[i * C + INPUT_LAYOUT.xyz + k] / n;
  const jitter = options.jitter ?? 0.02;
  const lnS = Math.log(s);
  const clip = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);
  for (let i = 0; i < n; i++) {
    const o = i * C;
    const d = [0, 1, 2].map((k) => s * (rows[o + INPUT_LAYOUT.xyz + k] - centre[k]));
    for (let r = 0; r < 3; r++) {
      rows[o + INPUT_LAYOUT.xyz + r] = rotation[r * 3] * d[0] + rotation[r * 3 + 1] * d[1] + rotation[r * 3 + 2] * d[2];
      rows[o + INPUT_LAYOUT.logScales + r] += lnS;
    }
    if (jitter > 0) {
      rows[o + INPUT_LAYOUT.opacity] = clip(rows[o + INPUT_LAYOUT.opacity] + jitter * rng.normal());
      for (let k = 0; k < 3; k++) rows[o + INPUT_LAYOUT.colour + k] = clip(rows[o + INPUT_LAYOUT.colour + k] + jitter * rng.normal());
    }
  }
  return { scale: s, rotation, centre };
}
