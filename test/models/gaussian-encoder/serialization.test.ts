import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../../src/core/rng.ts";
import { ConfigError } from "../../../src/core/errors.ts";
import { allocateCloud, SH_C0 } from "../../../src/splat/cloud.ts";
import { encodeInput, INPUT_CHANNELS } from "../../../src/models/gaussian-encoder/input.ts";
import {
  argsortCodes,
  bitLength,
  encodeCodes,
  gridCoords,
  hilbertCode,
  inversePermutation,
  serialize,
  zOrderCode,
} from "../../../src/models/gaussian-encoder/serialization.ts";

test("encodeInput: xyz, clamped base colour, sigmoid opacity, raw log-scales", () => {
  const cloud = allocateCloud(2, 0);
  cloud.positions.set([1, 2, 3, -1, -2, -3]);
  cloud.shDc.set([0, 1, -1, 10, -10, 0.5]);
  cloud.opacityLogits.set([0, Math.log(3)]);
  cloud.logScales.set([-1, -2, -3, 0.5, 0, -4]);
  const x = encodeInput(cloud);
  assert.equal(x.length, 2 * INPUT_CHANNELS);
  const expect0 = [1, 2, 3, 0.5, 0.5 + SH_C0, 0.5 - SH_C0, 0.5, -1, -2, -3];
  const expect1 = [-1, -2, -3, 1, 0, 0.5 + 0.5 * SH_C0, 0.75, 0.5, 0, -4];
  [...expect0, ...expect1].forEach((v, k) => assert.ok(Math.abs(x[k] - v) < 1e-6, `channel ${k}: ${x[k]} vs ${v}`));
  const sub = encodeInput(cloud, [1]);
  assert.deepEqual([...sub], [...x.subarray(10, 20)]);
});

test("gridCoords: floor of (xyz − min)/grid and the bit length of the largest cell", () => {
  const g = gridCoords([0.5, 1, 2, 0.5 + 0.07 * 5.5, 1.3, 2], 0.07);
  assert.deepEqual([...g.grid], [0, 0, 0, 5, 4, 0]);
  assert.equal(g.depth, 3);
  assert.deepEqual(g.origin, [0.5, 1, 2]);
  assert.equal(gridCoords([1, 1, 1], 0.07).depth, 0);
  assert.equal(bitLength(0), 0);
  assert.equal(bitLength(1), 1);
  assert.equal(bitLength(65535), 16);
  assert.throws(() => gridCoords([0, 0, 0, 70000 * 0.07, 0, 0], 0.07), ConfigError);
  assert.throws(() => gridCoords([0, 0, 0], 0), ConfigError);
});

test("z-order: hand-computed codes (x → bit 3i+2, y → 3i+1, z → 3i)", () => {
  assert.equal(zOrderCode(1, 0, 0, 1), 4);
  assert.equal(zOrderCode(0, 1, 0, 1), 2);
  assert.equal(zOrderCode(0, 0, 1, 1), 1);
  // x = 0b11 → bits 2, 5; y = 0b01 → bit 1; z = 0b10 → bit 3.
  assert.equal(zOrderCode(3, 1, 2, 2), 4 + 32 + 2 + 8);
  // High bits cross the 24-bit halves: x's bit 15 is bit 47.
  assert.equal(zOrderCode(1 << 15, 0, 0, 16), 2 ** 47);
  assert.equal(zOrderCode(65535, 65535, 65535, 16), 2 ** 48 - 1);
  // The -trans order swaps x and y.
  const grid = new Int32Array([3, 1, 2]);
  assert.equal(encodeCodes(grid, 2, "z")[0], 46);
  assert.equal(encodeCodes(grid, 2, "z-trans")[0], zOrderCode(1, 3, 2, 2));
});

