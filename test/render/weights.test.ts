import { test, after } from "node:test";
import assert from "node:assert/strict";
import {
  accumulateGaussianWeights,
  closeRenderWorkers,
  createGaussianAccumulator,
  render,
  type GaussianAccumulator,
} from "../../src/render/render.ts";
import { referenceGaussianWeights, referenceProject } from "../../src/render/reference.ts";
import { allocateCloud } from "../../src/splat/cloud.ts";
import { Rng } from "../../src/core/rng.ts";
import { ConfigError, ShapeError } from "../../src/core/errors.ts";
import { axisCamera, randomCloud } from "../helpers/clouds.ts";

after(closeRenderWorkers);

const logit = (p: number) => Math.log(p / (1 - p));

function randomEvidence(seed: number, pixels: number, K: number): Float32Array {
  const rng = new Rng(seed);
  const e = new Float32Array(pixels * K);
  for (let i = 0; i < e.length; i++) e[i] = rng.uniform(0, 1);
  return e;
}

test("single isotropic Gaussian: weight and gathered evidence match the analytic per-pixel sums", async () => {
  const f = 100, z = 2, sigma = 0.03, o = 0.8, W = 64, H = 48;
  const cam = axisCamera(W, H, f, 32.5, 20.5);
  const cloud = allocateCloud(1, 0);
  cloud.positions.set([0, 0, z]);
  cloud.logScales.fill(Math.log(sigma));
  cloud.opacityLogits[0] = logit(o);
  // Evidence: channel 0 = 1 everywhere, channel 1 = the pixel's column, channel 2 = 1 on the left of column 32.
  const K = 3;
  const ev = new Float32Array(W * H * K);
  for (let p = 0; p < W * H; p++) {
    ev[p * K] = 1;
    ev[p * K + 1] = p % W;
    ev[p * K + 2] = p % W < 32 ? 1 : 0;
  }
  const acc = createGaussianAccumulator(1, K);
  await accumulateGaussianWeights(cloud, cam, { kind: "dense", values: ev, classes: K }, acc, { threads: 1 });
  // 2D variance (f·σ/z)² + 0.3 px² at the optical axis; T = 1 for the only Gaussian, so w(p) = α(p).
  const var2 = (f * sigma / z) ** 2 + 0.3;
  let w = 0, wx = 0, wLeft = 0;
  for (let p = 0; p < W * H; p++) {
    const dx = (p % W) - 32, dy = Math.floor(p / W) - 20;
    const a = o * Math.exp(-(dx * dx + dy * dy) / (2 * var2));
    if (a < 1 / 255) continue;
    w += a;
    wx += a * (p % W);
    if (p % W < 32) wLeft += a;
  }
  assert.ok(Math.abs(acc.values[0] - w) < 1e-4 * w, `weight ${acc.values[0]} vs ${w}`);
  assert.ok(Math.abs(acc.values[1] - w) < 1e-4 * w);
  assert.ok(Math.abs(acc.values[2] - wx) < 1e-4 * wx, `Σ α·x ${acc.values[2]} vs ${wx}`);
  assert.ok(Math.abs(acc.values[3] - wLeft) < 1e-4 * wLeft);
  // Hard labels (left = class 0, right = class 1, one row ignored): the one-hot of the same split.
  const labels = new Uint16Array(W * H);
  for (let p = 0; p < W * H; p++) labels[p] = p % W < 32 ? 0 : 1;
  labels.fill(65535, 20 * W, 21 * W);
  const hard = createGaussianAccumulator(1, 2);
  await accumulateGaussianWeights(cloud, cam, { kind: "labels", labels, classes: 2 }, hard, { threads: 1 });
  const perClass = [0, 0];
  for (let p = 0; p < W * H; p++) {
    const dx = (p % W) - 32, dy = Math.floor(p / W) - 20;
    const a = o * Math.exp(-(dx * dx + dy * dy) / (2 * var2));
    if (a >= 1 / 255 && labels[p] < 2) perClass[labels[p]] += a;
  }
  assert.ok(Math.abs(hard.values[0] - w) < 1e-4 * w, "ignored pixels still count in the total weight");
  assert.ok(Math.abs(hard.values[1] - perClass[0]) < 1e-4 * w, `class 0: ${hard.values[1]} vs ${perClass[0]}`);
  assert.ok(Math.abs(hard.values[2] - perClass[1]) < 1e-4 * w, `class 1: ${hard.values[2]} vs ${perClass[1]}`);
  assert.ok(hard.values[1] + hard.values[2] < w - 0.5, "the ignored row adds no evidence");
  // A second view adds to the same accumulator.
  await accumulateGaussianWeights(cloud, cam, { kind: "labels", labels, classes: 2 }, hard, { threads: 1 });
  assert.ok(Math.abs(hard.values[0] - 2 * w) < 2e-4 * w);
});

