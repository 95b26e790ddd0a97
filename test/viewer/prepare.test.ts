import { test } from "node:test";
import assert from "node:assert/strict";
import { cameraCenter, lookAtCamera } from "../../src/core/camera.ts";
import { Rng } from "../../src/core/rng.ts";
import { projectGaussians, REC, R_CA, R_CB, R_CC, R_OPACITY, R_X, R_Y, TILE } from "../../src/render/project.ts";
import { syntheticRoomCloud } from "../../src/splat/synthetic.ts";
import { DepthSorter } from "../../viewer/sort.ts";
import { featurePcaColors } from "../../viewer/prepare.ts";

test("DepthSorter: ascending view depth, ties in index order, z ≤ near dropped", () => {
  const z = [3, 1, 2, 1, 0.1, -4, 2, 5];
  const positions = new Float32Array(z.flatMap((v) => [0, 0, v]));
  const view = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  const s = new DepthSorter(z.length);
  const n = s.sort(positions, view, 0.2);
  assert.deepEqual(Array.from(s.order.subarray(0, n)), [1, 3, 2, 6, 0, 7]);
});

/** Whether projected Gaussian i gives some pixel α ≥ 1/255 (brute force over its tile rectangle, inside the image). */
function contributes(i: number, records: Float32Array, rects: Int32Array, W: number, H: number): boolean {
  const r = i * REC;
  for (let py = rects[i * 4 + 1] * TILE; py < Math.min(H, rects[i * 4 + 3] * TILE); py++) {
    for (let px = rects[i * 4] * TILE; px < Math.min(W, rects[i * 4 + 2] * TILE); px++) {
      const dx = records[r + R_X] - (px + 0.5), dy = records[r + R_Y] - (py + 0.5);
      const power = -0.5 * (records[r + R_CA] * dx * dx + records[r + R_CC] * dy * dy) - records[r + R_CB] * dx * dy;
      if (power <= 0 && Math.min(0.99, records[r + R_OPACITY] * Math.exp(power)) >= 1 / 255) return true;
    }
  }
  return false;
}

test("DepthSorter's off-screen cull drops only Gaussians that give no pixel α ≥ 1/255 on the CPU", () => {
  const cloud = syntheticRoomCloud(6000, 9);
  const rng = new Rng(4);
  for (let k = 0; k < 4; k++) {
    // Cameras inside the room, so many Gaussians lie off-screen, some just past an edge.
    const eye: [number, number, number] = [rng.uniform(-2, 2), rng.uniform(-2, -0.5), rng.uniform(-2, 2)];
    const target: [number, number, number] = [rng.uniform(0, 3), rng.uniform(-2, 0), rng.uniform(1, 2.5)]; // towards the two walls
    const cam = lookAtCamera(eye, target, [0, -1, 0], { width: 96, height: 72, fx: 60 + 40 * k, cx: 40 + 4 * k, cy: 36 });
    const records = new Float32Array(cloud.count * REC);
    const rects = new Int32Array(cloud.count * 4);
    projectGaussians(
      cloud,
      { ...cam, view: cam.viewMatrix, center: cameraCenter(cam), near: 0.2, scaleModifier: 1, shDegree: cloud.shDegree },
      0,
      cloud.count,
      records,
      rects,
    );
    const sigmaMax = new Float32Array(cloud.count);
    for (let i = 0; i < cloud.count; i++) sigmaMax[i] = Math.exp(Math.max(cloud.logScales[i * 3], cloud.logScales[i * 3 + 1], cloud.logScales[i * 3 + 2]));
    const s = new DepthSorter(cloud.count);
    const n = s.sort(cloud.positions, cam.viewMatrix, 0.2, { sigmaMax, ...cam });
    const kept = new Set(s.order.subarray(0, n));
    let visible = 0;
    for (let i = 0; i < cloud.count; i++) {
      if (contributes(i, records, rects, cam.width, cam.height)) {
        visible++;
        assert.ok(kept.has(i), `camera ${k}: Gaussian ${i} contributes to a pixel but was culled`);
      }
    }
    assert.ok(n < cloud.count * 0.9, `camera ${k}: the cull should drop many (${n} of ${cloud.count} kept)`);
    assert.ok(visible > 100, `camera ${k} sees too little (${visible})`);
    // And the kept ones come front to back.
    for (let j = 1; j < n; j++) {
      const a = s.order[j - 1], b = s.order[j];
      const za = cam.viewMatrix[8] * cloud.positions[a * 3] + cam.viewMatrix[9] * cloud.positions[a * 3 + 1] + cam.viewMatrix[10] * cloud.positions[a * 3 + 2] + cam.viewMatrix[11];
      const zb = cam.viewMatrix[8] * cloud.positions[b * 3] + cam.viewMatrix[9] * cloud.positions[b * 3 + 1] + cam.viewMatrix[10] * cloud.positions[b * 3 + 2] + cam.viewMatrix[11];
      assert.ok(Math.fround(za) <= Math.fround(zb) + 1e-6, `order at ${j}`);
    }
  }
});

test("featurePcaColors: the first component follows the direction of largest variance, stretched to [0, 1]", () => {
  const rng = new Rng(1);
  const N = 4000, C = 6;
  const t = Float64Array.from({ length: N }, () => rng.normal());
  const f = new Float32Array(N * C);
  for (let i = 0; i < N; i++) {
    // Large variance along (1, 1, 0, …)/√2, small elsewhere.
    f[i * C] = 3 * t[i] / Math.SQRT2 + 0.05 * rng.normal();
    f[i * C + 1] = 3 * t[i] / Math.SQRT2 + 0.05 * rng.normal();
    for (let c = 2; c < C; c++) f[i * C + c] = 0.3 * rng.normal();
  }
  const col = featurePcaColors(f, C, N);
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < N; i++) {
    for (let k = 0; k < 3; k++) assert.ok(col[i * 4 + k] >= 0 && col[i * 4 + k] <= 1);
    lo = Math.min(lo, col[i * 4]);
    hi = Math.max(hi, col[i * 4]);
  }
  assert.equal(lo, 0);
  assert.equal(hi, 1);
  // Channel 0 is monotone in t (up to the clamp at the 1st/99th percentiles): rank correlation close to 1.
  const idx = Array.from({ length: N }, (_, i) => i).sort((a, b) => t[a] - t[b]);
  let inversions = 0;
  for (let j = 1; j < N; j++) if (col[idx[j] * 4] + 0.02 < col[idx[j - 1] * 4]) inversions++;
  assert.ok(inversions < N * 0.01, `${inversions} inversions`);
  // Same input, same colours.
  assert.deepEqual(featurePcaColors(f, C, N), col);
});
