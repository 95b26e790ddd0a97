/** Small seeded Gaussian clouds and cameras for tests. */
import { Rng } from "../../src/core/rng.ts";
import { allocateCloud, shRestCount, type GaussianCloud, type ShDegree } from "../../src/splat/cloud.ts";
import type { Camera } from "../../src/core/camera.ts";

/** A random cloud in front of an identity camera (z ∈ [1.5, 4]), with SH up to `degree` and optional features. */
export function randomCloud(seed: number, count: number, degree: ShDegree, featureChannels = 0): GaussianCloud {
  const rng = new Rng(seed);
  const cloud = allocateCloud(count, degree);
  for (let i = 0; i < count; i++) {
    cloud.positions.set([rng.uniform(-1.2, 1.2), rng.uniform(-1, 1), rng.uniform(1.5, 4)], i * 3);
    cloud.logScales.set([rng.uniform(-4, -1.5), rng.uniform(-4, -1.5), rng.uniform(-4, -1.5)], i * 3);
    const q = [rng.normal(), rng.normal(), rng.normal(), rng.normal()];
    const n = Math.hypot(...q);
    cloud.rotations.set(q.map((v) => v / n), i * 4);
    cloud.opacityLogits[i] = rng.uniform(-3, 4);
    cloud.shDc.set([rng.uniform(-1.5, 1.5), rng.uniform(-1.5, 1.5), rng.uniform(-1.5, 1.5)], i * 3);
  }
  for (let k = 0; k < count * shRestCount(degree) * 3; k++) cloud.shRest[k] = rng.uniform(-0.3, 0.3);
  for (let c = 0; c < featureChannels; c++) {
    const f = new Float32Array(count);
    for (let i = 0; i < count; i++) f[i] = rng.uniform(-1, 1);
    cloud.extras.set(`f_pc_${c}`, f);
  }
  return cloud;
}

/** A pinhole camera at the origin looking down +z (OpenCV axes). */
export function axisCamera(width: number, height: number, f: number, cx = width / 2, cy = height / 2): Camera {
  const viewMatrix = new Float64Array(16);
  viewMatrix[0] = viewMatrix[5] = viewMatrix[10] = viewMatrix[15] = 1;
  return { width, height, fx: f, fy: f, cx, cy, viewMatrix };
}
