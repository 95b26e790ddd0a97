import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TINY_ENCODER } from "../../src/models/gaussian-encoder/config.ts";
import { loadEncoderCheckpoint } from "../../src/models/gaussian-encoder/checkpoint.ts";
import { runPretrain } from "../../src/train/pretrain/run.ts";
import { pretrainScenesFromDataset } from "../../src/train/pretrain/data.ts";
import { synthesizeDataset } from "../../src/scenes/dataset.ts";

test("pretrainScenesFromDataset + runPretrain on a generated synthetic dataset", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-pre-ds-"));
  try {
    await synthesizeDataset({ outDir: dir, scenes: 2, frames: 16, width: 64, height: 48, seed: 1, gaussians: 2000, testScenes: 1, threads: 1, quiet: true });
    const scenes = pretrainScenesFromDataset(dir);
    assert.equal(scenes.length, 1, "test scenes are not read");
    const s = scenes[0];
    assert.equal(s.cloud.count, 2000);
    assert.deepEqual(s.valViews, [0, 8]);
    assert.equal(s.trainViews.length, 14);
    assert.ok(!s.trainViews.includes(0) && !s.trainViews.includes(8));
    const r = await runPretrain(scenes, { config: TINY_ENCODER, steps: 2, out: join(dir, "enc.safetensors"), maxPairs: 64, checkpointEvery: 2 });
    assert.equal(r.steps, 2);
    assert.ok(Number.isFinite(r.loss));
    assert.equal(loadEncoderCheckpoint(join(dir, "enc.safetensors")).step, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
