/**
 * Reader of a ScanNet scene as exported by SensReader (DATA.md §2):
 * `sceneXXXX_XX/{color/I.jpg, depth/I.png, label-filt/I.png, instance-filt/I.png, pose/I.txt,
 * intrinsic/intrinsic_color.txt}`, with the trained model at `3dgs/point_cloud/iteration_N/point_cloud.ply` and
 * the label map `scannetv2-labels.combined.tsv` at the dataset root.
 *
 * Cameras are at the evaluation size (default 640×480): `intrinsic_color.txt` belongs to the colour images
 * (1296×968, size read from the first JPEG's header), gets the +0.5 principal-point shift and is scaled; frame
 * loaders resize every image to it by nearest neighbour, as the official 2D benchmark does. Depth is in
 * millimetres. Labels are raw ids → NYU40 (tsv column `nyu40id`) → the 20 benchmark classes.
 *
 * Depth is returned on the camera's pixel grid as stored: ScanNet's depth sensor has its own intrinsics
 * (`intrinsic_depth.txt`), a few pixels off the scaled colour ones, and this reader does not reproject it. Good
 * enough for depth metrics at 640×480; not for sub-pixel geometry.
 */
import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { readIntrinsicsText, readScanNetPose, scaleIntrinsics } from "../core/camera-convert.ts";
import type { Camera } from "../core/camera.ts";
import { ConfigError, MissingFileError } from "../core/errors.ts";
import { readScanNetLabelTsv, SCANNET_LABEL_TSV, scannetClassTable, scannetRemap } from "./class-tables.ts";
import { imageSize } from "./frames.ts";
import { makeScene, numberedFiles, optionalDir, stderrWarning, trainedSplat, type WarningSink } from "./reader-common.ts";
import type { FramePaths, Scene } from "./scene.ts";

/** Options of `readScanNetScene`. */
export interface ScanNetOptions {
  /** Path of `scannetv2-labels.combined.tsv`; default: looked up in the scene folder and the two above it. */
  labelMap?: string;
  /** Camera (evaluation) size; default 640×480. */
  width?: number;
  height?: number;
  /** Keep frames whose number is a multiple of `step`; default 1. */
  step?: number;
  /** Where skipped-frame warnings go; default stderr. */
  onWarning?: WarningSink;
}

/**
 * Read a ScanNet SensReader export. Frames are the colour images in frame-number order; a frame whose pose is
 * invalid (−inf: tracking lost) is dropped with a warning.
 * @throws MissingFileError for a missing pose file (naming it), intrinsics, trained model or label map (when
 *   `label-filt/` exists); InvalidFileError for a malformed pose or intrinsics file.
 */
export function readScanNetScene(dir: string, options: ScanNetOptions = {}): Scene {
  const width = options.width ?? 640;
  const height = options.height ?? 480;
  const step = options.step ?? 1;
  if (!Number.isInteger(step) || step < 1) throw new ConfigError("step", `must be a positive integer, got ${step}`);
  const warn = options.onWarning ?? stderrWarning;
  const colors = numberedFiles(join(dir, "color"), /^(\d+)\.jpg$/i);
  if (colors.length === 0) throw new MissingFileError(join(dir, "color", "0.jpg"), "not a ScanNet export: no colour frames in color/");
  const splatPath = trainedSplat(dir);
  const colorSize = imageSize(colors[0].path);
  const native = readIntrinsicsText(join(dir, "intrinsic", "intrinsic_color.txt"), colorSize.width, colorSize.height);
  const intr = scaleIntrinsics(native, width, height);
  const dirs = {
    depth: optionalDir(join(dir, "depth")),
    semantic: optionalDir(join(dir, "label-filt")),
    instance: optionalDir(join(dir, "instance-filt")),
  };
  const labelRemap = dirs.semantic ? scannetRemap(readScanNetLabelTsv(findLabelMap(dir, options.labelMap))) : undefined;
  const cameras: Camera[] = [];
  const frames: FramePaths[] = [];
  for (const { index, path } of colors) {
    if (index % step !== 0) continue;
    const posePath = join(dir, "pose", `${index}.txt`);
    if (!existsSync(posePath)) throw new MissingFileError(posePath, `pose of frame ${index} (color/${basename(path)}) is missing`);
    const cam = readScanNetPose(posePath, intr, { skipInvalid: true, name: String(index) });
    if (cam === null) {
      warn(`${posePath}: invalid pose (-inf, tracking lost); frame ${index} skipped`);
      continue;
    }
    cameras.push(cam);
    const f: FramePaths = { rgb: path };
    if (dirs.depth) f.depth = join(dirs.depth, `${index}.png`);
    if (dirs.semantic) f.semantic = join(dirs.semantic, `${index}.png`);
    if (dirs.instance) f.instance = join(dirs.instance, `${index}.png`);
    frames.push(f);
  }
  return makeScene({
    root: dir,
    layout: "scannet",
    splatPath,
    cameras,
    frames,
    classes: scannetClassTable(),
    labelRemap,
    depthScale: 0.001,
    resize: "nearest",
  });
}

function findLabelMap(dir: string, given: string | undefined): string {
  if (given !== undefined) {
    if (!existsSync(given)) throw new MissingFileError(given, "ScanNet label map not found");
    return given;
  }
  const candidates = [dir, dirname(dir), dirname(dirname(dir))].map((d) => join(d, SCANNET_LABEL_TSV));
  const found = candidates.find((p) => existsSync(p));
  if (found) return found;
  throw new MissingFileError(
    candidates[1],
    `needed to read label-filt/ (raw ids → NYU40); looked in ${candidates.map(dirname).join(", ")}; pass its path as labelMap`,
  );
}
