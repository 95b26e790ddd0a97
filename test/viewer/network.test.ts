/**
 * The viewer's network loader and segmentation helpers in Node (fast; the browser runs are in
 * segmentation.test.ts): the browser loader against `loadVdviCheckpoint`, its errors, the jitted forward against
 * `VdviNet.apply`, the input assembly against hand-made passes, the input size (the Segmenter's `segmentSize`), and the
 * bundle being free of Node imports.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidFileError } from "../../src/core/errors.ts";
import { Rng } from "../../src/core/rng.ts";
import { vdviConfig } from "../../src/models/configs.ts";
import { VdviNet } from "../../src/models/vdvi/index.ts";
import { numpy as np } from "../../src/nn/jax.ts";
import { flattenParams, type ParamTree } from "../../src/nn/params.ts";
import { writeSafetensors } from "../../src/nn/safetensors.ts";
import { segmentSize } from "../../src/pipeline/segment.ts";
import { segmentSize as bundledSegmentSize } from "../../src/models/vdvi/input-size.ts";
import { loadVdviCheckpoint, saveVdviCheckpoint } from "../../src/train/semantic/checkpoint.ts";
import { buildViewerAssets } from "../../src/viewer-server/bundle.ts";
import { argmaxClasses, NetworkRunner, vdviFromSafetensors } from "../../viewer/network.ts";
import { classShares, featureChannelSets, labelOverlay, networkInputs } from "../../viewer/segmentation.ts";

const CLASSES = [0, 1, 2, 3].map((id) => ({ id, name: `c${id}`, color: [id * 60, 10, 200 - id * 40] as [number, number, number] }));

function makeCheckpoint(float16: boolean, task: "semantic" | "depth" = "semantic"): string {
  const config = vdviConfig("tiny", { task });
  const net = new VdviNet(config);
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-viewer-net-"));
  const path = join(dir, "m.safetensors");
  saveVdviCheckpoint(path, net.init(new Rng(5)), net.initState(), { config, classes: CLASSES, encoder: "random:0", step: 3, epoch: 1, best: null }, undefined, { float16 });
  return path;
}

function hostValues(tree: ParamTree): Map<string, Float32Array> {
  return new Map(flattenParams(tree).map(([k, a]) => [k, a.ref.dataSync() as Float32Array]));
}

for (const float16 of [false, true]) {
  test(`the browser loader gives loadVdviCheckpoint's weights (${float16 ? "float16" : "float32"} checkpoint)`, () => {
    const path = makeCheckpoint(float16);
    const mine = vdviFromSafetensors(readFileSync(path), path);
    const ref = loadVdviCheckpoint(path);
    assert.deepEqual(mine.config, ref.config);
    assert.deepEqual(mine.classes, CLASSES);
    assert.equal(mine.encoder, "random:0");
    for (const [a, b] of [
      [mine.params, ref.params],
      [mine.state, ref.state],
    ] as [ParamTree, ParamTree][]) {
      const x = hostValues(a), y = hostValues(b);
      assert.deepEqual([...x.keys()].sort(), [...y.keys()].sort());
      for (const [k, v] of x) assert.deepEqual(v, y.get(k), k);
    }
  });
}

test("the browser loader refuses what is not a semantic VDVI checkpoint, naming the source", () => {
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-viewer-net-"));
  const other = join(dir, "other.safetensors");
  writeSafetensors(other, new Map([["w", { dtype: "F32", shape: [2], data: new Float32Array(2) }]]), { kind: "encoder" });
  assert.throws(() => vdviFromSafetensors(readFileSync(other), "/api/model.safetensors"), (e: unknown) => e instanceof InvalidFileError && /^\/api\/model\.safetensors: not a VDVI checkpoint/.test(e.message));
  const depth = makeCheckpoint(false, "depth");
  assert.throws(() => vdviFromSafetensors(readFileSync(depth), "m"), /depth checkpoint cannot segment/);
  assert.throws(() => vdviFromSafetensors(new Uint8Array(4), "m"), (e: unknown) => e instanceof InvalidFileError && /truncated/.test(e.message));
  // A tensor with the wrong shape is named.
  const path = makeCheckpoint(false);
  const c = loadVdviCheckpoint(path);
  const [name, arr] = flattenParams(c.params as unknown as ParamTree)[0];
  const tensors = new Map([[name, { dtype: "F32" as const, shape: [...arr.shape, 1], data: new Float32Array(arr.size) }]]);
  const bad = join(dir, "bad.safetensors");
  writeSafetensors(bad, tensors, { kind: "vdvi", config: JSON.stringify(c.config), classes: "[]" });
  assert.throws(() => vdviFromSafetensors(readFileSync(bad), bad), new RegExp(`tensor "${name.replace(/\./g, "\\.")}": expected shape`));
});

test("NetworkRunner's jitted forward equals VdviNet.apply on the same device", async () => {
  const path = makeCheckpoint(false);
  const model = vdviFromSafetensors(readFileSync(path), path);
  const runner = new NetworkRunner(model);
  const rng = new Rng(9);
  const W = 64, H = 48;
  const rgb = Float32Array.from({ length: W * H * 3 }, () => rng.uniform());
  const feat = Float32Array.from({ length: W * H * 32 }, () => rng.normal());
  const got = await runner.run(rgb, feat, W, H);
  const ref = loadVdviCheckpoint(path);
  const out = ref.net.apply(ref.params, ref.state, { rgb: np.array(rgb).reshape([1, H, W, 3]), features: np.array(feat).reshape([1, H, W, 32]) }, { train: false });
  out.z.dispose();
  const want = out.logits.dataSync() as Float32Array;
  assert.equal(got.length, W * H * 4);
  let m = 0;
  for (let i = 0; i < got.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]));
  assert.ok(m < 1e-5, `max diff ${m}`);
  // The same runner again (jit cache) gives the same values; a wrong size is refused.
  assert.deepEqual(await runner.run(rgb, feat, W, H), got);
  await assert.rejects(runner.run(rgb, feat, W + 1, H), /RGB values for 65×48/);
  runner.dispose();
});

test("feature channel sets and network inputs: channels 3k..3k+2 per pass, RGB clamped and 8-bit rounded", () => {
  const N = 2, C = 5;
  const f = Float32Array.from({ length: N * C }, (_, i) => i + 1); // g0: 1..5, g1: 6..10
  const sets = featureChannelSets(f, C, N);
  assert.equal(sets.length, 2);
  assert.deepEqual(Array.from(sets[0]), [1, 2, 3, 0, 6, 7, 8, 0]);
  assert.deepEqual(Array.from(sets[1]), [4, 5, 0, 0, 9, 10, 0, 0]);
  // Two pixels of read-backs: (sums…, 1 − T).
  const rgbPass = Float32Array.from([1.2, -0.1, 0.5, 0.9, 0.3, 0.2004, 0.1, 0.5]);
  const p0 = Float32Array.from([0.1, 0.2, 0.3, 0.9, 0.4, 0.5, 0.6, 0.5]);
  const p1 = Float32Array.from([0.7, 0.8, 0, 0.9, 0.9, 1.0, 0, 0.5]);
  const { rgb, features } = networkInputs(rgbPass, [p0, p1], C);
  assert.deepEqual(Array.from(rgb), [1, 0, 128 / 255, 77 / 255, 51 / 255, 26 / 255].map(Math.fround));
  assert.deepEqual(Array.from(features), [0.1, 0.2, 0.3, 0.7, 0.8, 0.4, 0.5, 0.6, 0.9, 1.0].map(Math.fround));
});

test("the viewer's input-size rule (models/vdvi/input-size.ts) is the Segmenter's segmentSize", () => {
  const cfg = vdviConfig("lite", { width: 160, height: 120 });
  // One function serves both: the pipeline re-exports the bundle-safe module the viewer imports.
  assert.equal(bundledSegmentSize, segmentSize);
  // By hand: aspect 16/9, h = round(√(19200 · 9/16) / 32) · 32 = round(3.25) · 32 = 96, w = round(96 · 16/9 / 32) · 32 = 160.
  assert.deepEqual(bundledSegmentSize(cfg, { width: 1920, height: 1080 }), { width: 160, height: 96 });
});

test("argmax, class shares and the overlay colours", () => {
  const logits = Float32Array.from([0, 2, 1, /**/ 5, 5, -1, /**/ -3, -2, -1]);
  const labels = argmaxClasses(logits, 3);
  assert.deepEqual(Array.from(labels), [1, 0, 2]);
  assert.deepEqual(classShares(Uint16Array.from([2, 1, 2, 2])), [
    { id: 2, share: 0.75 },
    { id: 1, share: 0.25 },
  ]);
  const img = labelOverlay(Uint16Array.from([1, 0]), (k) => (k === 1 ? [9, 8, 7] : [1, 2, 3]));
  assert.deepEqual(Array.from(img), [9, 8, 7, 255, 1, 2, 3, 255]);
});

test("the viewer bundle holds the model code and no Node import", async () => {
  const { js } = await buildViewerAssets();
  assert.match(js, /VdviNet/, "VdviNet bundled");
  assert.match(js, /decodeSafetensors/, "the shared safetensors parser bundled");
  assert.doesNotMatch(js, /from\s*["']node:|require\(["']node:/);
  assert.doesNotMatch(js, /worker_threads/);
});