test("random Gaussians: per-Gaussian weights and evidence match the brute-force per-pixel oracle", async () => {
  const W = 40, H = 36, K = 5, N = 160;
  const cloud = randomCloud(7, N, 1);
  const cam = axisCamera(W, H, 30);
  const ev = randomEvidence(3, W * H, K);
  const acc = createGaussianAccumulator(N, K);
  const stats = await accumulateGaussianWeights(cloud, cam, { kind: "dense", values: ev, classes: K }, acc, { threads: 1 });
  assert.ok(stats.blends > 1000, `a real workload (${stats.blends} blends)`);
  const ref = referenceGaussianWeights(referenceProject(cloud, cam), cam, N, K, (p, k) => ev[p * K + k]);
  let maxErr = 0, total = 0, seen = 0;
  for (let g = 0; g < N; g++) {
    const scale = Math.max(1, ref.weight[g]);
    maxErr = Math.max(maxErr, Math.abs(acc.values[g * (K + 1)] - ref.weight[g]) / scale);
    for (let k = 0; k < K; k++) maxErr = Math.max(maxErr, Math.abs(acc.values[g * (K + 1) + 1 + k] - ref.evidence[g * K + k]) / scale);
    total += ref.weight[g];
    if (ref.weight[g] > 0) seen++;
  }
  assert.ok(seen > N / 3, `${seen} Gaussians contribute`);
  assert.ok(maxErr < 2e-4, `max relative error ${maxErr} (total weight ${total})`);
  // Hard labels equal the dense pass on their one-hot image.
  const labels = new Uint16Array(W * H);
  for (let p = 0; p < W * H; p++) labels[p] = (p * 7919) % (K + 1) === K ? 65535 : (p * 7919) % (K + 1);
  const hard = createGaussianAccumulator(N, K);
  await accumulateGaussianWeights(cloud, cam, { kind: "labels", labels, classes: K }, hard, { threads: 1 });
  const refHard = referenceGaussianWeights(referenceProject(cloud, cam), cam, N, K, (p, k) => (labels[p] === k ? 1 : 0));
  for (let g = 0; g < N; g++) {
    const scale = Math.max(1, refHard.weight[g]);
    for (let k = 0; k < K; k++) {
      assert.ok(Math.abs(hard.values[g * (K + 1) + 1 + k] - refHard.evidence[g * K + k]) < 2e-4 * scale, `g ${g} class ${k}`);
    }
  }
});

test("the weights add up to the rendered alpha, and the evidence to Σ E·alpha over pixels", async () => {
  const W = 70, H = 50, K = 4, N = 400;
  const cloud = randomCloud(11, N, 0);
  const cam = axisCamera(W, H, 45);
  const ev = randomEvidence(5, W * H, K);
  const acc = createGaussianAccumulator(N, K);
  await accumulateGaussianWeights(cloud, cam, { kind: "dense", values: ev, classes: K }, acc, { threads: 2 });
  const img = await render(cloud, cam, { threads: 2 });
  const sums = new Float64Array(K + 1);
  for (let g = 0; g < N; g++) for (let c = 0; c <= K; c++) sums[c] += acc.values[g * (K + 1) + c];
  let alphaSum = 0;
  const evAlpha = new Float64Array(K);
  for (let p = 0; p < W * H; p++) {
    alphaSum += img.alpha[p];
    for (let k = 0; k < K; k++) evAlpha[k] += img.alpha[p] * ev[p * K + k];
  }
  assert.ok(alphaSum > 100, `covered (${alphaSum})`);
  assert.ok(Math.abs(sums[0] - alphaSum) < 1e-4 * alphaSum, `Σ w ${sums[0]} vs Σ alpha ${alphaSum}`);
  for (let k = 0; k < K; k++) assert.ok(Math.abs(sums[k + 1] - evAlpha[k]) < 1e-4 * evAlpha[k]);
});

test("results are bit-identical for 1, 2 and 3 threads", async () => {
  const W = 96, H = 64, K = 9, N = 600;
  const cloud = randomCloud(21, N, 0);
  const cam = axisCamera(W, H, 60);
  const ev = randomEvidence(8, W * H, K);
  const runs: GaussianAccumulator[] = [];
  for (const threads of [1, 2, 3]) {
    const acc = createGaussianAccumulator(N, K);
    await accumulateGaussianWeights(cloud, cam, { kind: "dense", values: ev, classes: K }, acc, { threads });
    runs.push(acc);
  }
  assert.deepEqual(runs[1].values, runs[0].values);
  assert.deepEqual(runs[2].values, runs[0].values);
});

test("bad evidence shapes and class counts are typed errors", async () => {
  const cloud = randomCloud(1, 10, 0);
  const cam = axisCamera(20, 10, 20);
  assert.throws(() => createGaussianAccumulator(10, 65), ConfigError);
  const acc = createGaussianAccumulator(10, 3);
  await assert.rejects(
    accumulateGaussianWeights(cloud, cam, { kind: "dense", values: new Float32Array(20 * 10 * 2), classes: 3 }, acc),
    ShapeError,
  );
  await assert.rejects(accumulateGaussianWeights(cloud, cam, { kind: "labels", labels: new Uint16Array(200), classes: 2 }, acc), ShapeError);
});
