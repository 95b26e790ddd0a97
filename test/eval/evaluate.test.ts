/**
 * evaluate(): the pooled metrics equal a confusion matrix rebuilt from the Segmenter's own predictions; a
 * fine-tuned checkpoint evaluates only its scene's novel views (index % 8 == 0); mismatched class tables are
 * refused.
 */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Rng } from "../../src/core/rng.ts";
import { ConfigError } from "../../src/core/errors.ts";
import { readProjectDataset } from "../../src/datasets/project.ts";
import { loadLabels } from "../../src/datasets/frames.ts";
import { readSplatSync } from "../../src/splat/io/index.ts";
import { ConfusionMatrix, segmentationMetrics } from "../../src/metrics/segmentation.ts";
import { vdviConfig } from "../../src/models/configs.ts";
import { VdviNet } from "../../src/models/vdvi/index.ts";
import { saveVdviCheckpoint, type VdviCheckpointInfo } from "../../src/train/semantic/checkpoint.ts";
import { Segmenter } from "../../src/pipeline/segment.ts";
import { evaluate } from "../../src/eval/evaluate.ts";
import { tinyDataset, FIXTURE_ENCODER } from "../train/semantic-fixture.ts";

let ds: Awaited<ReturnType<typeof tinyDataset>>;
let info: VdviCheckpointInfo;
let net: VdviNet;
before(async () => {
  ds = await tinyDataset({ scenes: 2, frames: 10, gaussians: 2000 });
  const classes = readProjectDataset(ds.dir).dataset.classes;
  const cfg = vdviConfig("tiny", { numClasses: classes.length });
  net = new VdviNet(cfg);
  info = { config: cfg, classes, encoder: FIXTURE_ENCODER, step: 0, epoch: 0, best: null };
});
after(() => ds.cleanup());

test("eval's pooled metrics equal a confusion matrix over the Segmenter's predictions of every test view", async () => {
  const ckpt = join(ds.dir, "..", "g.safetensors");
  saveVdviCheckpoint(ckpt, net.init(new Rng(5)), net.initState(), info);
  const r = await evaluate({ model: ckpt, data: ds.dir, threads: 1 });
  const scene = readProjectDataset(ds.dir).test[0];
  assert.deepEqual(r.scenes, [scene.name]);
  assert.equal(r.views, 10);
  const seg = Segmenter.load(ckpt);
  const { cloud } = readSplatSync(scene.splatPath);
  const cm = new ConfusionMatrix(28);
  for (let i = 0; i < 10; i++) cm.add((await seg.segment(cloud, scene.cameras[i], { threads: 1 })).labels, loadLabels(scene, i));
  seg.dispose();
  const m = segmentationMetrics(cm);
  assert.ok(Math.abs((r.mIoU as number) - m.mIoU) < 1e-9);
  assert.ok(Math.abs((r.oAcc as number) - m.oAcc) < 1e-9);
  assert.ok(Math.abs((r.top20?.mAcc as number) - m.top.mAcc) < 1e-9);
  assert.equal(r.perClass.length, m.perClass.length);
  assert.ok(r.fps > 0 && r.breakdown.render > 0 && r.breakdown.network > 0);
  assert.ok(r.psnr !== null && Number.isFinite(r.psnr) && r.ssim !== null);
  assert.ok(r.viewConsistency !== null && r.viewConsistency >= 0 && r.viewConsistency <= 1);
  assert.ok(r.gtCeiling !== null && r.gtCeiling > 0.5 && r.gtCeiling <= 1);
});

test("a fine-tuned checkpoint evaluates its scene's novel views; a foreign class table is refused", async () => {
  const ft = join(ds.dir, "..", "ft.safetensors");
  saveVdviCheckpoint(ft, net.init(new Rng(6)), net.initState(), { ...info, finetuneScene: ds.train[0] });
  const r = await evaluate({ model: ft, data: ds.dir, threads: 1 });
  assert.deepEqual(r.scenes, [ds.train[0]]);
  assert.equal(r.views, 2); // frames 0 and 8 of 10
  assert.equal(r.split, "novel-views");
  assert.equal(r.finetuneScene, ds.train[0]);
  const bad = join(ds.dir, "..", "bad.safetensors");
  const other = vdviConfig("tiny", { numClasses: 4 });
  const n4 = new VdviNet(other);
  saveVdviCheckpoint(bad, n4.init(new Rng(1)), n4.initState(), { ...info, config: other, classes: info.classes.slice(0, 4) });
  await assert.rejects(evaluate({ model: bad, data: ds.dir }), (e: unknown) => e instanceof ConfigError && /class table/.test(e.message));
});