test("Hilbert: hand-computed codes at depth 1 and 2", () => {
  // Depth 1: no Skilling pass, the Gray code [x, y, z] decodes to x, x^y, x^y^z.
  const cells: [number, number, number][] = [
    [0, 0, 0],
    [0, 0, 1],
    [0, 1, 1],
    [0, 1, 0],
    [1, 1, 0],
    [1, 1, 1],
    [1, 0, 1],
    [1, 0, 0],
  ];
  cells.forEach(([x, y, z], k) => assert.equal(hilbertCode(x, y, z, 1), k));
  // Depth 2, (1, 0, 0): the top-bit pass swaps x's and y's low bit → transposed (0, 1, 0); Gray 000 010 → 000 011.
  assert.equal(hilbertCode(1, 0, 0, 2), 3);
  assert.equal(hilbertCode(0, 0, 0, 2), 0);
  assert.equal(encodeCodes(new Int32Array([0, 1, 0]), 2, "hilbert-trans")[0], 3);
});

test("Hilbert: visits every cell once, each step to a face neighbour (depth 2, 3, 4)", () => {
  for (const depth of [2, 3, 4]) {
    const side = 1 << depth;
    const cellAt = new Int32Array(side ** 3).fill(-1);
    for (let x = 0; x < side; x++)
      for (let y = 0; y < side; y++)
        for (let z = 0; z < side; z++) {
          const c = hilbertCode(x, y, z, depth);
          assert.equal(cellAt[c], -1, `code ${c} used twice`);
          cellAt[c] = (x * side + y) * side + z;
        }
    for (let c = 1; c < side ** 3; c++) {
      const a = cellAt[c - 1];
      const b = cellAt[c];
      const d =
        Math.abs(Math.floor(a / side / side) - Math.floor(b / side / side)) +
        Math.abs((Math.floor(a / side) % side) - (Math.floor(b / side) % side)) +
        Math.abs((a % side) - (b % side));
      assert.equal(d, 1, `depth ${depth}: step ${c} jumps ${d}`);
    }
  }
});

test("Hilbert: a coarse cell's code is the prefix of its children's (pooling shifts codes by 3)", () => {
  const rng = new Rng(3);
  for (let t = 0; t < 200; t++) {
    const depth = 2 + rng.int(15);
    const [x, y, z] = [rng.int(1 << depth), rng.int(1 << depth), rng.int(1 << depth)];
    assert.equal(Math.floor(hilbertCode(x, y, z, depth) / 8), hilbertCode(x >> 1, y >> 1, z >> 1, depth - 1));
    assert.equal(Math.floor(zOrderCode(x, y, z, depth) / 8), zOrderCode(x >> 1, y >> 1, z >> 1, depth - 1));
  }
  // Codes at depth 16 stay exact: the largest is 2^48 − 1.
  assert.ok(hilbertCode(65535, 0, 65535, 16) < 2 ** 48);
});

test("encodeCodes: batch index sits above the curve bits", () => {
  const grid = new Int32Array([1, 0, 0, 1, 0, 0]);
  const codes = encodeCodes(grid, 1, "z", [0, 2]);
  assert.deepEqual([...codes], [4, 2 * 8 + 4]);
  assert.throws(() => encodeCodes(grid, 1, "z", [0, 32]), ConfigError);
  assert.throws(() => encodeCodes(grid, 17, "z"), ConfigError);
});

test("serialize: order sorts codes, order ∘ inverse = identity, all four curves", () => {
  const rng = new Rng(7);
  const n = 500;
  const pos = new Float32Array(n * 3);
  for (let i = 0; i < pos.length; i++) pos[i] = rng.uniform(-2, 2);
  const { grid, depth } = gridCoords(pos, 0.07);
  const s = serialize(grid, depth);
  assert.deepEqual(s.orders, ["z", "z-trans", "hilbert", "hilbert-trans"]);
  for (let o = 0; o < 4; o++) {
    const { order, inverse } = { order: s.order[o], inverse: s.inverse[o] };
    for (let k = 1; k < n; k++) assert.ok(s.codes[o][order[k - 1]] <= s.codes[o][order[k]]);
    for (let i = 0; i < n; i++) {
      assert.equal(order[inverse[i]], i);
      assert.equal(inverse[order[i]], i);
    }
  }
  // Ties break by index, so the sort is deterministic.
  assert.deepEqual([...argsortCodes(new Float64Array([5, 1, 5, 1]))], [1, 3, 0, 2]);
  assert.deepEqual([...inversePermutation(new Int32Array([2, 0, 1]))], [1, 2, 0]);
});
