/**
 * The render cache: a cached view equals a direct render (RGB to 1/255, features to float16) with the GT labels
 * and depth; a second open renders nothing; a changed splat file, size or feature source gives a new key and a
 * rebuild, never the stale entry; a corrupt view file is a typed error.
 */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { writeFileSync, readFileSync } from "node:fs";
import { readProjectDataset } from "../../src/datasets/project.ts";
import { loadDepth, loadLabels } from "../../src/datasets/frames.ts";
import { render } from "../../src/render/render.ts";
import { readSplatSync, writeSplat } from "../../src/splat/io/index.ts";
import { float16BitsToFloat32 } from "../../src/nn/safetensors.ts";
import { decodeCachedView, openRenderCache, scaleCamera } from "../../src/train/render-cache.ts";
import { InvalidFileError } from "../../src/core/errors.ts";
import { tinyDataset, FIXTURE_ENCODER } from "./semantic-fixture.ts";

let ds: Awaited<ReturnType<typeof tinyDataset>>;
before(async () => {
  ds = await tinyDataset({ scenes: 1, frames: 3, gaussians: 2000 });
});
after(() => ds.cleanup());

test("a cached view is the render (u8 RGB, f16 features) plus GT labels and depth; reopening renders nothing", async () => {
  const scene = readProjectDataset(ds.dir).test[0];
  const cacheDir = join(ds.dir, "..", "cache");
  const c = await openRenderCache(scene, { cacheDir, width: 64, height: 48, features: "encoded", threads: 1 });
  assert.equal(c.built, 3);
  assert.equal(c.parts.encoder, FIXTURE_ENCODER);
  const v = c.read(1);
  const { cloud } = readSplatSync(scene.splatPath);
  const r = await render(cloud, scaleCamera(scene.cameras[1], 64, 48), { features: "f_pc_", threads: 1 });
  for (let i = 0; i < r.rgb.length; i++) assert.ok(Math.abs(v.rgb[i] / 255 - Math.min(1, Math.max(0, r.rgb[i]))) <= 0.5 / 255 + 1e-6);
  const f = float16BitsToFloat32(v.features);
  const rf = r.features as Float32Array;
  for (let i = 0; i < f.length; i++) assert.ok(Math.abs(f[i] - rf[i]) <= 1e-3 * Math.max(1, Math.abs(rf[i])), `feature ${i}`);
  assert.deepEqual(v.labels, loadLabels(scene, 1));
  assert.deepEqual(v.depth, loadDepth(scene, 1));
  const again = await openRenderCache(scene, { cacheDir, width: 64, height: 48, features: "encoded", threads: 1 });
  assert.equal(again.built, 0);
  assert.equal(again.key, c.key);
  // Another size → another key (and labels resized by nearest neighbour).
  const half = await openRenderCache(scene, { cacheDir, width: 32, height: 24, features: "encoded", threads: 1, views: [1] });
  assert.notEqual(half.key, c.key);
  assert.equal(half.built, 1);
  assert.equal(half.read(1).labels[0], loadLabels(scene, 1)[64 + 1]); // output (0, 0) samples input (1, 1)
});

test("changing the splat file invalidates the cache: new key, fresh renders with the new features", async () => {
  const scene = readProjectDataset(ds.dir).test[0];
  const cacheDir = join(ds.dir, "..", "cache2");
  const c1 = await openRenderCache(scene, { cacheDir, width: 64, height: 48, features: "encoded", threads: 1, views: [0] });
  const before = float16BitsToFloat32(c1.read(0).features);
  // Re-encode: negate every feature (same encoder comment, so only the file hash can tell).
  const { cloud, comments } = readSplatSync(scene.splatPath);
  for (let k = 0; k < 32; k++) {
    const col = cloud.extras.get(`f_pc_${k}`) as Float32Array;
    for (let i = 0; i < col.length; i++) col[i] = -col[i];
  }
  writeSplat(scene.splatPath, cloud, { comments });
  const c2 = await openRenderCache(scene, { cacheDir, width: 64, height: 48, features: "encoded", threads: 1, views: [0] });
  assert.notEqual(c2.key, c1.key);
  assert.equal(c2.built, 1);
  const after2 = float16BitsToFloat32(c2.read(0).features);
  let differs = 0;
  for (let i = 0; i < before.length; i++) if (before[i] !== 0 && Math.abs(after2[i] + before[i]) < 1e-3) differs++;
  assert.ok(differs > before.length / 4, "the new entry holds the negated features");
  // A different encoder comment alone also changes the key.
  writeSplat(scene.splatPath, cloud, { comments: ["rtgs2 encoder another-encoder"] });
  const c3 = await openRenderCache(scene, { cacheDir, width: 64, height: 48, features: "encoded", threads: 1, views: [0] });
  assert.equal(c3.parts.encoder, "another-encoder");
  assert.notEqual(c3.key, c2.key);
  // A corrupt view file is a typed error naming it.
  const p = c3.viewPath(0);
  writeFileSync(p, readFileSync(p).subarray(0, 100));
  assert.throws(() => c3.read(0), (e: unknown) => e instanceof InvalidFileError && e.message.includes(p));
  assert.throws(() => decodeCachedView(new Uint8Array(64), "x.bin"), /bad magic/);
});
