import { test } from "node:test";
import assert from "node:assert/strict";
import { ShapeError } from "../../src/core/errors.ts";
import { depthMetrics, meanDepthMetrics } from "../../src/metrics/depth.ts";

const near = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

// Six pixels (pred, gt) in metres:
//   (2, 1)   valid: |diff| 1, rel 1, sq 1, sq/gt 1, ln-ratio ln 2, max ratio 2 (fails δ1, δ2 = 1.5625, δ3 = 1.953125)
//   (1, 1)   valid: all errors 0, ratio 1 (passes every δ)
//   (0, 2)   invalid: pred 0 (also counts as not filled for Comp)
//   (3, 0)   invalid: gt 0
//   (5, 12)  invalid: gt ≥ 10
//   (5, 4)   valid: |diff| 1, rel 0.25, sq 1, sq/gt 0.25, ln 1.25, ratio exactly 1.25 (fails the strict δ1, passes δ2, δ3)
// n = 3:
//   AbsRel = (1 + 0 + 0.25)/3 = 0.416667      AbsDiff = 2/3 = 0.666667    SqRel = 1.25/3 = 0.416667
//   RMSE = √(2/3) = 0.816497                   LogRMSE = √((ln²2 + ln²1.25)/3) = √((0.480453 + 0.049793)/3) = 0.420415
//   δ1 = 1/3, δ2 = 2/3, δ3 = 2/3               Comp = pred > 0 in 5 of 6 pixels = 0.833333
const pred = Float32Array.from([2, 1, 0, 3, 5, 5]);
const gt = Float32Array.from([1, 1, 2, 0, 12, 4]);

test("Atlas depth metrics match the hand computation", () => {
  const m = depthMetrics(pred, gt);
  near(m.absRel, 0.416667);
  near(m.absDiff, 0.666667);
  near(m.sqRel, 0.416667);
  near(m.rmse, 0.816497);
  near(m.logRmse, 0.420415);
  near(m.delta1, 1 / 3);
  near(m.delta2, 2 / 3);
  near(m.delta3, 2 / 3);
  near(m.comp, 5 / 6);
  assert.equal(m.validPixels, 3);
});

test("a perfect prediction scores zero error and full δ", () => {
  const d = Float32Array.from([0.5, 1.5, 9.99]);
  const m = depthMetrics(d, d);
  for (const k of ["absRel", "absDiff", "sqRel", "rmse", "logRmse"] as const) assert.equal(m[k], 0);
  for (const k of ["delta1", "delta2", "delta3", "comp"] as const) assert.equal(m[k], 1);
});

test("per-frame means skip frames without valid pixels", () => {
  // Frame 2 has only invalid GT: its error terms are NaN, its Comp is 1 (pred > 0 everywhere).
  // Means: errors from frame 1 alone; Comp = (5/6 + 1)/2 = 0.916667; validPixels = 3 + 0.
  const f1 = depthMetrics(pred, gt);
  const f2 = depthMetrics(Float32Array.from([1, 1]), Float32Array.from([0, 11]));
  assert.ok(Number.isNaN(f2.absRel));
  const m = meanDepthMetrics([f1, f2]);
  near(m.absRel, f1.absRel, 1e-12);
  near(m.rmse, f1.rmse, 1e-12);
  near(m.comp, (5 / 6 + 1) / 2);
  assert.equal(m.validPixels, 3);
  // Two valid frames average per frame, not per pixel: AbsRel of frame (2, 1) alone is 1, of (1, 1) alone 0.
  const a = depthMetrics(Float32Array.from([2]), Float32Array.from([1]));
  const b = depthMetrics(Float32Array.from([1, 1, 1]), Float32Array.from([1, 1, 1]));
  near(meanDepthMetrics([a, b]).absRel, 0.5);
});

test("bad input: mismatched lengths raise ShapeError naming the function and both shapes", () => {
  assert.throws(
    () => depthMetrics(new Float32Array(3), new Float32Array(4)),
    (e: unknown) => e instanceof ShapeError && /depthMetrics/.test(e.message) && /\[4\]/.test(e.message) && /\[3\]/.test(e.message),
  );
});
