import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cameraToInriaJson } from "../../src/core/camera-convert.ts";
import { cameraCenter, lookAtCamera, type Camera } from "../../src/core/camera.ts";
import { ConfigError, InvalidFileError, MissingFileError } from "../../src/core/errors.ts";
import { loadDepth, loadInstances, loadLabels, loadRgb } from "../../src/datasets/frames.ts";
import { frameFileName, readProjectDataset, readProjectScene } from "../../src/datasets/project.ts";
import {
  isNovelView,
  novelViewSplit,
  parseDataset,
  readDatasetJson,
  writeDatasetJson,
  type Dataset,
} from "../../src/datasets/scene.ts";
import { near, tempDir, writeGaussians, writeRgb, writeText, writeU16 } from "./helpers.ts";

const W = 4;
const H = 3;
const FRAMES = 9;

const DATASET: Dataset = {
  name: "tiny",
  classes: [
    { id: 0, name: "wall", color: [200, 200, 200] },
    { id: 1, name: "floor", color: [100, 60, 20] },
    { id: 2, name: "chair", color: [10, 200, 30] },
  ],
  ignoreIndex: 65535,
  classTableVersion: 1,
  splits: { train: ["scene_000"], test: ["scene_001"], val: { scene_000: [0, 8] } },
};

function camera(i: number): Camera {
  const eye: [number, number, number] = [Math.cos(i), 1.5, Math.sin(i)];
  return lookAtCamera(eye, [0, 1.2, 0], [0, -1, 0], { width: W, height: H, fx: 2, fy: 2, cx: 2, cy: 1.5 });
}

