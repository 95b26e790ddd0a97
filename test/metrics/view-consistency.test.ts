import { test } from "node:test";
import assert from "node:assert/strict";
import { cameraCenter, lookAtCamera, type Camera } from "../../src/core/camera.ts";
import { ShapeError } from "../../src/core/errors.ts";
import { Rng } from "../../src/core/rng.ts";
import type { Vec3 } from "../../src/core/math.ts";
import { frustumIoU, viewVisibility } from "../../src/datasets/view-pairs.ts";
import {
  accumulateDirection,
  emptyConsistencyCounts,
  viewConsistency,
  type ConsistencyView,
} from "../../src/metrics/view-consistency.ts";

const IGN = 65535;
const W = 8,
  H = 2;
const intr = { width: W, height: H, fx: 4, fy: 4, cx: 4, cy: 1 };
const UP: Vec3 = [0, -1, 0]; // OpenCV: image y points down, so world −y is up

/**
 * The two-camera scene. Both cameras look along +z: A at the origin, B at x = 1.25. A wall (class 1) fills
 * z = 4; an occluder (class 2) is a strip at z = 2.5 with 0.1 ≤ x ≤ 0.6, spanning all y.
 * Pixel column i has ray x/z = (i + 0.5 − 4)/4; rows have y/z = ±0.125 and play no part in the geometry.
 *
 *   A sees the occluder in column 4 only (x = 0.3125 at z = 2.5); B in column 2 only (x = 1.25 − 0.9375).
 *   A → B: a wall point of column i lands at u = i − 0.75 in B. Column 0 falls outside; column 3 lands on B's
 *     occluder column 2 (depth 2.5 against 4: occluded, dropped); A's occluder column 4 lands at u = 2.5 on B's
 *     occluder (kept). Kept: columns 1, 2, 4, 5, 6, 7 → 6 per row.
 *   B → A: a wall point of column i lands at u = i + 1.75 in A. Column 7 falls outside; column 3 lands on A's
 *     occluder column 4 (dropped); B's occluder column 2 lands at u = 4.5 on A's occluder (kept).
 *     Kept: columns 0, 1, 2, 4, 5, 6 → 6 per row.
 * Total: (6 + 6) × 2 rows = 24 counted pixels.
 */
function castView(eyeX: number): ConsistencyView {
  const camera = lookAtCamera([eyeX, 0, 0], [eyeX, 0, 1], UP, intr);
  const depth = new Float32Array(W * H);
  const gt = new Uint16Array(W * H);
  for (let j = 0; j < H; j++) {
    for (let i = 0; i < W; i++) {
      const x = eyeX + ((i + 0.5 - intr.cx) / intr.fx) * 2.5;
      const hitsOccluder = x >= 0.1 && x <= 0.6;
      depth[j * W + i] = hitsOccluder ? 2.5 : 4;
      gt[j * W + i] = hitsOccluder ? 2 : 1;
    }
  }
  return { camera, depth, gt, pred: gt.slice() };
}

const always = () => 1;

test("two cameras, a wall and an occluder: exactly the derived pixels count, GT agrees everywhere", () => {
  const a = castView(0),
    b = castView(1.25);
  assert.deepEqual(Array.from(a.gt.subarray(0, W)), [1, 1, 1, 1, 2, 1, 1, 1]);
  assert.deepEqual(Array.from(b.gt.subarray(0, W)), [1, 1, 2, 1, 1, 1, 1, 1]);
  // Each direction on its own: 6 per row.
  assert.equal(accumulateDirection(a, b, emptyConsistencyCounts()).counted, 12);
  assert.equal(accumulateDirection(b, a, emptyConsistencyCounts()).counted, 12);
  const r = viewConsistency([a, b], { frustumIoU: always });
  assert.equal(r.pairs, 1);
  assert.equal(r.counted, 24);
  assert.equal(r.gtCeiling, 1);
  assert.equal(r.viewConsistency, 1);
});

test("disagreeing predictions, ignore labels and invalid depth each remove the derived pixels", () => {
  const a = castView(0),
    b = castView(1.25);
  // B predicts class 7 at (col 5, row 0). It is counted twice: A col 6 → B col 5, and B col 5 → A col 6
  // (u = 6.75). Both disagree.
  b.pred[5] = 7;
  // A's GT is ignore at (col 7, row 1): drops A col 7 → B col 6, and B col 6 → A col 7 (u = 7.75).
  a.gt[W + 7] = IGN;
  // B's depth is invalid at (col 0, row 0): drops B col 0 → A, and A col 1 → B col 0 (u = 0.25).
  b.depth[0] = 0;
  // Counted 24 − 2 − 2 = 20; predictions agree on 20 − 2 = 18 → 0.9; GT agrees on all 20 → 1.
  const r = viewConsistency([a, b], { frustumIoU: always });
  assert.equal(r.counted, 20);
  assert.equal(r.predAgree, 18);
  assert.equal(r.viewConsistency, 0.9);
  assert.equal(r.gtCeiling, 1);
});

test("gtCeiling falls below 1 where the ground truth itself disagrees across views", () => {
  const a = castView(0),
    b = castView(1.25);
  // B's GT (and prediction, which copies it) says class 3 at (col 4, row 1), seen from A col 5 and seen
  // looking back from B col 4 → A col 5 (u = 5.75): 2 of 24 counted pixels disagree in both GT and prediction.
  b.gt[W + 4] = 3;
  b.pred[W + 4] = 3;
  const r = viewConsistency([a, b], { frustumIoU: always });
  assert.equal(r.counted, 24);
  assert.equal(r.gtCeiling, 22 / 24);
  assert.equal(r.viewConsistency, 22 / 24);
});

