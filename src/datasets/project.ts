/**
 * Reader of the project's own layout (DATA.md §1): `DATASET/dataset.json` plus one folder per scene with
 * `point_cloud.ply`, `cameras.json` and `rgb|depth|semantic|instance/NNNNNN.png`, NNNNNN being the frame index
 * (the position in `cameras.json` sorted by id), zero-padded to 6 digits.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { readInriaCameras } from "../core/camera-convert.ts";
import { MissingFileError } from "../core/errors.ts";
import { identityRemap } from "./class-tables.ts";
import { makeScene, optionalDir } from "./reader-common.ts";
import { readDatasetJson, type Dataset, type FramePaths, type Scene } from "./scene.ts";

/** A project-layout dataset: its `dataset.json` and every scene it lists, by split. */
export interface ProjectDataset {
  root: string;
  dataset: Dataset;
  train: Scene[];
  test: Scene[];
}

/** File name of frame `index` in the project layout: `000012.png`. */
export function frameFileName(index: number): string {
  return `${String(index).padStart(6, "0")}.png`;
}

/**
 * Read a project-layout dataset folder: `dataset.json` and the scenes of its train and test splits.
 * @throws MissingFileError naming `dataset.json` or a listed scene's missing file; InvalidFileError for bad content.
 */
export function readProjectDataset(dir: string): ProjectDataset {
  const dataset = readDatasetJson(join(dir, "dataset.json"));
  const read = (name: string) => readProjectScene(join(dir, name), dataset);
  return { root: dir, dataset, train: dataset.splits.train.map(read), test: dataset.splits.test.map(read) };
}

/**
 * Read one project-layout scene folder. The class table comes from `dataset` or, when not given, from the
 * `dataset.json` of the parent folder if there is one; without either the scene has no class table and its
 * semantic images are read as stored. Semantic images hold training indices; any value ≥ the class count other
 * than 65535 is an unknown label id when loaded.
 */
export function readProjectScene(dir: string, dataset?: Dataset): Scene {
  const splatPath = join(dir, "point_cloud.ply");
  if (!existsSync(splatPath)) throw new MissingFileError(splatPath, "scene has no point_cloud.ply");
  const cameras = readInriaCameras(join(dir, "cameras.json"));
  if (!dataset) {
    const parentJson = join(dirname(dir), "dataset.json");
    if (existsSync(parentJson)) dataset = readDatasetJson(parentJson);
  }
  const classes = dataset?.classes ?? [];
  const dirs = {
    rgb: optionalDir(join(dir, "rgb")),
    depth: optionalDir(join(dir, "depth")),
    semantic: optionalDir(join(dir, "semantic")),
    instance: optionalDir(join(dir, "instance")),
  };
  const frames = cameras.map((_, i): FramePaths => {
    const f: FramePaths = {};
    for (const kind of ["rgb", "depth", "semantic", "instance"] as const) {
      const d = dirs[kind];
      if (d) f[kind] = join(d, frameFileName(i));
    }
    return f;
  });
  return makeScene({
    root: dir,
    layout: "project",
    splatPath,
    cameras,
    frames,
    classes,
    labelRemap: dataset ? identityRemap(classes.length, `the class table of ${dataset.name} (${classes.length} classes)`) : undefined,
    depthScale: 0.001,
    resize: "exact",
  });
}
