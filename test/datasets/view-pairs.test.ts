import { test } from "node:test";
import assert from "node:assert/strict";
import { lookAtCamera, projectPoint, type Camera } from "../../src/core/camera.ts";
import { ConfigError, ShapeError } from "../../src/core/errors.ts";
import type { Vec3 } from "../../src/core/math.ts";
import { Rng } from "../../src/core/rng.ts";
import {
  cropCorrespondences,
  frustumBitset,
  frustumIoU,
  frustumIoUMatrix,
  PAPER_PAIR_SELECTION,
  sharedGaussians,
  viewPairs,
  viewVisibility,
  visibleIndices,
  type ViewVisibility,
} from "../../src/datasets/view-pairs.ts";

const UP: Vec3 = [0, -1, 0];
const intr = { width: 100, height: 100, fx: 50 }; // half field of view: tan = 1, so NDC x = (x/z)

function cam(eye: Vec3, target: Vec3, up: Vec3 = UP, extra: Partial<Camera> = {}): Camera {
  return { ...lookAtCamera(eye, target, up, intr), ...extra };
}

const pos = (pts: number[][]) => Float32Array.from(pts.flat());
const indicesOf = (bits: Uint32Array, n: number) => Array.from({ length: n }, (_, i) => i).filter((i) => (bits[i >>> 5] >>> (i & 31)) & 1);

test("frustum culling: z > 0 and NDC x, y within ±1.3, with an off-centre principal point", () => {
  const c = cam([0, 0, 0], [0, 0, 1]);
  // With fx = W/2 and cx = W/2, NDC x is x/z and NDC y is y/z.
  const p = pos([
    [0, 0, 1], //        0 in
    [1.2, 0, 1], //      1 in (1.2)
    [1.4, 0, 1], //      2 out (1.4)
    [0, 0, -1], //       3 out (behind)
    [0, -1.29, 1], //    4 in
    [0, 0, 0], //        5 out (z = 0)
    [-2.5, 2.5, 2], //   6 in (−1.25, 1.25)
    [0, 2.7, 2], //      7 out (1.35)
  ]);
  const r = frustumBitset(p, c);
  assert.deepEqual(indicesOf(r.bits, 8), [0, 1, 4, 6]);
  assert.equal(r.size, 4);
  // cx = 30: u ∈ [−0.3·50, 2.3·50] = [−15, 115] ⇔ x/z ∈ [(−15 − 30)/50, (115 − 30)/50] = [−0.9, 1.7].
  const off = cam([0, 0, 0], [0, 0, 1], UP, { cx: 30 });
  const q = pos([
    [-1, 0, 1], //   out (−1.0 < −0.9)
    [-0.85, 0, 1], // in
    [1.6, 0, 1], //  in
    [1.75, 0, 1], // out
  ]);
  assert.deepEqual(indicesOf(frustumBitset(q, off).bits, 4), [1, 2]);
  // A narrower limit: NDC within ±1 keeps only |x/z| ≤ 1.
  assert.deepEqual(indicesOf(frustumBitset(p, c, 1).bits, 8), [0]);
});

// Three cameras on the z axis. A at the origin looks +z, B at z = 10 looks −z, C at the origin looks −z.
// Gaussians: 0–3 at z = 5 (A and B see them), 4–5 at z = 11 (A only; behind B), 6–8 at z = −1 (B and C).
//   A = {0..5} (6), B = {0..3, 6..8} (7), C = {6..8} (3).
//   IoU(A, B) = 4 / (6 + 7 − 4) = 4/9 = 0.444  → a pair (inside (0.3, 0.8))
//   IoU(A, C) = 0 / 9 = 0                      → no pair
//   IoU(B, C) = 3 / (7 + 3 − 3) = 3/7 = 0.429  → a pair
const scene = () => {
  const positions = pos([
    [0, 0, 5],
    [0.5, 0, 5],
    [0, 0.5, 5],
    [-0.5, -0.5, 5],
    [1, 0, 11],
    [0, 1, 11],
    [0, 0, -1],
    [0.2, 0, -1],
    [0, 0.2, -1],
  ]);
  const cameras = [cam([0, 0, 0], [0, 0, 1]), cam([0, 0, 10], [0, 0, 0]), cam([0, 0, 0], [0, 0, -1])];
  return { positions, cameras };
};

