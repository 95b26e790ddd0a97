import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../src/core/rng.ts";
import { IGNORE_LABEL } from "../../src/core/image.ts";
import { ConfigError, MissingFileError, ShapeError } from "../../src/core/errors.ts";
import { synthesizeDataset } from "../../src/scenes/dataset.ts";
import {
  classBalancedSample,
  predictLinearProbe,
  probeScenesFromDataset,
  runLinearProbe,
  trainLinearProbe,
  type ProbeScene,
} from "../../src/eval/probe.ts";

/**
 * n points in [-1, 1]² plus a pure-noise third channel, labelled by the arg-max of three fixed linear scores;
 * points within `margin` of a decision boundary are redrawn, so the classes are linearly separable with a gap.
 * Channels are then rescaled and shifted wildly, which standardization must undo.
 */
function separable(n: number, seed: number, margin = 0.05): { x: Float32Array; y: Uint16Array } {
  const rng = new Rng(seed);
  const W = [
    [1, 0],
    [-0.5, 0.8],
    [-0.5, -0.8],
  ];
  const x = new Float32Array(n * 3);
  const y = new Uint16Array(n);
  for (let i = 0; i < n; ) {
    const p = [rng.uniform(-1, 1), rng.uniform(-1, 1)];
    const s = W.map((w) => w[0] * p[0] + w[1] * p[1]);
    const order = [0, 1, 2].sort((a, b) => s[b] - s[a]);
    if (s[order[0]] - s[order[1]] < margin) continue;
    x.set([1000 * p[0] + 50, 0.001 * p[1] - 3, rng.normal(0, 1)], i * 3);
    y[i] = order[0];
    i++;
  }
  return { x, y };
}

function accuracy(pred: Uint16Array, y: Uint16Array): number {
  let c = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) c++;
  return c / y.length;
}

test("trainLinearProbe: a linearly separable case (channels of very different scales) is learned to ~100 %", () => {
  const train = separable(3000, 1);
  const held = separable(2000, 2);
  const probe = trainLinearProbe(train.x, train.y, 3, 3, { seed: 0, epochs: 30 });
  assert.ok(accuracy(predictLinearProbe(probe, train.x), train.y) >= 0.995);
  assert.ok(accuracy(predictLinearProbe(probe, held.x), held.y) >= 0.99);
  // Deterministic for a seed.
  const again = trainLinearProbe(train.x, train.y, 3, 3, { seed: 0, epochs: 30 });
  assert.deepEqual(again.weights, probe.weights);
});

test("runLinearProbe: random labels (a non-separable control) stay at chance on held-out scenes", () => {
  const rng = new Rng(7);
  const scene = (name: string, n: number): ProbeScene => {
    const x = new Float32Array(n * 4);
    rng.fillNormal(x);
    const labels = new Uint16Array(n);
    for (let i = 0; i < n; i++) labels[i] = rng.int(4);
    return { name, labels, inputs: () => x };
  };
  const r = runLinearProbe([scene("a", 2000), scene("b", 2000)], [scene("t", 4000)], { numClasses: 4, seed: 1, epochs: 10 });
  assert.equal(r.dim, 4);
  assert.equal(r.testGaussians, 4000);
  // Chance: oAcc 25 %, IoU ≈ 1/7 ≈ 14 %. A probe that leaked labels or overfit the test set would be far above.
  assert.ok(r.metrics.oAcc > 18 && r.metrics.oAcc < 32, `oAcc ${r.metrics.oAcc}`);
  assert.ok(r.metrics.mIoU < 22, `mIoU ${r.metrics.mIoU}`);
});

test("runLinearProbe: separable scenes score ~100 mIoU; ignore labels are skipped; each scene's inputs read once", () => {
  const reads = new Map<string, number>();
  const scene = (name: string, seed: number, ignoreEvery = 0): ProbeScene => {
    const { x, y } = separable(1500, seed);
    if (ignoreEvery > 0) for (let i = 0; i < y.length; i += ignoreEvery) y[i] = IGNORE_LABEL;
    return {
      name,
      labels: y,
      inputs: () => {
        reads.set(name, (reads.get(name) ?? 0) + 1);
        return x;
      },
    };
  };
  const r = runLinearProbe([scene("a", 3), scene("b", 4)], [scene("t", 5, 3)], { numClasses: 3, seed: 0, maxSamples: 2400, classNames: ["p", "q", "r"] });
  assert.ok(r.trainSamples <= 2400 && r.trainSamples >= 2000, `${r.trainSamples}`);
  assert.equal(r.testGaussians, 1000);
  assert.equal(r.metrics.pixels, 1000);
  assert.ok(r.metrics.mIoU >= 98, `mIoU ${r.metrics.mIoU}`);
  assert.deepEqual(r.metrics.perClass.map((c) => c.name), ["p", "q", "r"]);
  assert.deepEqual([...reads.values()], [1, 1, 1]);
});

test("classBalancedSample: min(count, quota) per class, ignore skipped, seeded; bad labels named", () => {
  const labels = new Uint16Array(1000);
  for (let i = 0; i < 1000; i++) labels[i] = i < 700 ? 0 : i < 950 ? 1 : i < 960 ? 2 : IGNORE_LABEL;
  const s = classBalancedSample(labels, 4, 300, new Rng(1));
  const count = [0, 0, 0, 0];
  for (const i of s) count[labels[i]]++;
  assert.deepEqual(count, [100, 100, 10, 0]);
  assert.ok(s.every((v, k) => k === 0 || v > s[k - 1]), "ascending, distinct");
  assert.deepEqual(classBalancedSample(labels, 4, 300, new Rng(1)), s);
  assert.notDeepEqual(classBalancedSample(labels, 4, 300, new Rng(2)), s);
  assert.throws(() => classBalancedSample(Uint16Array.of(0, 9), 3, 10, new Rng(0), "scene_x labels"), (e: unknown) => e instanceof ConfigError && /scene_x labels: label 9 at row 1/.test(e.message));
  assert.throws(() => trainLinearProbe(new Float32Array(5), Uint16Array.of(0, 1), 3, 2), ShapeError);
});

test("probeScenesFromDataset: raw inputs of a generated dataset; stored features missing is a MissingFileError", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-probe-"));
  try {
    await synthesizeDataset({ outDir: dir, scenes: 2, frames: 2, width: 32, height: 24, seed: 4, gaussians: 3000, testScenes: 1, threads: 1, quiet: true });
    const raw = probeScenesFromDataset(dir, { kind: "raw" });
    assert.equal(raw.train.length, 1);
    assert.equal(raw.test.length, 1);
    assert.equal(raw.train[0].labels.length, 3000);
    const r = runLinearProbe(raw.train, raw.test, { numClasses: raw.classNames.length, classNames: raw.classNames, seed: 0, epochs: 5 });
    assert.equal(r.dim, 10);
    assert.ok(Number.isFinite(r.metrics.mIoU) && r.metrics.oAcc > 0);
    const stored = probeScenesFromDataset(dir, { kind: "features" });
    assert.throws(() => stored.train[0].inputs(), (e: unknown) => e instanceof MissingFileError && /has no encoder features/.test(e.message));
    assert.throws(() => probeScenesFromDataset(join(dir, "nope"), { kind: "raw" }), MissingFileError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