test("depth test: |z_proj − z_B| ≤ max(0.02 m, 0.02·z_B)", () => {
  // B's depth at (col 5, row 0) becomes 4·1.019 = 4.076: the difference 0.076 ≤ 0.02·4.076 = 0.0815 (A → B), and
  // looking back, B's unprojected point has z 4.076 against A's 4: 0.076 ≤ 0.08. Both kept: 24.
  const a = castView(0),
    b = castView(1.25);
  b.depth[5] = 4 * 1.019;
  assert.equal(viewConsistency([a, b], { frustumIoU: always }).counted, 24);
  // At 4·1.021 = 4.084: 0.084 > 0.0817 and 0.084 > 0.08, so both directions drop: 22.
  b.depth[5] = 4 * 1.021;
  assert.equal(viewConsistency([a, b], { frustumIoU: always }).counted, 22);
  // The absolute floor: with a relative tolerance of 0, 2 cm still passes and 3 cm does not.
  b.depth[5] = 4.015;
  assert.equal(viewConsistency([a, b], { frustumIoU: always, depthTolRel: 0 }).counted, 24);
  b.depth[5] = 4.03;
  assert.equal(viewConsistency([a, b], { frustumIoU: always, depthTolRel: 0 }).counted, 22);
});

test("pairs are (i, i + k) for k ∈ {1, 2, 4}, kept at frustum IoU ≥ 0.3, evaluated in both directions", () => {
  const views = [0, 1, 2, 3, 4].map(() => castView(0));
  const asked: string[] = [];
  const r = viewConsistency(views, {
    frustumIoU: (i, j) => {
      asked.push(`${i}-${j}`);
      return i === 0 && j === 4 ? 0.29 : 0.3;
    },
  });
  assert.deepEqual(asked, ["0-1", "0-2", "0-4", "1-2", "1-3", "2-3", "2-4", "3-4"]);
  // 7 pairs kept (0-4 is below 0.3); identical cameras count every pixel: 7 × 2 × 16.
  assert.equal(r.pairs, 7);
  assert.equal(r.counted, 7 * 2 * W * H);
  const none = viewConsistency([castView(0), castView(1.25)], { frustumIoU: () => 0 });
  assert.equal(none.counted, 0);
  assert.ok(Number.isNaN(none.viewConsistency));
});

test("random cameras over a labelled floor: GT ceiling near 1, perfect predictions reach it, frustum IoU from view pairs", () => {
  // A plane z = 0 seen from above by a walk of cameras; labels are 1 m stripes in world x, so only pixels
  // whose projection straddles a stripe edge can disagree.
  const rng = new Rng(5);
  const w = 64,
    h = 48;
  const cams: Camera[] = [];
  for (let v = 0; v < 6; v++) {
    const eye: Vec3 = [0.2 * v + rng.uniform(-0.05, 0.05), rng.uniform(-0.1, 0.1), 2 + rng.uniform(-0.1, 0.1)];
    cams.push(lookAtCamera(eye, [eye[0] + 0.3, eye[1], 0], [0, 1, 0], { width: w, height: h, fx: 40 }));
  }
  const views: ConsistencyView[] = cams.map((camera) => {
    const m = camera.viewMatrix;
    const eye = cameraCenter(camera);
    const depth = new Float32Array(w * h);
    const gt = new Uint16Array(w * h);
    for (let j = 0; j < h; j++) {
      for (let i = 0; i < w; i++) {
        const cx = (i + 0.5 - camera.cx) / camera.fx,
          cy = (j + 0.5 - camera.cy) / camera.fy;
        // World direction of the ray with unit camera z: Rᵀ·(cx, cy, 1); the hit's planar depth is t.
        const dz = m[2] * cx + m[6] * cy + m[10];
        const t = -eye[2] / dz;
        const dx = m[0] * cx + m[4] * cy + m[8];
        depth[j * w + i] = t;
        gt[j * w + i] = Math.floor(eye[0] + t * dx) & 3;
      }
    }
    return { camera, depth, gt, pred: gt.slice() };
  });
  const positions = new Float32Array(3 * 20000);
  for (let g = 0; g < 20000; g++) {
    positions[3 * g] = rng.uniform(-3, 4);
    positions[3 * g + 1] = rng.uniform(-3, 3);
  }
  const vis = viewVisibility(positions, cams);
  const r = viewConsistency(views, { frustumIoU: (a, b) => frustumIoU(vis, a, b) });
  assert.ok(r.pairs >= 5, `pairs ${r.pairs}`);
  assert.ok(r.counted > 0.5 * r.pairs * 2 * w * h, `counted ${r.counted}`);
  assert.ok(r.gtCeiling > 0.95 && r.gtCeiling <= 1, `gtCeiling ${r.gtCeiling}`);
  assert.equal(r.viewConsistency, r.gtCeiling);
  // A constant label everywhere agrees trivially: ceiling exactly 1.
  for (const v of views) v.gt.fill(1);
  assert.equal(viewConsistency(views, { frustumIoU: () => 1 }).gtCeiling, 1);
});

test("bad input: arrays that do not match the camera raise ShapeError naming the function and both shapes", () => {
  const a = castView(0),
    b = castView(1.25);
  b.depth = new Float32Array(15);
  assert.throws(
    () => viewConsistency([a, b], { frustumIoU: always }),
    (e: unknown) => e instanceof ShapeError && /viewConsistency: view 1\.depth/.test(e.message) && /16/.test(e.message) && /\[15\]/.test(e.message),
  );
  b.depth = new Float32Array(16);
  b.pred = new Uint16Array(17);
  assert.throws(() => accumulateDirection(a, b, emptyConsistencyCounts()), ShapeError);
});
