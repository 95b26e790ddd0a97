import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../../src/core/rng.ts";
import { ConfigError } from "../../../src/core/errors.ts";
import { kernelOffsets, neighbourTable, voxelize } from "../../../src/models/gaussian-encoder/neighbourhood.ts";
import {
  gridPoolMap,
  poolLevel,
  segmentMaxPlan,
  segmentMaxReference,
  type PointLevel,
} from "../../../src/models/gaussian-encoder/pooling.ts";
import { encodeCodes, serialize, zOrderCode } from "../../../src/models/gaussian-encoder/serialization.ts";

test("voxelize: points grouped by cell and batch, numbered by first appearance", () => {
  const grid = new Int32Array([0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
  const vm = voxelize(grid, [0, 0, 0, 0, 1]);
  assert.equal(vm.voxelCount, 3);
  assert.deepEqual([...vm.voxelOf], [0, 1, 0, 1, 2]);
  assert.deepEqual([...vm.memberCount], [2, 2, 1]);
  assert.deepEqual([...vm.voxelGrid], [0, 0, 0, 1, 0, 0, 0, 0, 0]);
  assert.deepEqual([...vm.voxelBatch], [0, 0, 1]);
});

test("neighbourTable: 3×3×3 lookups on a hand-built set; missing cells and other batches → sentinel V", () => {
  const offsets = kernelOffsets(3);
  assert.equal(offsets.length, 81);
  assert.deepEqual([...offsets.subarray(0, 3)], [-1, -1, -1]);
  assert.deepEqual([...offsets.subarray(13 * 3, 14 * 3)], [0, 0, 0]);
  assert.deepEqual([...offsets.subarray(14 * 3, 15 * 3)], [0, 0, 1]);
  assert.throws(() => kernelOffsets(2), ConfigError);
  // Voxels: a (5,5,5), b (6,5,5) = a + x, c (5,5,7) two cells away, d (6,5,5) in batch 1.
  const grid = new Int32Array([5, 5, 5, 6, 5, 5, 5, 5, 7, 6, 5, 5]);
  const vm = voxelize(grid, [0, 0, 0, 1]);
  const nb = neighbourTable(vm);
  const V = vm.voxelCount;
  assert.equal(V, 4);
  const row = (v: number): number[] => [...nb.subarray(v * 27, v * 27 + 27)];
  const at = (dx: number, dy: number, dz: number): number => ((dx + 1) * 3 + (dy + 1)) * 3 + (dz + 1);
  const expectA = new Array<number>(27).fill(V);
  expectA[at(0, 0, 0)] = 0;
  expectA[at(1, 0, 0)] = 1;
  assert.deepEqual(row(0), expectA);
  const expectB = new Array<number>(27).fill(V);
  expectB[at(0, 0, 0)] = 1;
  expectB[at(-1, 0, 0)] = 0;
  assert.deepEqual(row(1), expectB);
  const expectC = new Array<number>(27).fill(V);
  expectC[at(0, 0, 0)] = 2;
  assert.deepEqual(row(2), expectC);
  const expectD = new Array<number>(27).fill(V);
  expectD[at(0, 0, 0)] = 3;
  assert.deepEqual(row(3), expectD);
});

test("neighbourTable: agrees with a brute-force search on a random set", () => {
  const rng = new Rng(11);
  const n = 400;
  const grid = new Int32Array(n * 3);
  for (let i = 0; i < grid.length; i++) grid[i] = rng.int(8);
  const vm = voxelize(grid);
  const nb = neighbourTable(vm);
  const offsets = kernelOffsets(3);
  const V = vm.voxelCount;
  for (let v = 0; v < V; v++)
    for (let o = 0; o < 27; o++) {
      let want = V;
      for (let u = 0; u < V; u++) {
        if ([0, 1, 2].every((k) => vm.voxelGrid[u * 3 + k] === vm.voxelGrid[v * 3 + k] + offsets[o * 3 + k])) want = u;
      }
      assert.equal(nb[v * 27 + o], want);
    }
  for (let i = 0; i < n; i++) assert.equal(nb[vm.voxelOf[i] * 27 + 13], vm.voxelOf[i]);
});

test("gridPoolMap: parents are the unique code ≫ 3 in ascending order; cluster and members agree", () => {
  // Cells (z-order depth 2): (0,0,0), (1,1,1) share parent (0,0,0); (2,0,0) and (3,1,0) share parent (1,0,0);
  // (0,0,2) is alone under parent (0,0,1).
  const grid = new Int32Array([2, 0, 0, 0, 0, 0, 0, 0, 2, 1, 1, 1, 3, 1, 0]);
  const codes = encodeCodes(grid, 2, "z");
  const map = gridPoolMap(codes);
  assert.equal(map.parentCount, 3);
  // Parent codes: (0,0,0) → 0, (0,0,1) → 1, (1,0,0) → 4.
  assert.deepEqual([...map.cluster], [2, 0, 1, 0, 2]);
  assert.deepEqual([...map.members], [1, 3, 2, 0, 4]);
  assert.deepEqual([...map.ptr], [0, 2, 3, 5]);
  assert.deepEqual([...map.heads], [1, 2, 0]);
  assert.throws(() => gridPoolMap(codes, 3), ConfigError);
});

function randomLevel(seed: number, n: number, side: number): PointLevel {
  const rng = new Rng(seed);
  const grid = new Int32Array(n * 3);
  const coords = new Float32Array(n * 3);
  const batch = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    batch[i] = rng.int(2);
    for (let k = 0; k < 3; k++) {
      grid[i * 3 + k] = rng.int(side);
      coords[i * 3 + k] = (grid[i * 3 + k] + rng.uniform()) * 0.07;
    }
  }
  return { grid, coords, batch, serialization: serialize(grid, Math.log2(side), undefined, batch) };
}

test("poolLevel: pooled codes equal the codes of the halved grid; coords are child means; unpool round trip", () => {
  const level = randomLevel(5, 600, 16);
  const map = gridPoolMap(level.serialization.codes[0]);
  const coarse = poolLevel(level, map);
  const s = coarse.serialization;
  assert.equal(s.depth, 3);
  for (let o = 0; o < 4; o++) {
    const direct = encodeCodes(coarse.grid, 3, s.orders[o], coarse.batch);
    assert.deepEqual([...s.codes[o]], [...direct], `order ${s.orders[o]}`);
    for (let k = 1; k < map.parentCount; k++) assert.ok(s.codes[o][s.order[o][k - 1]] < s.codes[o][s.order[o][k]]);
  }
  // Every child maps to the parent holding its halved cell and batch (unpooling gathers parent[cluster]).
  for (let i = 0; i < 600; i++) {
    const p = map.cluster[i];
    for (let k = 0; k < 3; k++) assert.equal(coarse.grid[p * 3 + k], level.grid[i * 3 + k] >> 1);
    assert.equal(coarse.batch[p], level.batch[i]);
  }
  // Parents are distinct cells, and each parent's coord is its children's mean.
  const seen = new Set<number>();
  for (let p = 0; p < map.parentCount; p++) {
    seen.add(zOrderCode(coarse.grid[p * 3], coarse.grid[p * 3 + 1], coarse.grid[p * 3 + 2], 3) + 512 * coarse.batch[p]);
    const mean = [0, 0, 0];
    const kids = map.members.subarray(map.ptr[p], map.ptr[p + 1]);
    for (const i of kids) for (let k = 0; k < 3; k++) mean[k] += level.coords[i * 3 + k] / kids.length;
    for (let k = 0; k < 3; k++) assert.ok(Math.abs(coarse.coords[p * 3 + k] - mean[k]) < 1e-5);
  }
  assert.equal(seen.size, map.parentCount);
  // Any order's codes give the same clusters (numbered differently: by that order's parent codes).
  const other = gridPoolMap(level.serialization.codes[2]).cluster;
  const rename = new Map<number, number>();
  for (let i = 0; i < 600; i++) {
    if (!rename.has(map.cluster[i])) rename.set(map.cluster[i], other[i]);
    assert.equal(rename.get(map.cluster[i]), other[i]);
  }
  assert.equal(new Set(rename.values()).size, map.parentCount);
  // Shuffled orders are carried through.
  const shuffled = poolLevel(level, map, ["hilbert", "z"]);
  assert.deepEqual(shuffled.serialization.orders, ["hilbert", "z"]);
  assert.deepEqual([...shuffled.serialization.codes[1]], [...s.codes[0]]);
});

test("segmentMaxPlan: fixed-width rounds give each segment's max, sentinel rows never win", () => {
  const rng = new Rng(9);
  // Segments of sizes 1, 8, 9, 70 (three rounds at width 4).
  const sizes = [1, 8, 9, 70];
  const n = sizes.reduce((a, b) => a + b, 0);
  const members = new Int32Array(n);
  const perm = [...Array(n).keys()].sort(() => rng.uniform() - 0.5);
  members.set(perm);
  const ptr = Int32Array.from([0, 1, 9, 18, 88]);
  const C = 3;
  const x = new Float32Array(n * C);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform(-5, -1);
  for (const width of [2, 4, 8, 128]) {
    const plan = segmentMaxPlan(ptr, members, width);
    assert.equal(plan[plan.length - 1].rows, 4);
    assert.ok(plan.every((r) => r.width === width && r.index.length === r.rows * width));
    const got = segmentMaxReference(x, C, plan);
    for (let p = 0; p < 4; p++)
      for (let c = 0; c < C; c++) {
        let want = -Infinity;
        for (let m = ptr[p]; m < ptr[p + 1]; m++) want = Math.max(want, x[members[m] * C + c]);
        assert.equal(got[p * C + c], want);
      }
  }
  assert.equal(segmentMaxPlan(ptr, members, 4).length, 4);
  assert.equal(segmentMaxPlan(ptr, members, 128).length, 1);
  assert.throws(() => segmentMaxPlan(ptr, members, 1), ConfigError);
});
