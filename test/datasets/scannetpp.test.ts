import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { cameraCenter } from "../../src/core/camera.ts";
import { InvalidFileError, MissingFileError, UnsupportedFormatError } from "../../src/core/errors.ts";
import { identityRemap } from "../../src/datasets/class-tables.ts";
import { loadLabels } from "../../src/datasets/frames.ts";
import { readScanNetPPScene } from "../../src/datasets/scannetpp.ts";
import { near, tempDir, writeGaussians, writeJpegHeader, writeText, writeU16 } from "./helpers.ts";

const W = 12;
const H = 8;

/** An OpenGL camera-to-world 4×4 as nested rows: identity rotation (looking down world −z) at `t`. */
const glPose = (t: [number, number, number]) => [
  [1, 0, 0, t[0]],
  [0, 1, 0, t[1]],
  [0, 0, 1, t[2]],
  [0, 0, 0, 1],
];

/** ScanNet++ DSLR: fisheye `transforms.json` over `resized_images`, optionally the undistorted pair. */
function writeScanNetPP(undistorted: boolean): string {
  const dir = join(tempDir("scannetpp"), "0a5c013435");
  writeGaussians(join(dir, "3dgs", "point_cloud", "iteration_30000", "point_cloud.ply"), 4);
  const names = ["DSC00003.JPG", "DSC00001.JPG", "DSC00002.JPG", "DSC00004.JPG"];
  const frame = (i: number) => ({ file_path: names[i], transform_matrix: glPose([i, 0, 0]) });
  const fisheye = {
    camera_model: "OPENCV_FISHEYE",
    fl_x: 10, fl_y: 10, cx: 6, cy: 4, w: W, h: H, k1: 0.1, k2: 0, k3: 0, k4: 0,
    frames: [frame(0), frame(1), { ...frame(3), is_bad: true }],
    test_frames: [frame(2)],
  };
  writeText(join(dir, "dslr", "nerfstudio", "transforms.json"), JSON.stringify(fisheye));
  for (const n of names) writeJpegHeader(join(dir, "dslr", "resized_images", n), W, H);
  if (undistorted) {
    const pinhole = { ...fisheye, camera_model: "PINHOLE", k1: 0, fl_x: 9, fl_y: 9, cx: 6.25, cy: 4.25 };
    writeText(join(dir, "dslr", "nerfstudio", "transforms_undistorted.json"), JSON.stringify(pinhole));
    for (const n of names) writeJpegHeader(join(dir, "dslr", "resized_undistorted_images", n), W, H);
    writeU16(join(dir, "dslr", "semantic", "DSC00001.png"), W, H, 2);
  }
  return dir;
}

test("reads the undistorted DSLR set: frames and test_frames sorted by name, is_bad skipped, OpenGL poses", () => {
  const dir = writeScanNetPP(true);
  const warnings: string[] = [];
  const scene = readScanNetPPScene(dir, { onWarning: (m) => warnings.push(m), classes: [], labelRemap: identityRemap(3) });
  assert.equal(scene.layout, "scannetpp");
  assert.deepEqual(scene.cameras.map((c) => c.name), ["DSC00001.JPG", "DSC00002.JPG", "DSC00003.JPG"]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /"DSC00004.JPG" is flagged is_bad/);
  const c = scene.cameras[0];
  // nerfstudio's principal point is already half-pixel: read as stored.
  assert.deepEqual([c.width, c.height, c.fx, c.cx, c.cy], [W, H, 9, 6.25, 4.25]);
  assert.ok(near(cameraCenter(c)[0], 1));
  // OpenGL looks down −z: in OpenCV axes the camera's forward row is world −z, and its y row is world −y.
  assert.ok(near(c.viewMatrix[10], -1) && near(c.viewMatrix[5], -1));
  assert.equal(scene.frames[1].rgb, join(dir, "dslr", "resized_undistorted_images", "DSC00002.JPG"));
  assert.equal(scene.frames[0].semantic, join(dir, "dslr", "semantic", "DSC00001.png"));
  assert.ok(loadLabels(scene, 0).every((v) => v === 2));
  assert.equal(scene.loadGaussians().count, 4);
});

test("a fisheye-only scene is refused with a message saying how to undistort", () => {
  const dir = writeScanNetPP(false);
  assert.throws(
    () => readScanNetPPScene(dir, { onWarning: () => {} }),
    (e: unknown) =>
      e instanceof UnsupportedFormatError &&
      e.file === join(dir, "dslr", "nerfstudio", "transforms.json") &&
      /fisheye-only ScanNet\+\+ scene/.test(e.message) &&
      /transforms_undistorted\.json/.test(e.message),
  );
});

test("missing transforms, images or model, and a bad transforms file name the path", () => {
  const dir = writeScanNetPP(true);
  const opts = { onWarning: () => {} };
  rmSync(join(dir, "3dgs"), { recursive: true });
  assert.throws(
    () => readScanNetPPScene(dir, opts),
    (e: unknown) => e instanceof MissingFileError && e.file === join(dir, "3dgs", "point_cloud", "iteration_N", "point_cloud.ply"),
  );
  const undistorted = join(dir, "dslr", "nerfstudio", "transforms_undistorted.json");
  writeText(undistorted, "{ nope");
  assert.throws(() => readScanNetPPScene(dir, opts), (e: unknown) => e instanceof InvalidFileError && e.file === undistorted);
  writeText(undistorted, JSON.stringify({ camera_model: "PINHOLE", fl_x: 9, w: W, h: H, frames: [{ file_path: "a.JPG" }] }));
  assert.throws(
    () => readScanNetPPScene(dir, opts),
    (e: unknown) => e instanceof InvalidFileError && e.file === undistorted && /transform_matrix/.test(e.message),
  );
  rmSync(join(dir, "dslr"), { recursive: true });
  assert.throws(
    () => readScanNetPPScene(dir, opts),
    (e: unknown) => e instanceof MissingFileError && e.file === join(dir, "dslr", "nerfstudio", "transforms.json"),
  );
});
