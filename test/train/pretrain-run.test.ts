import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../src/core/rng.ts";
import { lookAtCamera } from "../../src/core/camera.ts";
import { allocateCloud } from "../../src/splat/cloud.ts";
import { flattenParams } from "../../src/nn/params.ts";
import { TINY_ENCODER } from "../../src/models/gaussian-encoder/config.ts";
import { loadEncoderCheckpoint } from "../../src/models/gaussian-encoder/checkpoint.ts";
import { runPretrain, type PretrainScene } from "../../src/train/pretrain/run.ts";
import { toHost } from "../nn/helpers.ts";

/** A ring of Gaussians seen by 12 cameras at its centre: neighbouring views overlap by about half. */
function ringScene(seed: number): PretrainScene {
  const rng = new Rng(seed);
  const n = 500;
  const cloud = allocateCloud(n, 0);
  for (let i = 0; i < n; i++) {
    const t = rng.uniform(0, 2 * Math.PI);
    cloud.positions.set([3 * Math.cos(t), rng.uniform(-0.5, 0.5), 3 * Math.sin(t)], i * 3);
    cloud.logScales.set([-3, -3, -3], i * 3);
    cloud.opacityLogits[i] = rng.uniform(-2, 2);
    cloud.shDc.set([Math.cos(t), Math.sin(t), rng.uniform(-1, 1)], i * 3);
  }
  const cameras = Array.from({ length: 12 }, (_, v) => {
    const t = (2 * Math.PI * v) / 12;
    return lookAtCamera([0, 0, 0], [Math.cos(t), 0, Math.sin(t)], [0, -1, 0], { width: 64, height: 64, fx: 32 });
  });
  return { name: `ring${seed}`, cloud, cameras, trainViews: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11], valViews: [0, 1] };
}

test("runPretrain: checkpoints, best held-out checkpoint, and a resume identical to an uninterrupted run", () => {
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-pre-"));
  try {
    const scenes = [ringScene(1)];
    const common = { config: TINY_ENCODER, seed: 3, maxPairs: 32, checkpointEvery: 2, valPairs: 1 };
    const a = runPretrain(scenes, { ...common, steps: 4, out: join(dir, "a.safetensors") });
    assert.equal(a.steps, 4);
    assert.ok(Number.isFinite(a.loss));
    assert.deepEqual(a.val.map((v) => v.step), [2, 4]);
    assert.ok(a.bestStep === 2 || a.bestStep === 4);
    assert.ok(existsSync(join(dir, "a.best.safetensors")));
    const outB = join(dir, "b.safetensors");
    runPretrain(scenes, { ...common, steps: 2, out: outB });
    const b = runPretrain(scenes, { ...common, steps: 4, out: outB, resume: true });
    assert.equal(b.steps, 4);
    const la = loadEncoderCheckpoint(join(dir, "a.safetensors"));
    const lb = loadEncoderCheckpoint(outB);
    assert.equal(la.step, 4);
    assert.equal(lb.id, la.id);
    const pb = new Map(flattenParams(lb.params));
    for (const [path, arr] of flattenParams(la.params)) {
      assert.deepEqual(toHost(arr.ref), toHost((pb.get(path) as typeof arr).ref), path);
    }
    assert.deepEqual(b.val.map((v) => v.loss), [a.val[1].loss]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