test("frustum IoU, pairs in (0.3, 0.8) and shared Gaussians on a hand-built scene", () => {
  const { positions, cameras } = scene();
  const vis = viewVisibility(positions, cameras);
  assert.deepEqual(Array.from(vis.sizes), [6, 7, 3]);
  assert.deepEqual(Array.from(visibleIndices(vis, 1)), [0, 1, 2, 3, 6, 7, 8]);
  assert.equal(frustumIoU(vis, 0, 1), 4 / 9);
  assert.equal(frustumIoU(vis, 0, 2), 0);
  assert.equal(frustumIoU(vis, 1, 2), 3 / 7);
  assert.deepEqual(Array.from(frustumIoUMatrix(vis)), [1, 4 / 9, 0, 4 / 9, 1, 3 / 7, 0, 3 / 7, 1]);
  const pairs = viewPairs(positions, cameras);
  assert.deepEqual(
    pairs.map((p) => [p.a, p.b, p.iou, Array.from(p.shared)]),
    [
      [0, 1, 4 / 9, [0, 1, 2, 3]],
      [1, 2, 3 / 7, [6, 7, 8]],
    ],
  );
  // The band is open: raising the lower bound to exactly 4/9 drops the (A, B) pair.
  assert.deepEqual(
    viewPairs(positions, cameras, { minIoU: 4 / 9 }).map((p) => [p.a, p.b]),
    [],
  );
  // Ranks in each view's cropped list: B's list is [0, 1, 2, 3, 6, 7, 8], C's is [6, 7, 8], so Gaussians 6, 7, 8
  // sit at ranks (4, 0), (5, 1), (6, 2).
  assert.deepEqual(Array.from(cropCorrespondences(vis, 1, 2)), [4, 0, 5, 1, 6, 2]);
});

/** Visibility from a naive per-Gaussian projection, as an independent reference. */
function naiveVisible(positions: Float32Array, c: Camera): Set<number> {
  const out = new Set<number>();
  for (let i = 0; i < positions.length / 3; i++) {
    const p = projectPoint(c, [positions[3 * i], positions[3 * i + 1], positions[3 * i + 2]]);
    const nx = (2 * p.u) / c.width - 1,
      ny = (2 * p.v) / c.height - 1;
    if (p.depth > 0 && Math.abs(nx) <= 1.3 && Math.abs(ny) <= 1.3) out.add(i);
  }
  return out;
}

test("bitset results agree with a naive set implementation on random Gaussians and cameras", () => {
  const rng = new Rng(21);
  const n = 3001; // not a multiple of 32, and many indices on bit 31 of a word
  const positions = new Float32Array(3 * n);
  for (let i = 0; i < 3 * n; i++) positions[i] = rng.uniform(-4, 4);
  const cameras: Camera[] = [];
  for (let v = 0; v < 7; v++) {
    const eye: Vec3 = [rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1)];
    const target: Vec3 = [rng.uniform(-3, 3), rng.uniform(-3, 3), rng.uniform(-3, 3)];
    cameras.push({ ...lookAtCamera(eye, target, UP, { width: 64, height: 48, fx: 40 }), cx: rng.uniform(20, 44) });
  }
  const vis = viewVisibility(positions, cameras);
  const sets = cameras.map((c) => naiveVisible(positions, c));
  for (let a = 0; a < cameras.length; a++) {
    assert.deepEqual(Array.from(visibleIndices(vis, a)), [...sets[a]].sort((x, y) => x - y));
    const ranksA = new Map([...sets[a]].sort((x, y) => x - y).map((g, r) => [g, r]));
    for (let b = 0; b < cameras.length; b++) {
      const shared = [...sets[a]].filter((g) => sets[b].has(g)).sort((x, y) => x - y);
      const union = new Set([...sets[a], ...sets[b]]).size;
      assert.equal(frustumIoU(vis, a, b), union === 0 ? 0 : shared.length / union);
      assert.deepEqual(Array.from(sharedGaussians(vis, a, b)), shared);
      const ranksB = new Map([...sets[b]].sort((x, y) => x - y).map((g, r) => [g, r]));
      assert.deepEqual(
        Array.from(cropCorrespondences(vis, a, b)),
        shared.flatMap((g) => [ranksA.get(g), ranksB.get(g)]),
      );
    }
  }
});

