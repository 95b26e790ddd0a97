import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { cameraCenter } from "../../src/core/camera.ts";
import { ConfigError, InvalidFileError, MissingFileError } from "../../src/core/errors.ts";
import { loadDepth, loadInstances, loadLabels, loadRgb } from "../../src/datasets/frames.ts";
import { readReplicaScene } from "../../src/datasets/replica.ts";
import { c2wYaw, near, tempDir, writeGaussians, writeRgb, writeText, writeU16 } from "./helpers.ts";

const W = 8;
const H = 6;

/**
 * A Semantic-NeRF Replica scene at 8×6 (a 1/80 scale render): Sequence_1 with 3 frames, Sequence_2 with 2;
 * semantic images hold Replica ids.
 */
function writeReplica(options: { sequence2?: boolean } = {}): string {
  const dir = join(tempDir("replica"), "office_0");
  writeGaussians(join(dir, "3dgs", "point_cloud", "iteration_30000", "point_cloud.ply"), 7);
  const sequences = options.sequence2 === false ? [1] : [1, 2];
  for (const s of sequences) {
    const seq = join(dir, `Sequence_${s}`);
    const n = s === 1 ? 3 : 2;
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      lines.push(c2wYaw(0.3 * i, [i, 1.5, 10 * s]).join(" "));
      writeRgb(join(seq, "rgb", `rgb_${i}.png`), W, H, 10 * s + i);
      writeU16(join(seq, "depth", `depth_${i}.png`), W, H, 1500 + i);
      // Replica ids: 3 basket (RT-GS2 1), 1 backpack (not listed → 0), 93 wall (RT-GS2 42), 0 void (→ 0).
      writeU16(join(seq, "semantic_class", `semantic_class_${i}.png`), W, H, Array.from({ length: W * H }, (_, p) => [3, 1, 93, 0][p % 4]));
      writeU16(join(seq, "semantic_instance", `semantic_instance_${i}.png`), W, H, 40 + i);
    }
    writeText(join(seq, "traj_w_c.txt"), lines.join("\n") + "\n");
  }
  return dir;
}

test("reads a Semantic-NeRF Replica scene: both sequences, poses, scaled intrinsics, frame files", () => {
  const dir = writeReplica();
  const scene = readReplicaScene(dir);
  assert.equal(scene.layout, "replica");
  assert.equal(scene.name, "office_0");
  assert.equal(scene.loadGaussians().count, 7);
  assert.deepEqual(scene.cameras.map((c) => c.name), ["Sequence_1/0", "Sequence_1/1", "Sequence_1/2", "Sequence_2/0", "Sequence_2/1"]);
  // 640×480, fx 320, cx 319.5 (+0.5) scaled to 8×6.
  const c = scene.cameras[0];
  assert.deepEqual([c.width, c.height, c.fx, c.fy, c.cx, c.cy], [8, 6, 4, 4, 4, 3]);
  const centre = cameraCenter(scene.cameras[4]);
  assert.ok(near(centre[0], 1) && near(centre[1], 1.5) && near(centre[2], 20));
  // traj_w_c is camera-to-world in OpenCV axes: the camera's +z axis is the third column of the rotation.
  const v = scene.cameras[1].viewMatrix;
  assert.ok(near(v[8], Math.sin(0.3)) && near(v[10], Math.cos(0.3)));
  assert.equal(scene.frames[3].semantic, join(dir, "Sequence_2", "semantic_class", "semantic_class_0.png"));
  assert.deepEqual(scene.split, { train: [1, 2, 3, 4], test: [0] });

  assert.ok(near(loadRgb(scene, 4).data[0], 21 / 255));
  assert.ok(near(loadDepth(scene, 2)[0], 1.502));
  assert.deepEqual(Array.from(loadLabels(scene, 0).slice(0, 4)), [1, 0, 42, 0]);
  assert.ok(loadInstances(scene, 1).every((x) => x === 41));
  assert.equal(scene.classes.length, 46);
});

