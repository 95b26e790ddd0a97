/**
 * Reader of a ScanNet++ scene's DSLR capture (DATA.md §2): `SCENE/dslr/resized_images/*.JPG` with
 * `SCENE/dslr/nerfstudio/transforms.json`, or, when the toolkit's undistortion output is present,
 * `dslr/resized_undistorted_images/` with `nerfstudio/transforms_undistorted.json`. Semantic maps rendered by the
 * ScanNet++ toolkit are `<image stem>.png` under `dslr/semantic/` (or `SCENE/semantic/`). The trained model is
 * `SCENE/3dgs/point_cloud/iteration_N/point_cloud.ply`.
 *
 * The raw DSLR images are fisheye (OPENCV_FISHEYE); a pinhole renderer cannot use them, so a scene without the
 * undistorted set is refused with an UnsupportedFormatError saying how to make it.
 */
import { readJsonChecked } from "../core/fs.ts";
import { existsSync } from "node:fs";
import { join, parse } from "node:path";
import { parseTransformsJson } from "../core/camera-convert.ts";
import type { Camera } from "../core/camera.ts";
import { InvalidFileError, MissingFileError, UnsupportedFormatError } from "../core/errors.ts";
import { isDir, makeScene, optionalDir, stderrWarning, trainedSplat, type WarningSink } from "./reader-common.ts";
import type { ClassInfo, FramePaths, LabelRemap, Scene } from "./scene.ts";

/** Options of `readScanNetPPScene`. */
export interface ScanNetPPOptions {
  /** Class table of the semantic maps (ScanNet++ ships several); default none, labels read as stored. */
  classes?: ClassInfo[];
  labelRemap?: LabelRemap;
  /** Where skipped-frame warnings go; default stderr. */
  onWarning?: WarningSink;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Read a ScanNet++ DSLR scene. Frames are the entries of `frames` and `test_frames`, sorted by `file_path`
 * (the DSLR file names count up in capture order); entries flagged `is_bad` are dropped with a warning.
 * @throws MissingFileError for a missing transforms file, image folder or trained model; UnsupportedFormatError
 *   for a fisheye-only scene; InvalidFileError for a malformed transforms file.
 */
export function readScanNetPPScene(dir: string, options: ScanNetPPOptions = {}): Scene {
  const dslr = join(dir, "dslr");
  const warn = options.onWarning ?? stderrWarning;
  const undistorted = join(dslr, "nerfstudio", "transforms_undistorted.json");
  const useUndistorted = existsSync(undistorted) && isDir(join(dslr, "resized_undistorted_images"));
  const transformsPath = useUndistorted ? undistorted : join(dslr, "nerfstudio", "transforms.json");
  const imagesDir = join(dslr, useUndistorted ? "resized_undistorted_images" : "resized_images");
  if (!existsSync(transformsPath)) throw new MissingFileError(transformsPath, "not a ScanNet++ DSLR scene: no nerfstudio transforms");
  if (!isDir(imagesDir)) throw new MissingFileError(imagesDir, "no DSLR image folder");

  const json = readJson(transformsPath);
  if (!isObject(json)) throw new InvalidFileError(transformsPath, 'expected a JSON object with a "frames" array');
  const listed = [json.frames, json.test_frames].flatMap((f) => (Array.isArray(f) ? (f as unknown[]) : []));
  const kept = listed.filter((f) => {
    if (isObject(f) && f.is_bad === true) {
      warn(`${transformsPath}: frame ${JSON.stringify(f.file_path)} is flagged is_bad; skipped`);
      return false;
    }
    return true;
  });
  let cameras: Camera[];
  try {
    cameras = parseTransformsJson({ ...json, frames: kept }, transformsPath);
  } catch (err) {
    if (err instanceof UnsupportedFormatError && !useUndistorted) {
      throw new UnsupportedFormatError(
        transformsPath,
        `fisheye-only ScanNet++ scene (${err.reason}); run the ScanNet++ toolkit's DSLR undistortion to make dslr/resized_undistorted_images/ and dslr/nerfstudio/transforms_undistorted.json`,
        { cause: err },
      );
    }
    throw err;
  }
  if (cameras.length === 0) throw new InvalidFileError(transformsPath, "lists no frames");
  cameras.sort((a, b) => ((a.name ?? "") < (b.name ?? "") ? -1 : (a.name ?? "") > (b.name ?? "") ? 1 : 0));

  const semanticDir = optionalDir(join(dslr, "semantic")) ?? optionalDir(join(dir, "semantic"));
  const splatPath = trainedSplat(dir);
  const frames = cameras.map((cam, i): FramePaths => {
    if (cam.name === undefined) throw new InvalidFileError(transformsPath, `frame ${i} has no "file_path"`);
    const f: FramePaths = { rgb: join(imagesDir, cam.name) };
    if (semanticDir) f.semantic = join(semanticDir, `${parse(cam.name).name}.png`);
    return f;
  });
  return makeScene({
    root: dir,
    layout: "scannetpp",
    splatPath,
    cameras,
    frames,
    classes: options.classes ?? [],
    labelRemap: options.labelRemap,
    depthScale: 0.001,
    resize: "exact",
  });
}

const readJson = readJsonChecked;
