/**
 * Stage-3 training end to end on a tiny synthetic dataset (2 train + 1 test scenes × 9 frames at 64×48, features
 * that carry the class): the tiny network's test mIoU after a short run rises well above a majority-class
 * predictor's, and a run stopped mid-epoch and resumed ends bit-identical to an uninterrupted one.
 */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { trainSemantic } from "../../src/train/semantic/train.ts";
import { loadVdviCheckpoint } from "../../src/train/semantic/checkpoint.ts";
import { evaluate } from "../../src/eval/evaluate.ts";
import { flattenParams } from "../../src/nn/params.ts";
import { readProjectDataset } from "../../src/datasets/project.ts";
import { loadLabels } from "../../src/datasets/frames.ts";
import { ConfusionMatrix, segmentationMetrics } from "../../src/metrics/segmentation.ts";
import { JsonlLogger } from "../../src/nn/train.ts";
import { tinyDataset, FIXTURE_ENCODER } from "./semantic-fixture.ts";

let ds: Awaited<ReturnType<typeof tinyDataset>>;
before(async () => {
  ds = await tinyDataset();
});
after(() => ds.cleanup());

test("a tiny train-then-eval run scores well above a majority-class predictor on the test scene", async () => {
  const out = join(ds.dir, "..", "gen.safetensors");
  const log = join(ds.dir, "..", "gen.jsonl");
  const r = await trainSemantic({ data: ds.dir, out, config: "tiny", epochs: 3, batch: 2, lr: 1e-2, seed: 0, warmupEpochs: 1, log, threads: 1 });
  assert.equal(r.steps, 21); // 2 scenes × 7 train views (0 and 8 held out) / batch 2 = 7 steps × 3 epochs
  assert.equal(r.stopped, "done");
  assert.ok(existsSync(out) && r.best !== null && existsSync(r.best));
  const records = new JsonlLogger(log, { resumeStep: Infinity }).read();
  assert.equal(records.filter((x) => x.valMIoU !== undefined).length, 3, "one validation per epoch");
  const steps = records.filter((x) => x.loss !== undefined);
  assert.ok(steps[steps.length - 1].loss < steps[0].loss, "the loss falls");
  const ck = loadVdviCheckpoint(out);
  assert.equal(ck.encoder, FIXTURE_ENCODER);
  assert.equal(ck.step, 21);
  assert.equal(ck.classes.length, 28);
  assert.equal(ck.finetuneScene, undefined);

  const ev = await evaluate({ model: out, data: ds.dir, threads: 1 });
  assert.deepEqual(ev.scenes, ds.test);
  assert.equal(ev.views, 9);
  // Chance: the most frequent test class predicted everywhere.
  const dset = readProjectDataset(ds.dir);
  const scene = dset.test[0];
  const gts = scene.cameras.map((_, i) => loadLabels(scene, i));
  const counts = new Map<number, number>();
  for (const g of gts) for (const l of g) if (l !== 65535) counts.set(l, (counts.get(l) ?? 0) + 1);
  const major = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
  const cm = new ConfusionMatrix(28);
  for (const g of gts) cm.add(new Uint16Array(g.length).fill(major), g);
  const chance = segmentationMetrics(cm);
  assert.ok(ev.mIoU !== null && ev.oAcc !== null);
  assert.ok(ev.mIoU > 2 * chance.mIoU, `mIoU ${ev.mIoU} vs majority-class ${chance.mIoU}`);
  assert.ok(ev.oAcc > chance.oAcc + 5, `oAcc ${ev.oAcc} vs majority-class ${chance.oAcc}`);
  assert.ok(ev.viewConsistency !== null && ev.gtCeiling !== null && ev.gtCeiling > 0.5);
  assert.ok(ev.psnr !== null && ev.psnr > 10);
});

test("stopping mid-epoch and resuming gives the same weights, moments and statistics as one run", async () => {
  const common = { data: ds.dir, config: "tiny", steps: 5, batch: 2, lr: 1e-3, seed: 3, threads: 1 } as const;
  const a = join(ds.dir, "..", "a.safetensors");
  const b = join(ds.dir, "..", "b.safetensors");
  await trainSemantic({ ...common, out: a });
  const first = await trainSemantic({ ...common, out: b, stopAfterSteps: 3 });
  assert.equal(first.stopped, "stopAfterSteps");
  assert.equal(loadVdviCheckpoint(b).step, 3);
  const second = await trainSemantic({ ...common, out: b, resume: true });
  assert.equal(second.steps, 5);
  const ca = loadVdviCheckpoint(a, { optimizer: true });
  const cb = loadVdviCheckpoint(b, { optimizer: true });
  const tensors = (c: typeof ca): Map<string, Float32Array> =>
    new Map(
      [
        ...flattenParams(c.params),
        ...flattenParams(c.optimizer!.m).map(([k, v]) => [`m.${k}`, v] as const),
        ...Object.entries(c.state).flatMap(([k, s]) => [
          [`${k}.mean`, s.runningMean] as const,
          [`${k}.var`, s.runningVar] as const,
        ]),
      ].map(([k, v]) => [k, v.dataSync() as Float32Array]),
    );
  const ta = tensors(ca);
  const tb = tensors(cb);
  assert.equal(ta.size, tb.size);
  for (const [k, v] of ta) assert.deepEqual(tb.get(k), v, `tensor ${k} differs after resume`);
  // A resume with other settings is refused.
  await assert.rejects(trainSemantic({ ...common, out: b, resume: true, lr: 5e-4 }), /trained with lr = 0.001/);
});