test("options: one sequence, every 2nd frame, the S-Ray mapping", () => {
  const dir = writeReplica();
  const scene = readReplicaScene(dir, { sequences: [1], step: 2, mapping: "sray" });
  assert.deepEqual(scene.cameras.map((c) => c.name), ["Sequence_1/0", "Sequence_1/2"]);
  assert.equal(scene.classes.length, 51);
  // S-Ray: basket → 0, backpack and void ignored, wall → 47.
  assert.deepEqual(Array.from(loadLabels(scene, 1).slice(0, 4)), [0, 65535, 47, 65535]);
  assert.throws(() => readReplicaScene(dir, { step: 0 }), ConfigError);
  assert.throws(() => readReplicaScene(dir, { sequences: [2], mapping: "nope" as "sray" }), ConfigError);
});

test("full-size renders get Replica's intrinsics exactly (cx 319.5 + 0.5)", () => {
  const dir = writeReplica({ sequence2: false });
  writeRgb(join(dir, "Sequence_1", "rgb", "rgb_0.png"), 640, 480);
  const c = readReplicaScene(dir).cameras[0];
  assert.deepEqual([c.width, c.height, c.fx, c.fy, c.cx, c.cy], [640, 480, 320, 320, 320, 240]);
});

test("missing 3dgs model, missing pose, inf pose, wrong size and unknown id are typed errors naming the file", () => {
  const dir = writeReplica();
  const traj = join(dir, "Sequence_1", "traj_w_c.txt");

  // An image with no pose: rgb_3.png but only 3 lines.
  writeRgb(join(dir, "Sequence_1", "rgb", "rgb_3.png"), W, H);
  assert.throws(
    () => readReplicaScene(dir),
    (e: unknown) => e instanceof InvalidFileError && e.file === traj && /has 3 poses, so rgb\/rgb_3.png has no pose/.test(e.message),
  );
  rmSync(join(dir, "Sequence_1", "rgb", "rgb_3.png"));

  // Replica poses are never invalid on purpose, so inf is a bad file here (ScanNet skips them instead).
  writeText(traj, [c2wYaw(0, [0, 0, 0]), c2wYaw(0, [0, 0, 0]).map((x, i) => (i === 3 ? "inf" : x)), c2wYaw(0, [1, 0, 0])].map((m) => m.join(" ")).join("\n"));
  assert.throws(() => readReplicaScene(dir), (e: unknown) => e instanceof InvalidFileError && e.file === traj && /pose 1/.test(e.message));
  rmSync(traj);
  assert.throws(() => readReplicaScene(dir), (e: unknown) => e instanceof MissingFileError && e.file === traj);
  writeText(traj, [0, 1, 2].map((i) => c2wYaw(0, [i, 0, 0]).join(" ")).join("\n"));

  const scene = readReplicaScene(dir);
  const rgb1 = join(dir, "Sequence_1", "rgb", "rgb_1.png");
  writeRgb(rgb1, W * 2, H * 2);
  assert.throws(
    () => loadRgb(scene, 1),
    (e: unknown) => e instanceof InvalidFileError && e.file === rgb1 && /is 16×12, expected 8×6/.test(e.message),
  );
  const sem2 = join(dir, "Sequence_1", "semantic_class", "semantic_class_2.png");
  writeU16(sem2, W, H, Array.from({ length: W * H }, (_, p) => (p === 9 ? 150 : 3)));
  assert.throws(
    () => loadLabels(scene, 2),
    (e: unknown) => e instanceof InvalidFileError && e.file === sem2 && /unknown label id 150 at pixel \(1, 1\)/.test(e.message),
  );
  const depth0 = join(dir, "Sequence_2", "depth", "depth_0.png");
  rmSync(depth0);
  assert.throws(() => loadDepth(scene, 3), (e: unknown) => e instanceof MissingFileError && e.file === depth0);

  rmSync(join(dir, "3dgs"), { recursive: true });
  assert.throws(
    () => readReplicaScene(dir),
    (e: unknown) =>
      e instanceof MissingFileError &&
      e.file === join(dir, "3dgs", "point_cloud", "iteration_N", "point_cloud.ply") &&
      /train 3DGS on this scene's own images and poses/.test(e.message),
  );
  assert.throws(
    () => readReplicaScene(join(dir, "..")),
    (e: unknown) => e instanceof MissingFileError && /no Sequence_1\/ or Sequence_2\//.test(e.message),
  );
});
