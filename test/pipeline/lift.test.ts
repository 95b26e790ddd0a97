import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeRenderWorkers } from "../../src/render/render.ts";
import { referenceGaussianWeights, referenceProject } from "../../src/render/reference.ts";
import {
  argmaxLabels,
  evidenceLabels,
  labelScores,
  liftLabels,
  renderLabelScores,
  renderLabels,
  probabilitySource,
  writeLiftedPly,
  type EvidenceSource,
} from "../../src/pipeline/lift.ts";
import { gaussianAccuracy } from "../../src/pipeline/lift-scene.ts";
import { allocateCloud, SH_C0, type GaussianCloud } from "../../src/splat/cloud.ts";
import { readSplatSync } from "../../src/splat/io/index.ts";
import { lookAtCamera, type Camera } from "../../src/core/camera.ts";
import { Rng } from "../../src/core/rng.ts";
import { ConfigError, ShapeError } from "../../src/core/errors.ts";
import { axisCamera } from "../helpers/clouds.ts";

after(closeRenderWorkers);

const logit = (p: number) => Math.log(p / (1 - p));

/**
 * Three well-separated clusters of small Gaussians (classes 0, 1, 2) around x = −1, 0, 1 at z ≈ 4, plus one
 * Gaussian behind every camera (class 1 in the ground truth, never seen).
 */
function clusterScene(): { cloud: GaussianCloud; gt: Uint16Array; cameras: Camera[] } {
  const rng = new Rng(5);
  const per = 120, n = 3 * per + 1;
  const cloud = allocateCloud(n, 0);
  const gt = new Uint16Array(n);
  for (let c = 0; c < 3; c++)
    for (let j = 0; j < per; j++) {
      const g = c * per + j;
      cloud.positions.set([c - 1 + rng.uniform(-0.25, 0.25), rng.uniform(-0.25, 0.25), 4 + rng.uniform(-0.25, 0.25)], g * 3);
      cloud.logScales.fill(Math.log(0.05), g * 3, g * 3 + 3);
      cloud.rotations[g * 4] = 1;
      cloud.opacityLogits[g] = logit(0.6);
      gt[g] = c;
    }
  cloud.positions.set([0, 0, -5], (n - 1) * 3);
  cloud.logScales.fill(Math.log(0.1), (n - 1) * 3, n * 3);
  cloud.rotations[(n - 1) * 4] = 1;
  cloud.opacityLogits[n - 1] = logit(0.9);
  gt[n - 1] = 1;
  cloud.extras.set("label", gt);
  cloud.extras.set("f_pc_0", Float32Array.from({ length: n }, (_, i) => i / n));
  const cameras = [-0.6, -0.3, 0, 0.3, 0.6].map((x) =>
    lookAtCamera([x, 0.1 * x, 0], [0, 0, 4], [0, -1, 0], { width: 64, height: 40, fx: 40 }),
  );
  return { cloud, gt, cameras };
}

test("lifting labels rendered from the Gaussians' own classes recovers them; unseen Gaussians get 65535 and 0", async () => {
  const { cloud, gt, cameras } = clusterScene();
  const views: Uint16Array[] = [];
  for (const cam of cameras) views.push(await renderLabels(cloud, gt, 3, cam, { threads: 1 }));
  // The renders show all three classes and background.
  for (const v of views) for (const k of [0, 1, 2, 65535]) assert.ok(v.includes(k), `class ${k} visible`);
  const source: EvidenceSource = { classes: 3, evidence: (v) => ({ kind: "labels", labels: views[v], classes: 3 }) };
  const seen: number[] = [];
  const lift = await liftLabels(cloud, cameras, source, { threads: 2, onView: (v, labels) => { seen.push(v); assert.deepEqual(labels, views[v]); } });
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);
  const n = cloud.count;
  assert.equal(lift.labels[n - 1], 65535, "the Gaussian behind the cameras is unlabelled");
  assert.equal(lift.confidence[n - 1], 0);
  assert.equal(lift.seen, lift.labels.filter((l) => l !== 65535).length);
  assert.ok(lift.seen >= n - 1 - 20, `${lift.seen} of ${n - 1} in-view Gaussians seen`);
  const acc = gaussianAccuracy(cloud, lift.labels, lift.accumulator.values, 4);
  assert.equal(acc.labelled, n);
  assert.ok(acc.accuracy === 100, `accuracy ${acc.accuracy}`);
  assert.ok(acc.accuracyAll < 100, "the unseen Gaussian counts as wrong in accuracyAll");
  for (let g = 0; g < n - 1; g++) if (lift.labels[g] !== 65535) assert.ok(lift.confidence[g] > 0.99, `confidence ${lift.confidence[g]}`);
  // Rendering the lifted labels reproduces the views they came from.
  const back = await renderLabels(cloud, lift.labels, 3, cameras[2], { threads: 2 });
  assert.deepEqual(back, views[2]);
  // Splatting the soft evidence shares gives the same image here (every seen Gaussian is ~100% one class).
  assert.deepEqual(await renderLabelScores(cloud, labelScores(lift, 3, "soft"), 3, cameras[2], { threads: 2 }), views[2]);
});

