/**
 * The geometry of a whole encoder pass, planned in plain JS before any device work: for each stage the level's
 * serialization, patch partitions (one per order and patch size), voxel neighbourhoods, and the pooling map to
 * the next stage. The encoder's forward pass reads only the index tables this produces.
 */
import type { Rng } from "../../core/rng.ts";
import { numpy as np } from "../../nn/jax.ts";
import type { GaussianEncoderConfig } from "./config.ts";
import { ConfigError } from "../../core/errors.ts";
import { disposeVoxelGeometry, indexArray, type DeviceSegmentRound, type DeviceVoxelGeometry } from "./ops.ts";
import { bucketCount, patchPlan, type PatchPlan } from "./patches.ts";
import { gridPoolMap, poolLevel, type PointLevel, type PoolMap } from "./pooling.ts";
import { neighbourTable, voxelMembers, voxelize, type VoxelMap } from "./neighbourhood.ts";
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

/**
 * Most member points one level-0 voxel averages (and max-pools) over: the voxel mean is one fixed-width gather
 * round of this width, so its shape never depends on the data. Members beyond the cap (in point order) are
 * dropped from the voxel's mean and from its pooling max; levels ≥ 1 hold one point per voxel.
 */
export const VOXEL_MEMBER_CAP = 32;

/** Largest number of children a stride-2 parent can have (its 2×2×2 cells). */
const POOL_WIDTH = 8;

/**
 * Row counts of every padded device table of a plan. A plan padded to capacities ≥ its own sizes computes
 * the same values on its real rows; a forward compiled for one set of capacities serves every plan that fits.
 */
export interface PlanCapacities {
  /** Point rows per stage. */
  points: number[];
  /** Voxel rows per stage (levels ≥ 1 have one voxel per point: equal to `points`). */
  voxels: number[];
  /** Patches per stage and patch size: `patches[s][K]`. */
  patches: Record<number, number>[];
}

/** The exact sizes of a plan: no padding. */
export function planCapacities(plan: EncoderPlan): PlanCapacities {
  return {
    points: plan.stages.map((st) => st.level.batch.length),
    voxels: plan.stages.map((st, s) => (s === 0 ? voxelize(st.level.grid, st.level.batch).voxelCount : st.level.batch.length)),
    patches: plan.stages.map((st) => {
      const out: Record<number, number> = {};
      for (const [K, list] of st.patches) out[K] = list[0].realPatches;
      return out;
    }),
  };
}

/**
 * Where `plan` overflows `capacities` (the first stage and table that does), or null when it fits. Checked on the
 * host before any device array exists, so a plan that does not fit leaks nothing.
 */
export function capacityOverflow(exact: PlanCapacities, capacities: PlanCapacities): string | null {
  for (let s = 0; s < exact.points.length; s++) {
    if (exact.points[s] > capacities.points[s]) return `stage ${s}: ${exact.points[s]} points exceed capacity ${capacities.points[s]}`;
    if (exact.voxels[s] > capacities.voxels[s]) return `stage ${s}: ${exact.voxels[s]} voxels exceed capacity ${capacities.voxels[s]}`;
    for (const [K, n] of Object.entries(exact.patches[s])) {
      const cap = capacities.patches[s]?.[Number(K)];
      if (cap === undefined || n > cap) return `stage ${s}: ${n} patches of ${K} exceed capacity ${cap ?? 0}`;
    }
  }
  return null;
}

/** Element-wise maximum of capacities (chunks of one scene), each rounded up to a multiple of `multiple`. */
export function maxCapacities(list: readonly PlanCapacities[], multiple = 1): PlanCapacities {
  if (list.length === 0) throw new ConfigError("capacities", "need at least one plan");
  const up = (v: number): number => Math.ceil(v / multiple) * multiple;
  const S = list[0].points.length;
  const out: PlanCapacities = { points: [], voxels: [], patches: [] };
  for (let s = 0; s < S; s++) {
    out.points.push(up(Math.max(...list.map((c) => c.points[s]))));
    out.voxels.push(s === 0 ? up(Math.max(...list.map((c) => c.voxels[s]))) : out.points[s]);
    const p: Record<number, number> = {};
    for (const K of Object.keys(list[0].patches[s]).map(Number)) p[K] = Math.max(...list.map((c) => c.patches[s][K]));
    out.patches.push(p);
  }
  return out;
}

