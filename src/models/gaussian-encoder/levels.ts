/**
 * The geometry of a whole encoder pass, planned in plain JS before any device work: for each stage the level's
 * serialization, patch partitions (one per order and patch size), voxel neighbourhoods, and the pooling map to
 * the next stage. The encoder's forward pass reads only the index tables this produces.
 */
import type { Rng } from "../../core/rng.ts";
import { numpy as np } from "../../nn/jax.ts";
import type { GaussianEncoderConfig } from "./config.ts";
import {
  buildVoxelGeometry,
  disposeVoxelGeometry,
  indexArray,
  toDeviceSegmentPlan,
  type DeviceSegmentRound,
  type DeviceVoxelGeometry,
} from "./ops.ts";
import { patchPlan, type PatchPlan } from "./patches.ts";
import { gridPoolMap, poolLevel, segmentMaxPlan, type PointLevel, type PoolMap } from "./pooling.ts";
import { gridCoords, serialize, type SerializationOrder } from "./serialization.ts";

/** A patch partition on the device. */
export interface DevicePatches {
  patches: number;
  patchSize: number;
  /** `[P·K]` int32 point per slot. */
  gather: np.Array;
  /** `[N]` int32 slot per point. */
  scatter: np.Array;
}

/** Host-side tables of one stage. */
export interface StagePlan {
  level: PointLevel;
  /** `patches.get(K)[o]`: partition at patch size K in the level's o-th order. */
  patches: Map<number, PatchPlan[]>;
  /** Pooling map to the next stage (absent on the last). */
  pool?: PoolMap;
}

/** Host-side plan of a forward pass. */
export interface EncoderPlan {
  points: number;
  stages: StagePlan[];
}

/** Options of `planEncoder`. */
export interface PlanOptions {
  /** `[N]` cloud of each point (default: one cloud). */
  batch?: Int32Array;
  /** Shuffle the order list at each serialization and pooling (training, when the config asks for it). */
  rng?: Rng;
  /** Grid origin in metres (default: the points' minimum); chunks of one scene share the scene's. */
  origin?: [number, number, number];
}

function shuffled(orders: readonly SerializationOrder[], rng: Rng | undefined): SerializationOrder[] {
  const out = [...orders];
  if (rng === undefined) return out;
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * Plan a forward pass over `[N·3]` positions: grid at `config.gridSize`, serialize, partition, pool, repeat
 * per stage. With `options.rng` and `config.shuffleOrders`, each level's order list is re-permuted.
 */
export function planEncoder(positions: Float32Array, config: GaussianEncoderConfig, options: PlanOptions = {}): EncoderPlan {
  const n = positions.length / 3;
  const batch = options.batch ?? new Int32Array(n);
  const rng = config.shuffleOrders ? options.rng : undefined;
  const { grid, depth } = gridCoords(positions, config.gridSize, options.origin);
  let level: PointLevel = {
    grid,
    coords: Float32Array.from(positions),
    batch,
    serialization: serialize(grid, depth, shuffled(config.orders, rng), batch),
  };
  const S = config.encDepths.length;
  const stages: StagePlan[] = [];
  for (let s = 0; s < S; s++) {
    const sizes = new Set([config.encPatchSize[s], ...(s < S - 1 ? [config.decPatchSize[s]] : [])]);
    const patches = new Map<number, PatchPlan[]>();
    for (const K of sizes) patches.set(K, level.serialization.order.map((o) => patchPlan(o, level.batch, K)));
    const stage: StagePlan = { level, patches };
    stages.push(stage);
    if (s < S - 1) {
      // At depth 0 a level is one cell per cloud and its codes are the batch index alone; scaling them by 8
      // makes the shift an identity, so each cloud pools to one point instead of clouds merging.
      const codes = level.serialization.codes[0];
      const pool = gridPoolMap(level.serialization.depth > 0 ? codes : codes.map((c) => c * 8), config.stride);
      stage.pool = pool;
      level = poolLevel(level, pool, shuffled(config.orders, rng));
    }
  }
  return { points: n, stages };
}

/** Device tables of one stage. */
export interface DeviceStage {
  points: number;
  /** CPE neighbourhood (k = cpeKernel). */
  geometry: DeviceVoxelGeometry;
  patches: Map<number, DevicePatches[]>;
  /** Segment-max plan and child → parent map to the next stage. */
  pool?: { plan: DeviceSegmentRound[]; cluster: np.Array; parents: number };
}

/** Device tables of a forward pass; release them with `disposeDevicePlan`. */
export interface DevicePlan {
  points: number;
  /** Embedding neighbourhood on the input points (k = embedKernel). */
  embed: DeviceVoxelGeometry;
  stages: DeviceStage[];
}

/** Move a plan's index tables to the device (float tables in `dtype`, float32 by default). */
export function toDevicePlan(plan: EncoderPlan, config: GaussianEncoderConfig, dtype: np.DType = np.float32): DevicePlan {
  const first = plan.stages[0].level;
  const embed = buildVoxelGeometry(first.grid, first.batch, config.embedKernel, { width: config.segmentWidth, dtype });
  const stages = plan.stages.map((st): DeviceStage => {
    const lv = st.level;
    const patches = new Map<number, DevicePatches[]>();
    for (const [K, list] of st.patches) {
      patches.set(
        K,
        list.map((p) => ({ patches: p.patches, patchSize: p.patchSize, gather: indexArray(p.gather), scatter: indexArray(p.scatter) })),
      );
    }
    const out: DeviceStage = {
      points: lv.batch.length,
      geometry: buildVoxelGeometry(lv.grid, lv.batch, config.cpeKernel, { width: config.segmentWidth, dtype }),
      patches,
    };
    if (st.pool !== undefined) {
      out.pool = {
        plan: toDeviceSegmentPlan(segmentMaxPlan(st.pool.ptr, st.pool.members, config.segmentWidth)),
        cluster: indexArray(st.pool.cluster),
        parents: st.pool.parentCount,
      };
    }
    return out;
  });
  return { points: plan.points, embed, stages };
}

/** Release every device array of a plan. */
export function disposeDevicePlan(plan: DevicePlan): void {
  disposeVoxelGeometry(plan.embed);
  for (const st of plan.stages) {
    disposeVoxelGeometry(st.geometry);
    for (const list of st.patches.values()) {
      for (const p of list) {
        p.gather.dispose();
        p.scatter.dispose();
      }
    }
    if (st.pool !== undefined) {
      for (const r of st.pool.plan) r.index.dispose();
      st.pool.cluster.dispose();
    }
  }
}