test("label and confidence are the argmax and share of the α·T-weighted evidence (brute-force oracle)", async () => {
  // Two overlapping Gaussians; the view is split into classes by column bands, with an ignore band.
  const cloud = allocateCloud(2, 0);
  cloud.positions.set([0, 0, 2, 0.08, 0.02, 2.5]);
  cloud.logScales.set([-2.5, -2.5, -2.5, -2.2, -2.4, -2.3]);
  cloud.rotations.set([1, 0, 0, 0, 1, 0, 0, 0]);
  cloud.opacityLogits.set([logit(0.7), logit(0.8)]);
  const cam = axisCamera(48, 40, 60);
  const K = 3;
  const labels = new Uint16Array(48 * 40).map((_, p) => (p % 48 < 20 ? 0 : p % 48 < 23 ? 65535 : p % 48 < 30 ? 1 : 2));
  const lift = await liftLabels(cloud, [cam], { classes: K, evidence: () => ({ kind: "labels", labels, classes: K }) }, { threads: 1 });
  const ref = referenceGaussianWeights(referenceProject(cloud, cam), cam, 2, K, (p, k) => (labels[p] === k ? 1 : 0));
  for (let g = 0; g < 2; g++) {
    const e = Array.from(ref.evidence.subarray(g * K, g * K + K));
    const best = e.indexOf(Math.max(...e));
    assert.equal(lift.labels[g], best);
    const share = e[best] / e.reduce((a, b) => a + b, 0);
    assert.ok(share > 0.3 && share < 0.95, `a mixed Gaussian (${share})`);
    assert.ok(Math.abs(lift.confidence[g] - share) < 1e-4, `confidence ${lift.confidence[g]} vs ${share}`);
  }
  // Dense evidence through the segmenter hook: probabilities equal to the one-hot give the same result.
  const probs = new Float32Array(48 * 40 * K);
  labels.forEach((l, p) => { if (l < K) probs[p * K + l] = 1; });
  const dense = await liftLabels(cloud, [cam], probabilitySource({ classes: K, probabilities: () => probs }), { threads: 2 });
  assert.deepEqual(dense.labels, lift.labels);
  for (let g = 0; g < 2; g++) assert.ok(Math.abs(dense.confidence[g] - lift.confidence[g]) < 1e-6);
  // A source whose evidence has the wrong class count is refused.
  await assert.rejects(liftLabels(cloud, [cam], { classes: 4, evidence: () => ({ kind: "labels", labels, classes: 3 }) }), ShapeError);
});

test("argmax ties go to the lower class; evidenceLabels maps out-of-range labels and empty scores to 65535", () => {
  const r = argmaxLabels({ count: 3, classes: 2, values: Float64Array.from([1, 0.5, 0.5, 0, 0, 0, 2, 0.5, 1.5]) });
  assert.deepEqual(Array.from(r.labels), [0, 65535, 1]);
  assert.deepEqual(Array.from(r.confidence), [0.5, 0, 0.75]);
  assert.equal(r.seen, 2);
  // Scores to splat: one-hot, one-hot × confidence, and the normalized evidence.
  const lift = { ...r, accumulator: { count: 3, classes: 2, values: Float64Array.from([1, 0.5, 0.5, 0, 0, 0, 2, 0.5, 1.5]) } };
  assert.deepEqual(Array.from(labelScores(lift, 2, "onehot")), [1, 0, 0, 0, 0, 1]);
  assert.deepEqual(Array.from(labelScores(lift, 2, "confidence")), [0.5, 0, 0, 0, 0, 0.75]);
  assert.deepEqual(Array.from(labelScores(lift, 2, "soft")), [0.5, 0.5, 0, 0, 0.25, 0.75]);
  assert.throws(() => labelScores({ labels: r.labels }, 2, "soft"), ConfigError);
  assert.deepEqual(Array.from(evidenceLabels({ kind: "labels", labels: Uint16Array.from([0, 2, 7]), classes: 3 })), [0, 2, 65535]);
  assert.deepEqual(Array.from(evidenceLabels({ kind: "dense", values: Float32Array.from([0.2, 0.7, 0, 0, 0.5, 0.5]), classes: 2 })), [1, 65535, 0]);
});

test("the lifted ply reads back with label, label_confidence, gt_label and class-coloured SH-DC", async () => {
  const { cloud, gt, cameras } = clusterScene();
  const views: Uint16Array[] = [];
  for (const cam of cameras) views.push(await renderLabels(cloud, gt, 3, cam, { threads: 1 }));
  const lift = await liftLabels(cloud, cameras, { classes: 3, evidence: (v) => ({ kind: "labels", labels: views[v], classes: 3 }) }, { threads: 1 });
  const colors: [number, number, number][] = [[255, 0, 0], [0, 128, 255], [10, 200, 30]];
  const path = join(mkdtempSync(join(tmpdir(), "rtgs2-lift-")), "lifted.ply");
  writeLiftedPly(path, cloud, lift, { colors });
  const { cloud: back, comments } = readSplatSync(path);
  assert.ok(comments.some((c) => c.startsWith("rtgs2 lifted labels")));
  assert.equal(back.count, cloud.count);
  assert.deepEqual(back.extras.get("label"), lift.labels);
  assert.deepEqual(back.extras.get("label_confidence"), lift.confidence);
  assert.deepEqual(back.extras.get("gt_label"), gt);
  assert.deepEqual(back.extras.get("f_pc_0"), cloud.extras.get("f_pc_0"), "other extras are kept");
  assert.deepEqual(back.positions, cloud.positions);
  assert.deepEqual(back.opacityLogits, cloud.opacityLogits);
  for (let g = 0; g < back.count; g++) {
    const l = lift.labels[g];
    const want = l === 65535 ? [128, 128, 128] : colors[l];
    for (let ch = 0; ch < 3; ch++) assert.ok(Math.abs((SH_C0 * back.shDc[g * 3 + ch] + 0.5) * 255 - want[ch]) < 1e-3);
  }
  // Keeping the appearance: SH untouched.
  writeLiftedPly(path, cloud, lift, { colors, recolor: false });
  assert.deepEqual(readSplatSync(path).cloud.shDc, cloud.shDc);
  assert.throws(() => writeLiftedPly(path, cloud, { labels: lift.labels.subarray(1), confidence: lift.confidence }, { colors }), ShapeError);
});