/**
 * Capacities on a geometric ladder (`bucketCount`, multiples of `multiple`), so plans of varying size share
 * a handful of shapes: points and level-0 voxels bucketed per stage, patches the most `clouds` clouds of
 * that many points can fill (⌈N/K⌉ + clouds).
 */
export function bucketCapacities(caps: PlanCapacities, options: { growth?: number; multiple?: number; clouds?: number } = {}): PlanCapacities {
  const growth = options.growth ?? 1.25;
  const multiple = options.multiple ?? 64;
  const clouds = options.clouds ?? 1;
  const points = caps.points.map((n) => bucketCount(n, multiple, growth));
  return {
    points,
    voxels: caps.voxels.map((v, s) => (s === 0 ? bucketCount(v, multiple, growth) : points[s])),
    patches: caps.patches.map((rec, s) => {
      const out: Record<number, number> = {};
      for (const K of Object.keys(rec).map(Number)) out[K] = Math.max(rec[K], Math.ceil(points[s] / K) + clouds);
      return out;
    }),
  };
}

/** Device tables of one stage. */
export interface DeviceStage {
  /** Point rows (capacity). */
  points: number;
  /** Real points (the first rows). */
  realPoints: number;
  /** `[points, 1]` 1 on real rows, 0 on padding (masked BatchNorm statistics, pooling's has-children mask). */
  mask: np.Array;
  /** `[]` the number of real rows, as a float array (so a compiled step does not bake it in). */
  count: np.Array;
  /** CPE neighbourhood (k = cpeKernel). */
  geometry: DeviceVoxelGeometry;
  patches: Map<number, DevicePatches[]>;
  /** Segment-max plan (points → voxels → parents) and child → parent map to the next stage. */
  pool?: { plan: DeviceSegmentRound[]; cluster: np.Array; parents: number };
}

/** Device tables of a forward pass; release them with `disposeDevicePlan`. */
export interface DevicePlan {
  /** Input rows (capacity of stage 0). */
  points: number;
  /** Real input rows (the first rows; the rest are inert padding). */
  realPoints: number;
  /** Embedding neighbourhood on the input points (k = embedKernel). */
  embed: DeviceVoxelGeometry;
  stages: DeviceStage[];
}

/** Voxel tables of one level, padded: the member round, 1/count, the neighbour table and each point's voxel. */
function voxelTables(
  vm: VoxelMap,
  kernels: number[],
  points: number,
  voxels: number,
  identity: boolean,
  dtype: np.DType,
): { geometries: DeviceVoxelGeometry[]; memberIndex: Int32Array | null; voxelOf: Int32Array } {
  const V = vm.voxelCount;
  const n = vm.voxelOf.length;
  if (V > voxels || n > points) throw new ConfigError("capacities", `${n} points / ${V} voxels exceed capacity ${points} / ${voxels}`);
  const voxelOf = new Int32Array(points);
  voxelOf.set(vm.voxelOf);
  // Padding points read a padding voxel when there is one (their values never reach a real row).
  voxelOf.fill(V < voxels ? V : 0, n);
  let memberIndex: Int32Array | null = null;
  const inv = new Float32Array(voxels);
  if (!identity) {
    const W = VOXEL_MEMBER_CAP;
    const { ptr, members } = voxelMembers(vm);
    memberIndex = new Int32Array(voxels * W).fill(points);
    for (let v = 0; v < V; v++) {
      const m = Math.min(W, ptr[v + 1] - ptr[v]);
      memberIndex.set(members.subarray(ptr[v], ptr[v] + m), v * W);
      inv[v] = 1 / m;
    }
  }
  const geometries = kernels.map((k): DeviceVoxelGeometry => {
    const table = neighbourTable(vm, k);
    const taps = k ** 3;
    const nb = new Int32Array(voxels * taps).fill(voxels);
    for (let i = 0; i < V * taps; i++) nb[i] = table[i] === V ? voxels : table[i];
    return {
      voxels,
      identity,
      members: memberIndex === null ? [] : [{ rows: voxels, width: VOXEL_MEMBER_CAP, index: indexArray(memberIndex) }],
      invCount: np.array(inv).reshape([voxels, 1]).astype(dtype),
      neighbours: indexArray(nb),
      voxelOf: indexArray(voxelOf),
    };
  });
  return { geometries, memberIndex, voxelOf };
}

