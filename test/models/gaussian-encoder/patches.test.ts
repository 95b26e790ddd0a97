import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../../src/core/rng.ts";
import { ConfigError } from "../../../src/core/errors.ts";
import { bucketCount, orderForBlock, patchPlan } from "../../../src/models/gaussian-encoder/patches.ts";
import { serialize } from "../../../src/models/gaussian-encoder/serialization.ts";

test("patchPlan: padding re-uses the preceding patch, per cloud (hand-built)", () => {
  // Points 2..7 are cloud 0 (6 points), points 0..1 cloud 1 (2 points); K = 4. The order visits points 7..0.
  const order = Int32Array.from([7, 6, 5, 4, 3, 2, 1, 0]);
  const batch = [1, 1, 0, 0, 0, 0, 0, 0];
  const plan = patchPlan(order, batch, 4, { bucket: false });
  assert.equal(plan.patches, 3);
  assert.equal(plan.realPatches, 3);
  // Cloud 0: [7 6 5 4] [3 2 | 5 4] — slots 6, 7 copy slots 2, 3 of the preceding patch.
  // Cloud 1 (2 < K points): [1 0 | 1 0] — its own points repeated.
  assert.deepEqual([...plan.gather], [7, 6, 5, 4, 3, 2, 5, 4, 1, 0, 1, 0]);
  // Each point reads its own (first) slot.
  assert.deepEqual([...plan.scatter], [9, 8, 5, 4, 3, 2, 1, 0]);
  for (let i = 0; i < 8; i++) assert.equal(plan.gather[plan.scatter[i]], i);
});

test("patchPlan: bucketed patch count copies the last patch; exact multiples need no padding", () => {
  const order = Int32Array.from({ length: 12 }, (_, i) => i);
  const plan = patchPlan(order, new Int32Array(12), 4, { growth: 2 });
  assert.equal(plan.realPatches, 3);
  assert.equal(plan.patches, 4);
  assert.deepEqual([...plan.gather], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 8, 9, 10, 11]);
  assert.deepEqual([...plan.scatter], [...order]);
  assert.throws(() => patchPlan(order, [0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0], 4), ConfigError);
  assert.throws(() => patchPlan(order, new Int32Array(12), 0), ConfigError);
});

test("patchPlan on a serialized random batch: every point appears, scatter ∘ gather = identity", () => {
  const rng = new Rng(2);
  const n = 1000;
  const grid = new Int32Array(n * 3);
  const batch = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    batch[i] = i < 700 ? 0 : 1;
    for (let k = 0; k < 3; k++) grid[i * 3 + k] = rng.int(64);
  }
  const s = serialize(grid, 6, undefined, batch);
  for (let o = 0; o < 4; o++) {
    const plan = patchPlan(s.order[o], batch, 128);
    assert.equal(plan.realPatches, 6 + 3);
    assert.equal(plan.patches, bucketCount(9));
    assert.equal(plan.gather.length, plan.patches * 128);
    for (let i = 0; i < n; i++) assert.equal(plan.gather[plan.scatter[i]], i);
    // Within every patch, all points belong to one cloud.
    for (let p = 0; p < plan.patches; p++) {
      const b = batch[plan.gather[p * 128]];
      for (let j = 1; j < 128; j++) assert.equal(batch[plan.gather[p * 128 + j]], b);
    }
    // Real slots follow the curve order.
    assert.deepEqual([...plan.gather.subarray(0, 128)], [...s.order[o].subarray(0, 128)]);
  }
});

test("bucketCount: geometric ladder of multiples; orderForBlock cycles", () => {
  assert.equal(bucketCount(1, 128), 128);
  assert.equal(bucketCount(128, 128), 128);
  assert.equal(bucketCount(129, 128), 256);
  const ladder = [...new Set(Array.from({ length: 200 }, (_, i) => bucketCount(i + 1)))];
  assert.deepEqual(ladder.slice(0, 8), [1, 2, 3, 4, 5, 7, 9, 12]);
  for (let n = 1; n < 5000; n += 37) {
    const b = bucketCount(n, 16);
    assert.ok(b >= n && b % 16 === 0 && b <= Math.max(16 * 2, n * 1.25 + 16 * 2), `${n} → ${b}`);
  }
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => orderForBlock(i, 4)), [0, 1, 2, 3, 0, 1]);
  assert.throws(() => bucketCount(5, 0), ConfigError);
});