/** A project scene; cameras.json lists ids in reverse so the reader has to sort them. */
function writeScene(dir: string, seed: number): void {
  writeGaussians(join(dir, "point_cloud.ply"), 5 + seed, seed);
  const entries = Array.from({ length: FRAMES }, (_, i) => cameraToInriaJson(camera(i), i)).reverse();
  writeText(join(dir, "cameras.json"), JSON.stringify(entries));
  for (let i = 0; i < 3; i++) {
    writeRgb(join(dir, "rgb", frameFileName(i)), W, H, 10 * i + seed);
    writeU16(join(dir, "depth", frameFileName(i)), W, H, [0, 1000, 2500, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    writeU16(join(dir, "semantic", frameFileName(i)), W, H, [0, 1, 2, 65535, 0, 0, 1, 1, 2, 2, 0, 1]);
    writeU16(join(dir, "instance", frameFileName(i)), W, H, 7 + i);
  }
}

function makeDataset(): string {
  const root = tempDir("project");
  writeDatasetJson(join(root, "dataset.json"), DATASET);
  writeScene(join(root, "scene_000"), 0);
  writeScene(join(root, "scene_001"), 1);
  return root;
}

test("reads a project dataset: splits, cameras sorted by id, frame files, classes", () => {
  const root = makeDataset();
  const ds = readProjectDataset(root);
  assert.deepEqual(ds.dataset, DATASET);
  assert.deepEqual(ds.train.map((s) => s.name), ["scene_000"]);
  assert.deepEqual(ds.test.map((s) => s.name), ["scene_001"]);
  const scene = ds.train[0];
  assert.equal(scene.layout, "project");
  assert.equal(scene.cameras.length, FRAMES);
  for (let i = 0; i < FRAMES; i++) {
    const c = cameraCenter(scene.cameras[i]);
    const e = cameraCenter(camera(i));
    assert.ok(c.every((v, k) => near(v, e[k], 1e-5)), `frame ${i} centre`);
    assert.equal(scene.cameras[i].cx, 2);
  }
  assert.equal(scene.frames[4].rgb, join(scene.root, "rgb", "000004.png"));
  assert.equal(scene.frames[4].semantic, join(scene.root, "semantic", "000004.png"));
  assert.equal(scene.classes.length, 3);
  assert.equal(scene.ignoreIndex, 65535);
  assert.deepEqual(scene.split, { train: [1, 2, 3, 4, 5, 6, 7], test: [0, 8] });
  assert.equal(scene.loadGaussians().count, 5);
  assert.equal(ds.test[0].loadGaussians().count, 6);
});

test("frame loaders: RGB floats, depth in metres, labels and instances at the camera size", () => {
  const root = makeDataset();
  const scene = readProjectScene(join(root, "scene_001"));
  assert.equal(scene.classes.length, 3, "class table from the parent dataset.json");
  const rgb = loadRgb(scene, 2);
  assert.equal(rgb.channels, 3);
  assert.ok(near(rgb.data[0], 21 / 255));
  const depth = loadDepth(scene, 0);
  assert.deepEqual(Array.from(depth.slice(0, 3)), [0, 1, 2.5]);
  assert.deepEqual(Array.from(loadLabels(scene, 1).slice(0, 5)), [0, 1, 2, 65535, 0]);
  assert.ok(loadInstances(scene, 0).every((v) => v === 7));
  assert.throws(() => loadRgb(scene, 9), (e: unknown) => e instanceof ConfigError && /frame 9 is outside 0..8/.test(e.message));
  assert.throws(
    () => loadRgb(scene, 5),
    (e: unknown) => e instanceof MissingFileError && e.file === join(scene.root, "rgb", "000005.png"),
  );
});

test("an image of the wrong size and an unknown label id name the file", () => {
  const root = makeDataset();
  const dir = join(root, "scene_000");
  writeRgb(join(dir, "rgb", "000001.png"), W + 1, H);
  writeU16(join(dir, "semantic", "000002.png"), W, H, 3);
  const scene = readProjectScene(dir);
  assert.throws(
    () => loadRgb(scene, 1),
    (e: unknown) =>
      e instanceof InvalidFileError && e.file === join(scene.root, "rgb", "000001.png") && /is 5×3, expected 4×3/.test(e.message),
  );
  assert.throws(
    () => loadLabels(scene, 2),
    (e: unknown) =>
      e instanceof InvalidFileError && e.file === join(scene.root, "semantic", "000002.png") && /unknown label id 3 at pixel \(0, 0\)/.test(e.message),
  );
});

test("missing files and bad dataset.json are typed errors naming the file", () => {
  const root = makeDataset();
  rmSync(join(root, "scene_001", "point_cloud.ply"));
  assert.throws(
    () => readProjectDataset(root),
    (e: unknown) => e instanceof MissingFileError && e.file === join(root, "scene_001", "point_cloud.ply"),
  );
  rmSync(join(root, "scene_000", "cameras.json"));
  assert.throws(
    () => readProjectScene(join(root, "scene_000")),
    (e: unknown) => e instanceof MissingFileError && e.file === join(root, "scene_000", "cameras.json"),
  );
  const empty = tempDir("project-empty");
  assert.throws(() => readProjectDataset(empty), (e: unknown) => e instanceof MissingFileError && e.file === join(empty, "dataset.json"));

  const bad = (patch: Record<string, unknown>, pattern: RegExp) => {
    const path = join(empty, "dataset.json");
    writeFileSync(path, JSON.stringify({ ...DATASET, ...patch }));
    assert.throws(() => readDatasetJson(path), (e: unknown) => e instanceof InvalidFileError && e.file === path && pattern.test(e.message));
  };
  bad({ ignoreIndex: 255 }, /"ignoreIndex" must be 65535/);
  bad({ classes: [{ id: 1, name: "x", color: [0, 0, 0] }] }, /classes\[0\]: "id" must equal its position 0/);
  bad({ classes: [{ id: 0, name: "x", color: [0, 0, 256] }] }, /"color" must be 3 integers/);
  bad({ splits: { train: ["a"] } }, /"splits.test" must be an array/);
  bad({ splits: { train: [], test: [], val: { a: [-1] } } }, /splits.val.a/);
  writeFileSync(join(empty, "dataset.json"), "{ nope");
  assert.throws(() => readDatasetJson(join(empty, "dataset.json")), (e: unknown) => e instanceof InvalidFileError && /not valid JSON/.test(e.message));
});

test("dataset.json: val as a list of { scene, frames } reads as a map; writing refuses a bad table", () => {
  const parsed = parseDataset({ ...DATASET, splits: { train: ["a"], test: ["b"], val: [{ scene: "a", frames: [0, 8, 16] }] } }, "d.json");
  assert.deepEqual(parsed.splits.val, { a: [0, 8, 16] });
  const dir = tempDir("project-write");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "dataset.json");
  const broken = { ...DATASET, classes: [{ id: 5, name: "x", color: [0, 0, 0] as const }] };
  assert.throws(() => writeDatasetJson(path, broken), InvalidFileError);
  writeDatasetJson(path, DATASET);
  assert.deepEqual(JSON.parse(readFileSync(path, "utf8")), DATASET);
});

test("novel-view split: index % 8 == 0", () => {
  assert.deepEqual(novelViewSplit(17).test, [0, 8, 16]);
  assert.equal(novelViewSplit(17).train.length, 14);
  assert.ok(isNovelView(24) && !isNovelView(25));
});