/**
 * Move a plan's index tables to the device, padded to `capacities` (default: the plan's own sizes). Padding
 * rows are inert: they belong to no voxel, patch or parent of a real row, padded voxels read the zero row with
 * 1/count = 0, parents without children are zeroed by the next stage's mask, and `mask`/`count` let training
 * BatchNorms take statistics over real rows only. Float tables are in `dtype` (float32 by default).
 */
export function toDevicePlan(
  plan: EncoderPlan,
  config: GaussianEncoderConfig,
  dtype: np.DType = np.float32,
  capacities: PlanCapacities = planCapacities(plan),
): DevicePlan {
  const S = plan.stages.length;
  // Before any allocation: a retry with a thinner pair (pre-training) must not leak the tables of the stages
  // that did fit (measured: ~20 MB a failed 20k-row pair, until the 4 GiB heap ran out).
  const over = capacityOverflow(planCapacities(plan), capacities);
  if (over !== null) throw new ConfigError("capacities", over);
  const stages: DeviceStage[] = [];
  let embed: DeviceVoxelGeometry | undefined;
  // Per stage: host voxel map and padded member index, needed by the previous stage's pooling.
  const hostVoxels: { vm: VoxelMap; memberIndex: Int32Array | null }[] = [];
  for (let s = 0; s < S; s++) {
    const lv = plan.stages[s].level;
    const n = lv.batch.length;
    const Nc = capacities.points[s];
    const Vc = capacities.voxels[s];
    const vm = voxelize(lv.grid, lv.batch);
    const identity = s > 0;
    if (identity) {
      // A pooled level holds one point per cell: its voxels are its points, in order.
      if (vm.voxelCount !== n || Vc !== Nc) throw new ConfigError("plan", `stage ${s} is not one point per voxel`);
    }
    const kernels = s === 0 ? [config.cpeKernel, config.embedKernel] : [config.cpeKernel];
    const { geometries, memberIndex } = voxelTables(vm, kernels, Nc, Vc, identity, dtype);
    if (s === 0) embed = geometries[1];
    hostVoxels.push({ vm, memberIndex });
    const mask = new Float32Array(Nc);
    mask.fill(1, 0, n);
    const patches = new Map<number, DevicePatches[]>();
    for (const [K, list] of plan.stages[s].patches) {
      const Pc = capacities.patches[s][K];
      patches.set(
        K,
        list.map((p) => {
          if (p.realPatches > Pc) throw new ConfigError("capacities", `stage ${s}: ${p.realPatches} patches of ${K} exceed capacity ${Pc}`);
          const gather = new Int32Array(Pc * K);
          gather.set(p.gather.subarray(0, p.realPatches * K));
          for (let q = p.realPatches; q < Pc; q++) gather.copyWithin(q * K, (p.realPatches - 1) * K, p.realPatches * K);
          const scatter = new Int32Array(Nc);
          scatter.set(p.scatter);
          return { patches: Pc, patchSize: K, gather: indexArray(gather), scatter: indexArray(scatter) };
        }),
      );
    }
    stages.push({
      points: Nc,
      realPoints: n,
      mask: np.array(mask).reshape([Nc, 1]).astype(dtype),
      count: np.array(new Float32Array([n])).reshape([]).astype(dtype),
      geometry: geometries[0],
      patches,
    });
  }
  for (let s = 0; s < S - 1; s++) {
    const pool = plan.stages[s].pool;
    if (pool === undefined) throw new ConfigError("plan", `stage ${s} has no pooling map`);
    const { vm, memberIndex } = hostVoxels[s];
    const Nc = capacities.points[s];
    const Vc = capacities.voxels[s];
    const Mc = capacities.points[s + 1];
    // Children of each parent: the distinct voxels of its points (a voxel lies inside one parent cell).
    const children = new Int32Array(Mc * POOL_WIDTH).fill(Vc);
    const stamp = new Int32Array(vm.voxelCount).fill(-1);
    for (let p = 0; p < pool.parentCount; p++) {
      let w = 0;
      for (let m = pool.ptr[p]; m < pool.ptr[p + 1]; m++) {
        const v = vm.voxelOf[pool.members[m]];
        if (stamp[v] === p) continue;
        stamp[v] = p;
        if (w === POOL_WIDTH) throw new ConfigError("plan", `stage ${s}: a parent has more than ${POOL_WIDTH} child voxels`);
        children[p * POOL_WIDTH + w++] = v;
      }
    }
    const rounds: DeviceSegmentRound[] = [];
    if (memberIndex !== null) rounds.push({ rows: Vc, width: VOXEL_MEMBER_CAP, index: indexArray(memberIndex) });
    rounds.push({ rows: Mc, width: POOL_WIDTH, index: indexArray(children) });
    const cluster = new Int32Array(Nc);
    cluster.set(pool.cluster);
    cluster.fill(pool.parentCount < Mc ? pool.parentCount : 0, pool.cluster.length);
    stages[s].pool = { plan: rounds, cluster: indexArray(cluster), parents: Mc };
  }
  if (embed === undefined) throw new ConfigError("plan", "has no stages");
  return { points: capacities.points[0], realPoints: plan.points, embed, stages };
}

