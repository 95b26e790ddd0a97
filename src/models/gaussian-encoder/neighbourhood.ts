/**
 * Voxel hashing for the conditional positional encoding (METHOD.md §10 decision 10): points are grouped into
 * the occupied voxels of their grid cells, and each voxel's k×k×k neighbourhood (k = 3) is looked up in an
 * open-addressing hash table. The CPE then reads, per voxel and offset, the mean feature of a neighbour voxel,
 * which replaces spconv's SubMConv3d with gathers + matmuls: the same receptive field, without a sparse-conv
 * library. Everything here is plain JS on typed arrays; only the resulting index tables go to jax-js.
 */
import { ConfigError } from "../../core/errors.ts";

/** Points grouped by occupied voxel (grid cell and batch). */
export interface VoxelMap {
  /** Number of occupied voxels V. */
  voxelCount: number;
  /** `[N]` voxel of each point. Voxels are numbered in order of first appearance. */
  voxelOf: Int32Array;
  /** `[V·3]` grid cell of each voxel. */
  voxelGrid: Int32Array;
  /** `[V]` batch index of each voxel. */
  voxelBatch: Int32Array;
  /** `[V]` number of points in each voxel (≥ 1), for the voxel mean. */
  memberCount: Int32Array;
}

/**
 * Open-addressing hash table from (x, y, z, batch) to a slot value; linear probing on a power-of-two table at
 * most half full. A plain `Map` would need a composite key (a string, or a double beyond the small-integer
 * range) per lookup, which is several times slower for the 27 lookups per voxel.
 */
class CellTable {
  private readonly keys: Int32Array;
  private readonly values: Int32Array;
  private readonly mask: number;

  constructor(capacity: number) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.mask = size - 1;
    this.keys = new Int32Array(size * 4);
    this.values = new Int32Array(size).fill(-1);
  }

  private slot(x: number, y: number, z: number, b: number): number {
    let h = Math.imul(x, 0x9e3779b1) ^ Math.imul(y, 0x85ebca77) ^ Math.imul(z, 0xc2b2ae3d) ^ Math.imul(b, 0x27d4eb2f);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 13;
    let s = h & this.mask;
    for (;;) {
      const v = this.values[s];
      const k = s * 4;
      if (v < 0) return s;
      if (this.keys[k] === x && this.keys[k + 1] === y && this.keys[k + 2] === z && this.keys[k + 3] === b) return s;
      s = (s + 1) & this.mask;
    }
  }

  /** The value stored for the cell, or −1. */
  get(x: number, y: number, z: number, b: number): number {
    return this.values[this.slot(x, y, z, b)];
  }

  /** The value stored for the cell; when absent, store `value` and return it. */
  getOrInsert(x: number, y: number, z: number, b: number, value: number): number {
    const s = this.slot(x, y, z, b);
    if (this.values[s] >= 0) return this.values[s];
    this.keys.set([x, y, z, b], s * 4);
    this.values[s] = value;
    return value;
  }
}

/** Group points by (grid cell, batch). `grid` is `[N·3]`; `batch` has one entry per point, or is omitted. */
export function voxelize(grid: Int32Array, batch?: ArrayLike<number>): VoxelMap {
  const n = grid.length / 3;
  const table = new CellTable(n);
  const voxelOf = new Int32Array(n);
  const firstPoint: number[] = [];
  for (let i = 0; i < n; i++) {
    const b = batch === undefined ? 0 : batch[i];
    const v = table.getOrInsert(grid[i * 3], grid[i * 3 + 1], grid[i * 3 + 2], b, firstPoint.length);
    if (v === firstPoint.length) firstPoint.push(i);
    voxelOf[i] = v;
  }
  const V = firstPoint.length;
  const voxelGrid = new Int32Array(V * 3);
  const voxelBatch = new Int32Array(V);
  const memberCount = new Int32Array(V);
  for (let v = 0; v < V; v++) {
    const i = firstPoint[v];
    voxelGrid.set(grid.subarray(i * 3, i * 3 + 3), v * 3);
    voxelBatch[v] = batch === undefined ? 0 : batch[i];
  }
  for (let i = 0; i < n; i++) memberCount[voxelOf[i]]++;
  return { voxelCount: V, voxelOf, voxelGrid, voxelBatch, memberCount };
}

/**
 * The offsets of a k×k×k kernel (k odd), in the order the neighbour table uses: dx outermost, dz innermost,
 * so offset index o = ((dx + r)·k + (dy + r))·k + (dz + r) with r = (k − 1)/2; the centre is o = (k³ − 1)/2.
 */
export function kernelOffsets(kernel = 3): Int32Array {
  if (!Number.isInteger(kernel) || kernel < 1 || kernel % 2 === 0) {
    throw new ConfigError("kernel", `must be a positive odd integer, got ${kernel}`);
  }
  const r = (kernel - 1) / 2;
  const out = new Int32Array(kernel ** 3 * 3);
  let o = 0;
  for (let dx = -r; dx <= r; dx++)
    for (let dy = -r; dy <= r; dy++)
      for (let dz = -r; dz <= r; dz++) out.set([dx, dy, dz], 3 * o++);
  return out;
}

/**
 * `[V·k³]` neighbour table: entry (v, o) is the voxel at offset o from voxel v in the same batch, or V (the
 * index of an extra all-zero row the CPE appends) when that cell is empty — SubMConv3d's zero for a missing
 * input site. Every voxel finds itself at the centre offset.
 */
export function neighbourTable(voxels: VoxelMap, kernel = 3): Int32Array {
  const offsets = kernelOffsets(kernel);
  const K = offsets.length / 3;
  const V = voxels.voxelCount;
  const table = new CellTable(V);
  const g = voxels.voxelGrid;
  for (let v = 0; v < V; v++) table.getOrInsert(g[v * 3], g[v * 3 + 1], g[v * 3 + 2], voxels.voxelBatch[v], v);
  const out = new Int32Array(V * K);
  for (let v = 0; v < V; v++) {
    const b = voxels.voxelBatch[v];
    for (let o = 0; o < K; o++) {
      const u = table.get(g[v * 3] + offsets[o * 3], g[v * 3 + 1] + offsets[o * 3 + 1], g[v * 3 + 2] + offsets[o * 3 + 2], b);
      out[v * K + o] = u < 0 ? V : u;
    }
  }
  return out;
}

/** Points grouped by voxel: voxel v owns `members[ptr[v] .. ptr[v+1])`, in point order (a counting sort). */
export function voxelMembers(voxels: VoxelMap): { ptr: Int32Array; members: Int32Array } {
  const V = voxels.voxelCount;
  const ptr = new Int32Array(V + 1);
  for (let v = 0; v < V; v++) ptr[v + 1] = ptr[v] + voxels.memberCount[v];
  const fill = ptr.slice(0, V);
  const members = new Int32Array(voxels.voxelOf.length);
  voxels.voxelOf.forEach((v, i) => {
    members[fill[v]++] = i;
  });
  return { ptr, members };
}