/** A hand-made visibility: every view sees Gaussians 0 and 1 plus its own, so any two views have IoU 2/4 = 0.5. */
function uniformVisibility(views: number): { vis: ViewVisibility; positions: Float32Array } {
  const count = 2 + views;
  const bits = Array.from({ length: views }, (_, v) => Uint32Array.of(0b11 | (1 << (2 + v))));
  return { vis: { count, words: 1, bits, sizes: new Uint32Array(views).fill(3) }, positions: new Float32Array(3 * count) };
}

test("anchor stride and minimum gap follow the reference code's rule", () => {
  const views = 8;
  const { vis, positions } = uniformVisibility(views);
  const cameras = Array.from({ length: views }, () => cam([0, 0, 0], [0, 0, 1]));
  // Defaults: every pair a < b (all IoU 0.5): 8·7/2 = 28.
  assert.equal(viewPairs(positions, cameras, {}, vis).length, 28);
  // Stride 3, gap 3. Anchors 0, 3, 6; lastSaved starts at 0 for each anchor and b needs lastSaved + 3 ≤ b:
  //   anchor 0: b = 3 (0 + 3 ≤ 3), then b = 6 (3 + 3 ≤ 6)         → (0,3), (0,6)
  //   anchor 3: b = 4 (0 + 3 ≤ 4, the gap counts from frame 0), then b = 7 → (3,4), (3,7)
  //   anchor 6: b = 7 (0 + 3 ≤ 7)                                  → (6,7)
  assert.deepEqual(
    viewPairs(positions, cameras, { anchorStride: 3, minGap: 3 }, vis).map((p) => [p.a, p.b]),
    [
      [0, 3],
      [0, 6],
      [3, 4],
      [3, 7],
      [6, 7],
    ],
  );
  assert.deepEqual(PAPER_PAIR_SELECTION, { anchorStride: 25, minGap: 25 });
});

test("150k Gaussians × 48 views: culling and pairing run at full scale and find pairs", () => {
  const rng = new Rng(1);
  const n = 150_000;
  const positions = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    positions[3 * i] = rng.uniform(-3, 3);
    positions[3 * i + 1] = rng.uniform(-1.5, 1.5);
    positions[3 * i + 2] = rng.uniform(-3, 3);
  }
  const cameras: Camera[] = [];
  for (let v = 0; v < 48; v++) {
    const yaw = (2 * Math.PI * v) / 48;
    const eye: Vec3 = [0.5 * Math.cos(yaw), 0, 0.5 * Math.sin(yaw)];
    cameras.push(lookAtCamera(eye, [eye[0] + Math.cos(yaw + 1.3), 0, eye[2] + Math.sin(yaw + 1.3)], UP, { width: 320, height: 240, fx: 160 }));
  }
  const vis = viewVisibility(positions, cameras);
  const pairs = viewPairs(positions, cameras, {}, vis);
  assert.ok(pairs.length > 0);
});

test("bad input raises ShapeError / ConfigError naming the function and both shapes", () => {
  const c = cam([0, 0, 0], [0, 0, 1]);
  assert.throws(
    () => frustumBitset(new Float32Array(7), c),
    (e: unknown) => e instanceof ShapeError && /frustumBitset/.test(e.message) && /\[7\]/.test(e.message) && /N·3/.test(e.message),
  );
  assert.throws(() => frustumBitset(new Float32Array(99), c, 1.3, new Uint32Array(3)), (e: unknown) => e instanceof ShapeError && /\[2\]/.test(e.message) && /\[3\]/.test(e.message));
  assert.throws(() => viewVisibility(new Float32Array(4), [c]), ShapeError);
  const { positions, cameras } = scene();
  const vis = viewVisibility(positions, cameras);
  assert.throws(() => viewPairs(positions, cameras.slice(0, 2), {}, vis), (e: unknown) => e instanceof ShapeError && /viewPairs/.test(e.message) && /2 views/.test(e.message) && /3 views/.test(e.message));
  assert.throws(() => viewPairs(positions, cameras, { minIoU: 0.9, maxIoU: 0.8 }), ConfigError);
  assert.throws(() => viewPairs(positions, cameras, { anchorStride: 0 }), ConfigError);
  assert.throws(() => frustumIoU(vis, 0, 3), ConfigError);
});
