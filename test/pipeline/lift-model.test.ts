/** Lifting the network's probabilities: an untrained tiny VDVI checkpoint through segmenterSource (plumbing and invariants). */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Rng } from "../../src/core/rng.ts";
import { readProjectDataset } from "../../src/datasets/project.ts";
import { vdviConfig } from "../../src/models/configs.ts";
import { VdviNet } from "../../src/models/vdvi/index.ts";
import { saveVdviCheckpoint } from "../../src/train/semantic/checkpoint.ts";
import { liftScene, segmenterSource } from "../../src/pipeline/lift-scene.ts";
import { liftLabels } from "../../src/pipeline/lift.ts";
import { closeRenderWorkers } from "../../src/render/render.ts";
import { tinyDataset, FIXTURE_ENCODER } from "../train/semantic-fixture.ts";

let ds: Awaited<ReturnType<typeof tinyDataset>>;
let ckpt: string;
before(async () => {
  ds = await tinyDataset({ scenes: 1, frames: 3, gaussians: 2000 });
  const classes = readProjectDataset(ds.dir).dataset.classes;
  const cfg = vdviConfig("tiny", { numClasses: classes.length });
  const net = new VdviNet(cfg);
  ckpt = join(ds.dir, "..", "untrained.safetensors");
  saveVdviCheckpoint(ckpt, net.init(new Rng(1)), net.initState(), { config: cfg, classes, encoder: FIXTURE_ENCODER, step: 0, epoch: 0, best: null });
});
after(async () => {
  ds.cleanup();
  await closeRenderWorkers();
});

test("network probabilities lift: each seen Gaussian's class evidence sums to its blending weight, and liftScene scores it", async () => {
  const scene = readProjectDataset(ds.dir).test[0];
  const source = await segmenterSource(scene, ckpt, 1);
  try {
    const K = source.classes;
    assert.equal(K, scene.classes.length);
    const cloud = scene.loadGaussians();
    const lift = await liftLabels(cloud, scene.cameras, source, { threads: 1 });
    assert.ok(lift.seen > 0);
    const v = lift.accumulator.values;
    for (let g = 0; g < cloud.count; g++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += v[g * (K + 1) + 1 + k];
      // Softmax probabilities sum to 1 per pixel, so the evidence adds up to the weight.
      assert.ok(Math.abs(s - v[g * (K + 1)]) <= 1e-3 * v[g * (K + 1)] + 1e-6, `Gaussian ${g}: Σ evidence ${s} vs weight ${v[g * (K + 1)]}`);
      if (lift.labels[g] !== 65535) assert.ok(lift.labels[g] < K && lift.confidence[g] >= 1 / K - 1e-6 && lift.confidence[g] <= 1);
    }
    const r = await liftScene(scene, source, { threads: 1, progress: false });
    assert.equal(r.seen, lift.seen);
    assert.ok(r.perView.mIoU >= 0 && r.perView.mIoU <= 100 && r.mIoU >= 0 && r.mIoU <= 100);
    // Three frames of a tiny room may have no pair over the overlap threshold: then there is nothing to count.
    assert.ok(r.pairs === 0 ? Number.isNaN(r.viewConsistency) : r.viewConsistency >= 0 && r.viewConsistency <= 1);
  } finally {
    source.dispose();
  }
});
