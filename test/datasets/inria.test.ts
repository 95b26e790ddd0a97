import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { cameraToInriaJson } from "../../src/core/camera-convert.ts";
import { cameraCenter, lookAtCamera } from "../../src/core/camera.ts";
import { InvalidFileError, MissingFileError } from "../../src/core/errors.ts";
import { loadRgb } from "../../src/datasets/frames.ts";
import { readInriaScene } from "../../src/datasets/inria.ts";
import { latestIterationPly, resolveSceneFiles } from "../../src/datasets/scene-files.ts";
import { near, tempDir, writeGaussians, writeRgb, writeText } from "./helpers.ts";

/** Inria output: iteration_7000 and iteration_30000 (the larger wins by number, not by name), 3 cameras. */
function writeOutput(): string {
  const dir = tempDir("inria");
  writeGaussians(join(dir, "point_cloud", "iteration_7000", "point_cloud.ply"), 4);
  writeGaussians(join(dir, "point_cloud", "iteration_30000", "point_cloud.ply"), 9);
  const cams = [2, 0, 1].map((id) =>
    // Inria's writer omits cx, cy: the principal point is the image centre.
    (({ cx: _cx, cy: _cy, ...rest }) => rest)(
      cameraToInriaJson(lookAtCamera([id, 0, -3], [0, 0, 0], [0, -1, 0], { width: 6, height: 4, fx: 5 }), id),
    ),
  );
  cams[0].img_name = "frame_c";
  cams[1].img_name = "frame_a";
  cams[2].img_name = "frame_b";
  writeText(join(dir, "cameras.json"), JSON.stringify(cams));
  return dir;
}

test("reads an Inria output folder: largest iteration, cameras sorted by id, centred principal point", () => {
  const dir = writeOutput();
  const scene = readInriaScene(dir);
  assert.equal(scene.layout, "inria");
  assert.equal(scene.splatPath, join(dir, "point_cloud", "iteration_30000", "point_cloud.ply"));
  assert.equal(scene.loadGaussians().count, 9);
  assert.deepEqual(scene.cameras.map((c) => c.name), ["frame_a", "frame_b", "frame_c"]);
  scene.cameras.forEach((c, i) => {
    const centre = cameraCenter(c);
    assert.ok(near(centre[0], i) && near(centre[2], -3), `camera ${i}`);
    assert.equal(c.cx, 3);
    assert.equal(c.cy, 2);
  });
  assert.deepEqual(scene.frames, [{}, {}, {}]);
  assert.deepEqual(scene.classes, []);
  assert.deepEqual(scene.split.test, [0]);
});

test("imagesDir gives each camera its img_name as the RGB frame", () => {
  const dir = writeOutput();
  const images = tempDir("inria-images");
  writeRgb(join(images, "frame_a.png"), 6, 4, 1);
  writeRgb(join(images, "frame_b.png"), 6, 4, 2);
  writeRgb(join(images, "frame_c.png"), 7, 4, 3);
  const scene = readInriaScene(dir, { imagesDir: images });
  assert.equal(scene.frames[1].rgb, join(images, "frame_b.png"));
  assert.ok(near(loadRgb(scene, 1).data[0], 2 / 255));
  assert.throws(() => loadRgb(scene, 2), (e: unknown) => e instanceof InvalidFileError && e.file === join(images, "frame_c.png"));
  rmSync(join(images, "frame_b.png"));
  assert.throws(
    () => readInriaScene(dir, { imagesDir: images }),
    (e: unknown) => e instanceof MissingFileError && e.file === join(images, "frame_b") && /img_name "frame_b"/.test(e.message),
  );
});

test("missing point cloud or cameras.json name the expected path; scene-files agrees", () => {
  const dir = writeOutput();
  assert.equal(latestIterationPly(dir), join(dir, "point_cloud", "iteration_30000", "point_cloud.ply"));
  assert.deepEqual(resolveSceneFiles(dir), {
    splatPath: join(dir, "point_cloud", "iteration_30000", "point_cloud.ply"),
    camerasPath: join(dir, "cameras.json"),
  });
  rmSync(join(dir, "cameras.json"));
  assert.throws(() => readInriaScene(dir), (e: unknown) => e instanceof MissingFileError && e.file === join(dir, "cameras.json"));
  rmSync(join(dir, "point_cloud"), { recursive: true });
  assert.throws(
    () => readInriaScene(dir),
    (e: unknown) => e instanceof MissingFileError && e.file === join(dir, "point_cloud", "iteration_N", "point_cloud.ply"),
  );
  assert.throws(() => readInriaScene(join(dir, "nope")), (e: unknown) => e instanceof MissingFileError && e.file === join(dir, "nope"));
});

test("a bad cameras.json is an InvalidFileError naming it", () => {
  const dir = writeOutput();
  writeText(join(dir, "cameras.json"), JSON.stringify([{ id: 0, width: 4, height: 4, fx: 1, fy: 1, position: [0, 0, 0] }]));
  assert.throws(
    () => readInriaScene(dir),
    (e: unknown) => e instanceof InvalidFileError && e.file === join(dir, "cameras.json") && /rotation/.test(e.message),
  );
});
