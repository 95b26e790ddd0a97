/**
 * Segmenter: labels are the argmax of probabilities that sum to 1; the network sees the render; sizes follow the
 * camera's aspect; a scene encoded by another encoder and an absent default checkpoint are one-line errors.
 */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { Rng } from "../../src/core/rng.ts";
import { ConfigError, MissingFileError } from "../../src/core/errors.ts";
import { readProjectDataset } from "../../src/datasets/project.ts";
import { readSplatSync } from "../../src/splat/io/index.ts";
import { vdviConfig } from "../../src/models/configs.ts";
import { VdviNet } from "../../src/models/vdvi/index.ts";
import { loadVdviCheckpoint, saveVdviCheckpoint } from "../../src/train/semantic/checkpoint.ts";
import { loadEncoder } from "../../src/models/gaussian-encoder/scene-features.ts";
import { disposeParams, type ParamTree } from "../../src/nn/params.ts";
import { Segmenter, defaultCheckpointPath, segmentSize } from "../../src/pipeline/segment.ts";
import { tinyDataset, FIXTURE_ENCODER } from "../train/semantic-fixture.ts";
import { exportCheckpoint } from "../../src/cli/commands/export.ts";

let ds: Awaited<ReturnType<typeof tinyDataset>>;
let ckpt: string;
before(async () => {
  ds = await tinyDataset({ scenes: 1, frames: 2, gaussians: 2000 });
  const classes = readProjectDataset(ds.dir).dataset.classes;
  const cfg = vdviConfig("tiny", { numClasses: classes.length });
  const net = new VdviNet(cfg);
  ckpt = join(ds.dir, "..", "untrained.safetensors");
  saveVdviCheckpoint(ckpt, net.init(new Rng(1)), net.initState(), { config: cfg, classes, encoder: FIXTURE_ENCODER, step: 0, epoch: 0, best: null });
});
after(() => ds.cleanup());

test("segment: probabilities sum to 1 per pixel, labels are their argmax, the render is what the network saw", async () => {
  const seg = Segmenter.load(ckpt);
  const scene = readProjectDataset(ds.dir).test[0];
  const { cloud } = readSplatSync(scene.splatPath);
  const out = await seg.segment(cloud, scene.cameras[0], { encoder: FIXTURE_ENCODER, threads: 1 });
  const K = 28;
  assert.equal(out.width, 64);
  assert.equal(out.height, 48);
  assert.equal(out.probabilities.length, 64 * 48 * K);
  for (let p = 0; p < 64 * 48; p++) {
    let s = 0,
      best = 0;
    for (let k = 0; k < K; k++) {
      s += out.probabilities[p * K + k];
      if (out.probabilities[p * K + k] > out.probabilities[p * K + best]) best = k;
    }
    assert.ok(Math.abs(s - 1) < 1e-4, `pixel ${p} sums to ${s}`);
    assert.equal(out.labels[p], best);
  }
  // Same inputs through predict() give the same probabilities (the network saw exactly this render).
  const again = await seg.predict(out.rgb, out.features, 64, 48, 32);
  assert.deepEqual(again.probabilities, out.probabilities);
  assert.equal(out.featureChannels, 32);
  assert.ok(out.timing.render > 0 && out.timing.network > 0);
  const parts = out.timing.rgbBranch + out.timing.featureBranch + out.timing.fusion + out.timing.decoder;
  assert.ok(Math.abs(parts - out.timing.network) < 1e-6 * out.timing.network + 1e-9);
  // The shipping export (float16, no optimizer) loads and predicts nearly the same probabilities.
  const f16 = join(ds.dir, "..", "export.safetensors");
  exportCheckpoint(ckpt, f16);
  const seg16 = Segmenter.load(f16);
  assert.equal(seg16.encoder, FIXTURE_ENCODER);
  const p16 = (await seg16.predict(out.rgb, out.features, 64, 48, 32)).probabilities;
  let maxDiff = 0;
  for (let i = 0; i < p16.length; i++) maxDiff = Math.max(maxDiff, Math.abs(p16[i] - out.probabilities[i]));
  assert.ok(maxDiff < 0.02, `float16 export changes probabilities by ${maxDiff}`);
  seg16.dispose();
  seg.dispose();
});

test("a scene from another encoder is refused in one line; an absent checkpoint is a typed error", () => {
  const seg = Segmenter.load(ckpt);
  assert.throws(
    () => seg.checkEncoder("0123456789abcdef0123456789abcdef", "scene_x"),
    (e: unknown) => e instanceof ConfigError && !e.message.includes("\n") && e.message.includes("scene_x") && e.message.includes(FIXTURE_ENCODER),
  );
  seg.checkEncoder(FIXTURE_ENCODER);
  seg.dispose();
  assert.throws(() => Segmenter.load(join(ds.dir, "missing.safetensors")), MissingFileError);
  if (!existsSync(defaultCheckpointPath())) assert.throws(() => Segmenter.load(), (e: unknown) => e instanceof ConfigError && /vdvi-lite/.test(e.message));
});

test("the committed VDVI models, semantic and depth, were trained on the committed default encoder's features", () => {
  // Otherwise `rtgs2 encode` with no flags writes features the default model refuses, and the demo fails.
  const encoder = loadEncoder();
  disposeParams(encoder.params);
  disposeParams(encoder.state as ParamTree);
  for (const path of [defaultCheckpointPath(), join(defaultCheckpointPath(), "..", "vdvi-depth-lite.safetensors")]) {
    const vdvi = loadVdviCheckpoint(path);
    disposeParams(vdvi.params);
    disposeParams(vdvi.state as unknown as ParamTree);
    assert.equal(vdvi.encoder, encoder.id, `${path} was trained on encoder ${vdvi.encoder}, the default is ${encoder.id}`);
  }
});

test("segment size: the network's size at its aspect, else the camera's aspect in multiples of 32", () => {
  const cfg = vdviConfig("lite");
  assert.deepEqual(segmentSize(cfg, { width: 640, height: 480 }), { width: 320, height: 240 });
  const wide = segmentSize(cfg, { width: 1920, height: 1080 });
  assert.equal(wide.width % 32, 0);
  assert.equal(wide.height % 32, 0);
  assert.ok(Math.abs(wide.width / wide.height - 16 / 9) < 0.15);
});
