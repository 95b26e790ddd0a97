/**
 * Reader of an Inria 3DGS output folder (DATA.md §2): `point_cloud/iteration_N/point_cloud.ply` (largest N) and
 * `cameras.json` (camera-to-world rotation, camera-centre position). The output holds no images; pass
 * `imagesDir` (the training set's image folder) to get each camera's `img_name` as its RGB frame.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readInriaCameras } from "../core/camera-convert.ts";
import { MissingFileError } from "../core/errors.ts";
import { makeScene, requireDir } from "./reader-common.ts";
import { latestIterationPly } from "./scene-files.ts";
import type { ClassInfo, FramePaths, LabelRemap, Scene } from "./scene.ts";

/** Options of `readInriaScene`. */
export interface InriaOptions {
  /** Folder of the training images; frame i's RGB is `imagesDir/<img_name>` with the first matching extension. */
  imagesDir?: string;
  /** Class table, when the Gaussians carry a `label` property of known meaning. */
  classes?: ClassInfo[];
  labelRemap?: LabelRemap;
}

const IMAGE_EXTENSIONS = ["", ".png", ".jpg", ".jpeg", ".JPG", ".JPEG", ".PNG"];

/**
 * Read an Inria 3DGS output folder. Frames are the cameras sorted by id.
 * @throws MissingFileError naming `point_cloud/iteration_N/point_cloud.ply`, `cameras.json` or an image that
 *   `imagesDir` lacks; InvalidFileError for a bad `cameras.json`.
 */
export function readInriaScene(dir: string, options: InriaOptions = {}): Scene {
  requireDir(dir, "no such Inria 3DGS output folder");
  const splatPath = latestIterationPly(dir);
  if (!splatPath) {
    throw new MissingFileError(join(dir, "point_cloud", "iteration_N", "point_cloud.ply"), "not an Inria 3DGS output folder: no trained point cloud");
  }
  const cameras = readInriaCameras(join(dir, "cameras.json"));
  const images = options.imagesDir;
  if (images !== undefined) requireDir(images, "no such image folder");
  const frames = cameras.map((cam, i): FramePaths => {
    if (images === undefined) return {};
    const stem = cam.name ?? String(cam.id);
    const found = IMAGE_EXTENSIONS.map((ext) => join(images, stem + ext)).find((p) => existsSync(p));
    if (!found) throw new MissingFileError(join(images, stem), `no image for camera ${cam.id} (frame ${i}, img_name "${stem}")`);
    return { rgb: found };
  });
  return makeScene({
    root: dir,
    layout: "inria",
    splatPath,
    cameras,
    frames,
    classes: options.classes ?? [],
    labelRemap: options.labelRemap,
    depthScale: 0.001,
    resize: "exact",
  });
}
