import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { synthesizeDataset, type DatasetJson } from "../../src/scenes/dataset.ts";
import { readLabelPng, readPng } from "../../src/core/image.ts";
import { readInriaCameras } from "../../src/core/camera-convert.ts";
import { readSplatSync } from "../../src/splat/io/index.ts";
import { SYNTH_CLASSES } from "../../src/scenes/classes.ts";
import { readProjectDataset } from "../../src/datasets/project.ts";

const root = mkdtempSync(join(tmpdir(), "rtgs2-synth-"));
after(() => rmSync(root, { recursive: true, force: true }));

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

const config = { scenes: 3, frames: 9, width: 48, height: 36, seed: 3, gaussians: 4000, quiet: true };

test("the same seed gives identical bytes, whatever the thread count", async () => {
  const a = join(root, "a"), b = join(root, "b");
  const ra = await synthesizeDataset({ ...config, outDir: a, threads: 2 });
  await synthesizeDataset({ ...config, outDir: b, threads: 1 });
  const fa = listFiles(a), fb = listFiles(b);
  assert.deepEqual(fa.map((f) => relative(a, f)), fb.map((f) => relative(b, f)));
  for (let i = 0; i < fa.length; i++) assert.ok(readFileSync(fa[i]).equals(readFileSync(fb[i])), `differs: ${relative(a, fa[i])}`);
  assert.equal(ra.scenes, 3);
  assert.equal(ra.frames, 9);
  assert.equal(ra.classes, SYNTH_CLASSES.length);
  assert.equal(ra.gaussians, 3 * 4000);
  // No stray temporary files from the atomic writes.
  assert.ok(fa.every((f) => !f.includes(".tmp-")));
});

test("the output follows the DATA.md layout and split rules", () => {
  const dir = join(root, "a");
  const doc = JSON.parse(readFileSync(join(dir, "dataset.json"), "utf8")) as DatasetJson;
  assert.deepEqual(doc.splits.train, ["scene_000", "scene_001"]);
  assert.deepEqual(doc.splits.test, ["scene_002"]);
  assert.deepEqual(doc.splits.val, { scene_000: [0, 8], scene_001: [0, 8] });
  // The project reader takes the generator's output as it is.
  const read = readProjectDataset(dir);
  assert.deepEqual(read.dataset.splits.val, doc.splits.val);
  assert.deepEqual([read.train.length, read.test.length], [2, 1]);
  assert.equal(read.test[0].cameras.length, 9);
  assert.equal(read.test[0].classes.length, SYNTH_CLASSES.length);
  assert.equal(doc.ignoreIndex, 65535);
  assert.equal(doc.classes.length, SYNTH_CLASSES.length);
  assert.ok(doc.classTableVersion);
  const scene = join(dir, "scene_001");
  const cams = readInriaCameras(join(scene, "cameras.json"));
  assert.equal(cams.length, 9);
  assert.equal(cams[0].width, 48);
  const rgb = readPng(join(scene, "rgb", "000004.png"));
  assert.deepEqual([rgb.width, rgb.height, rgb.channels], [48, 36, 3]);
  const depth = readLabelPng(join(scene, "depth", "000004.png"));
  const sem = readLabelPng(join(scene, "semantic", "000004.png"));
  const inst = readLabelPng(join(scene, "instance", "000004.png"));
  // A closed room: every pixel sees a surface between 0.2 m and the far corner.
  for (let i = 0; i < depth.labels.length; i++) {
    assert.ok(depth.labels[i] >= 200 && depth.labels[i] < 12000);
    assert.ok(sem.labels[i] < SYNTH_CLASSES.length);
    assert.ok(inst.labels[i] > 0);
  }
  const { cloud } = readSplatSync(join(scene, "point_cloud.ply"));
  assert.equal(cloud.count, 4000);
  assert.equal(cloud.shDegree, 3);
  const label = cloud.extras.get("label");
  assert.ok(label instanceof Uint16Array);
  assert.ok(label.every((l) => l < SYNTH_CLASSES.length || l === 65535));
});

test("a different seed gives a different dataset", async () => {
  const c = join(root, "c");
  await synthesizeDataset({ ...config, scenes: 1, seed: 4, outDir: c, threads: 1 });
  assert.ok(!readFileSync(join(c, "scene_000", "point_cloud.ply")).equals(readFileSync(join(root, "a", "scene_000", "point_cloud.ply"))));
});
