import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { writeInriaCameras } from "../../src/core/camera-convert.ts";
import { lookAtCamera } from "../../src/core/camera.ts";
import { MissingFileError } from "../../src/core/errors.ts";
import { detectLayout, readScene } from "../../src/datasets/detect.ts";
import { tempDir, writeGaussians, writeText } from "./helpers.ts";

test("detectLayout tells each layout from its folder structure", () => {
  const root = tempDir("detect");
  const make = (name: string, paths: string[]) => {
    for (const p of paths) {
      if (p.endsWith("/")) mkdirSync(join(root, name, p), { recursive: true });
      else writeText(join(root, name, p), "");
    }
    return join(root, name);
  };
  assert.equal(detectLayout(make("p", ["point_cloud.ply", "cameras.json"])), "project");
  assert.equal(detectLayout(make("r", ["Sequence_2/", "3dgs/point_cloud/iteration_1/"])), "replica");
  assert.equal(detectLayout(make("s", ["color/", "pose/", "3dgs/"])), "scannet");
  assert.equal(detectLayout(make("pp", ["dslr/nerfstudio/"])), "scannetpp");
  assert.equal(detectLayout(make("i", ["point_cloud/iteration_7000/", "cameras.json"])), "inria");
  assert.equal(detectLayout(make("none", ["readme.txt"])), undefined);
  assert.equal(detectLayout(join(root, "missing")), undefined);
});

test("readScene reads a detected layout and names the folder when none matches", () => {
  const root = tempDir("detect-read");
  const dir = join(root, "out");
  writeGaussians(join(dir, "point_cloud", "iteration_100", "point_cloud.ply"), 3);
  writeInriaCameras(join(dir, "cameras.json"), [lookAtCamera([0, 0, -2], [0, 0, 0], [0, -1, 0], { width: 4, height: 4, fx: 3 })]);
  const scene = readScene(dir);
  assert.equal(scene.layout, "inria");
  assert.equal(scene.cameras.length, 1);
  assert.throws(() => readScene(root), (e: unknown) => e instanceof MissingFileError && e.file === root && /known layout/.test(e.message));
});
