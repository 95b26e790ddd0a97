/**
 * Reader of Replica as rendered by Semantic-NeRF (DATA.md §2):
 * `SCENE/Sequence_{1,2}/{rgb/rgb_I.png, depth/depth_I.png, semantic_class/semantic_class_I.png,
 * semantic_instance/semantic_instance_I.png, traj_w_c.txt}`, with the trained model at
 * `SCENE/3dgs/point_cloud/iteration_N/point_cloud.ply`.
 *
 * Intrinsics are Replica's (640×480, fx = fy = 320, cx = 319.5, cy = 239.5 in the integer-centre convention,
 * so (320, 240) here), scaled to the size of the renders when they were made smaller (Semantic-NeRF's
 * 320×240 runs). Depth is in millimetres; labels are Replica ids mapped by one of the class tables.
 */
import { join } from "node:path";
import { readReplicaTrajectory, REPLICA_INTRINSICS, scaleIntrinsics } from "../core/camera-convert.ts";
import type { Camera } from "../core/camera.ts";
import { ConfigError, InvalidFileError, MissingFileError } from "../core/errors.ts";
import { replicaClassTable, replicaRemap, type ReplicaMapping } from "./class-tables.ts";
import { imageSize } from "./frames.ts";
import { isDir, makeScene, numberedFiles, optionalDir, trainedSplat } from "./reader-common.ts";
import type { FramePaths, Scene } from "./scene.ts";

/** Options of `readReplicaScene`. */
export interface ReplicaOptions {
  /** Sequences to read, in this order; default every one of 1 and 2 that exists. */
  sequences?: (1 | 2)[];
  /** Keep frames whose number is a multiple of `step` (RT-GS2 uses every 3rd frame); default 1. */
  step?: number;
  /** Class table for the labels; default RT-GS2's 46 classes. */
  mapping?: ReplicaMapping;
}

/**
 * Read a Semantic-NeRF Replica scene. Frames are the RGB images of each sequence in frame-number order
 * (Sequence_1 first); frame I's pose is line I of that sequence's `traj_w_c.txt`. Cameras are named
 * `Sequence_S/I`.
 * @throws MissingFileError for a missing sequence, `traj_w_c.txt` or trained model (naming
 *   `3dgs/point_cloud/iteration_N/point_cloud.ply`); InvalidFileError when an image has no pose.
 */
export function readReplicaScene(dir: string, options: ReplicaOptions = {}): Scene {
  const step = options.step ?? 1;
  if (!Number.isInteger(step) || step < 1) throw new ConfigError("step", `must be a positive integer, got ${step}`);
  const wanted = options.sequences ?? ([1, 2] as const).filter((s) => isDir(join(dir, `Sequence_${s}`)));
  if (wanted.length === 0) {
    throw new MissingFileError(join(dir, "Sequence_1"), "not a Semantic-NeRF Replica scene: no Sequence_1/ or Sequence_2/");
  }
  const splatPath = trainedSplat(dir);
  const cameras: Camera[] = [];
  const frames: FramePaths[] = [];
  for (const s of wanted) {
    const seq = join(dir, `Sequence_${s}`);
    if (!isDir(seq)) throw new MissingFileError(seq, "no such Replica sequence");
    const images = numberedFiles(join(seq, "rgb"), /^rgb_(\d+)\.png$/);
    if (images.length === 0) throw new MissingFileError(join(seq, "rgb", "rgb_0.png"), "sequence has no RGB frames");
    const size = imageSize(images[0].path);
    const intr = size.width === REPLICA_INTRINSICS.width && size.height === REPLICA_INTRINSICS.height
      ? REPLICA_INTRINSICS
      : scaleIntrinsics(REPLICA_INTRINSICS, size.width, size.height);
    const trajPath = join(seq, "traj_w_c.txt");
    const poses = readReplicaTrajectory(trajPath, intr);
    const dirs = {
      depth: optionalDir(join(seq, "depth")),
      semantic: optionalDir(join(seq, "semantic_class")),
      instance: optionalDir(join(seq, "semantic_instance")),
    };
    for (const { index, path } of images) {
      if (index % step !== 0) continue;
      if (index >= poses.length) {
        throw new InvalidFileError(trajPath, `has ${poses.length} poses, so rgb/rgb_${index}.png has no pose (missing line ${index + 1})`);
      }
      cameras.push({ ...poses[index], name: `Sequence_${s}/${index}` });
      const f: FramePaths = { rgb: path };
      if (dirs.depth) f.depth = join(dirs.depth, `depth_${index}.png`);
      if (dirs.semantic) f.semantic = join(dirs.semantic, `semantic_class_${index}.png`);
      if (dirs.instance) f.instance = join(dirs.instance, `semantic_instance_${index}.png`);
      frames.push(f);
    }
  }
  const mapping = options.mapping ?? "rtgs2";
  return makeScene({
    root: dir,
    layout: "replica",
    splatPath,
    cameras,
    frames,
    classes: replicaClassTable(mapping),
    labelRemap: replicaRemap(mapping),
    depthScale: 0.001,
    resize: "exact",
  });
}