/** Release every device array of a plan. */
export function disposeDevicePlan(plan: DevicePlan): void {
  disposeVoxelGeometry(plan.embed);
  for (const st of plan.stages) {
    disposeVoxelGeometry(st.geometry);
    st.mask.dispose();
    st.count.dispose();
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

/** Every device array of a voxel geometry, as a flat list (for passing a plan through `jit`). */
function geometryArrays(g: DeviceVoxelGeometry): np.Array[] {
  return [...g.members.map((r) => r.index), g.invCount, g.neighbours, g.voxelOf];
}

function withGeometryArrays(g: DeviceVoxelGeometry, a: np.Array[], at: { i: number }): DeviceVoxelGeometry {
  return {
    ...g,
    members: g.members.map((r) => ({ ...r, index: a[at.i++] })),
    invCount: a[at.i++],
    neighbours: a[at.i++],
    voxelOf: a[at.i++],
  };
}

/**
 * The device arrays of a plan in a fixed order (borrowed, not copied): a compiled forward takes them as an
 * argument and rebuilds the plan with `withPlanArrays`, so plans of equal capacities share one compile.
 */
export function planArrays(plan: DevicePlan): np.Array[] {
  const out = geometryArrays(plan.embed);
  for (const st of plan.stages) {
    out.push(st.mask, st.count, ...geometryArrays(st.geometry));
    for (const K of [...st.patches.keys()].sort((a, b) => a - b)) for (const p of st.patches.get(K) ?? []) out.push(p.gather, p.scatter);
    if (st.pool !== undefined) out.push(...st.pool.plan.map((r) => r.index), st.pool.cluster);
  }
  return out;
}

/** `template` with its arrays replaced by `arrays` (in `planArrays` order): tracers inside `jit`. */
export function withPlanArrays(template: DevicePlan, arrays: np.Array[]): DevicePlan {
  const at = { i: 0 };
  const embed = withGeometryArrays(template.embed, arrays, at);
  const stages = template.stages.map((st): DeviceStage => {
    const mask = arrays[at.i++];
    const count = arrays[at.i++];
    const geometry = withGeometryArrays(st.geometry, arrays, at);
    const patches = new Map<number, DevicePatches[]>();
    for (const K of [...st.patches.keys()].sort((a, b) => a - b)) {
      patches.set(
        K,
        (st.patches.get(K) ?? []).map((p) => ({ ...p, gather: arrays[at.i++], scatter: arrays[at.i++] })),
      );
    }
    const out: DeviceStage = { ...st, mask, count, geometry, patches };
    if (st.pool !== undefined) {
      const rounds = st.pool.plan.map((r) => ({ ...r, index: arrays[at.i++] }));
      out.pool = { ...st.pool, plan: rounds, cluster: arrays[at.i++] };
    }
    return out;
  });
  if (at.i !== arrays.length) throw new ConfigError("plan", `expected ${at.i} arrays, got ${arrays.length}`);
  return { ...template, embed, stages };
}
