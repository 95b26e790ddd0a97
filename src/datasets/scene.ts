/**
 * The one `Scene` every dataset reader returns, whatever the layout on disk (DATA.md §1–§2), and the
 * project layout's `dataset.json`.
 *
 * Design choices:
 * - Gaussians are read lazily (`loadGaussians()`), on every call and without caching: a dataset of 20 rooms
 *   at 150k Gaussians each would otherwise pin gigabytes for a pass that only needs one scene at a time. The
 *   reader checks that the splat file exists, so a missing model fails when the scene is opened.
 * - Frames are paths, not pixels; `frames.ts` loads them (checking size, units and label ids) so a reader
 *   stays cheap even for thousands of frames.
 */
import { readJsonChecked } from "../core/fs.ts";
import type { Camera } from "../core/camera.ts";
import { InvalidFileError } from "../core/errors.ts";
import { writeFileAtomic } from "../core/fs.ts";
import type { Rgb255 } from "../core/image.ts";
import type { GaussianCloud } from "../splat/cloud.ts";
import { IGNORE_INDEX, type ClassInfo, type LabelRemap } from "./class-tables.ts";

export { IGNORE_INDEX, type ClassInfo, type LabelRemap } from "./class-tables.ts";

/** Which on-disk layout a scene was read from. */
export type SceneLayout = "project" | "inria" | "replica" | "scannet" | "scannetpp";

/** The files of one frame; a kind the dataset does not have is absent. */
export interface FramePaths {
  /** Colour image (PNG or JPEG). */
  rgb?: string;
  /** Depth map: single-channel integers, `Scene.depthScale` metres per unit, 0 = invalid. */
  depth?: string;
  /** Class map: single-channel raw ids, mapped to training indices through `Scene.labelRemap`. */
  semantic?: string;
  /** Instance map: single-channel instance ids. */
  instance?: string;
}

/** Frame indices of the novel-view split: `test` holds the indices with index % 8 == 0. */
export interface NovelViewSplit {
  train: number[];
  test: number[];
}

/**
 * A scene: its Gaussians, cameras, per-frame files and class table. Frame i is `cameras[i]` with the files
 * `frames[i]`; frames are ordered as DATA.md fixes for each layout (cameras sorted by id).
 */
export interface Scene {
  /** Scene name (its folder name). */
  readonly name: string;
  readonly layout: SceneLayout;
  /** The scene's folder. */
  readonly root: string;
  /** The splat file `loadGaussians` reads; it existed when the scene was read. */
  readonly splatPath: string;
  /** Read the Gaussians from `splatPath`; reads the file on every call (see the module note). */
  loadGaussians(): GaussianCloud;
  /** One camera per frame, in frame order. */
  readonly cameras: readonly Camera[];
  /** One entry per frame, parallel to `cameras`. */
  readonly frames: readonly FramePaths[];
  /** Training classes: `classes[i].id === i`. Empty when the dataset has no class table. */
  readonly classes: readonly ClassInfo[];
  /** Label value meaning "no class": 65535. */
  readonly ignoreIndex: typeof IGNORE_INDEX;
  /** Raw ids of the semantic images → training indices; undefined when the images are read as stored. */
  readonly labelRemap: LabelRemap | undefined;
  /** Metres per stored depth unit (0.001 for millimetres). */
  readonly depthScale: number;
  /**
   * How a frame image whose size differs from its camera is treated: "exact" refuses it; "nearest" resizes it
   * by nearest neighbour (ScanNet evaluates at 640×480 from 1296×968 images) if its aspect ratio matches.
   */
  readonly resize: "exact" | "nearest";
  /** Novel-view split of the frames (index % 8 == 0 is test). */
  readonly split: NovelViewSplit;
}

/** True for the novel-view test frames (index % 8 == 0, as in the paper's code). */
export function isNovelView(index: number): boolean {
  return index % 8 === 0;
}

/** The novel-view split of `count` frames. */
export function novelViewSplit(count: number): NovelViewSplit {
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < count; i++) (isNovelView(i) ? test : train).push(i);
  return { train, test };
}

// ---------------------------------------------------------------------------------------------------------------
// dataset.json

/** The project layout's `dataset.json` (DATA.md §1). */
export interface Dataset {
  name: string;
  /** `classes[i].id === i`. */
  classes: ClassInfo[];
  ignoreIndex: typeof IGNORE_INDEX;
  /** Version of the frozen synthetic class table; a checkpoint trained on another version is refused. */
  classTableVersion?: number | string;
  splits: {
    /** Scene folder names. */
    train: string[];
    test: string[];
    /** Per train scene, the frame indices held out for model selection (index % 8 == 0). */
    val?: Record<string, number[]>;
  };
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Check and type the content of a `dataset.json`; `source` names the file in errors. `splits.val` may be written
 * as `{ scene: [frames] }` or `[{ scene, frames }]`; both come back as the first.
 */
export function parseDataset(json: unknown, source: string): Dataset {
  const fail = (why: string): never => {
    throw new InvalidFileError(source, why);
  };
  if (!isObject(json)) return fail("expected a JSON object");
  if (typeof json.name !== "string") fail(`"name" must be a string`);
  if (json.ignoreIndex !== IGNORE_INDEX) fail(`"ignoreIndex" must be ${IGNORE_INDEX}, got ${JSON.stringify(json.ignoreIndex)}`);
  const version = json.classTableVersion;
  if (version !== undefined && typeof version !== "number" && typeof version !== "string") {
    fail(`"classTableVersion" must be a number or a string`);
  }
  const classes = parseClasses(json.classes, source);
  const splits = json.splits;
  if (!isObject(splits)) return fail(`"splits" must be an object with "train" and "test" arrays`);
  const names = (key: string): string[] => {
    const v = splits[key];
    if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) return fail(`"splits.${key}" must be an array of scene names`);
    return v as string[];
  };
  const out: Dataset = {
    name: json.name as string,
    classes,
    ignoreIndex: IGNORE_INDEX,
    splits: { train: names("train"), test: names("test") },
  };
  if (version !== undefined) out.classTableVersion = version as number | string;
  if (splits.val !== undefined) out.splits.val = parseVal(splits.val, fail);
  return out;
}

function parseClasses(value: unknown, source: string): ClassInfo[] {
  if (!Array.isArray(value)) throw new InvalidFileError(source, `"classes" must be an array of { id, name, color }`);
  return value.map((c: unknown, i): ClassInfo => {
    const fail = (why: string): never => {
      throw new InvalidFileError(source, `classes[${i}]: ${why}`);
    };
    if (!isObject(c)) return fail("is not an object");
    if (c.id !== i) fail(`"id" must equal its position ${i} (the training index), got ${JSON.stringify(c.id)}`);
    if (typeof c.name !== "string") fail(`"name" must be a string`);
    const col = c.color;
    if (!Array.isArray(col) || col.length !== 3 || !col.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) {
      fail(`"color" must be 3 integers in 0..255, got ${JSON.stringify(col)}`);
    }
    const rgb = col as number[];
    return { id: i, name: c.name as string, color: [rgb[0], rgb[1], rgb[2]] as Rgb255 };
  });
}

function parseVal(value: unknown, fail: (why: string) => never): Record<string, number[]> {
  const frames = (v: unknown, where: string): number[] => {
    if (!Array.isArray(v) || !v.every((n) => Number.isInteger(n) && n >= 0)) {
      return fail(`"${where}" must be an array of frame indices`);
    }
    return v as number[];
  };
  const out: Record<string, number[]> = {};
  if (Array.isArray(value)) {
    value.forEach((e: unknown, i) => {
      if (!isObject(e) || typeof e.scene !== "string") fail(`"splits.val[${i}]" must be { scene, frames }`);
      const entry = e as Json;
      out[entry.scene as string] = frames(entry.frames, `splits.val[${i}].frames`);
    });
  } else if (isObject(value)) {
    for (const [scene, v] of Object.entries(value)) out[scene] = frames(v, `splits.val.${scene}`);
  } else {
    fail(`"splits.val" must map scene names to frame indices`);
  }
  return out;
}

/** Read and check a `dataset.json` (see `parseDataset`). */
export function readDatasetJson(path: string): Dataset {
  const json = readJsonChecked(path);
  return parseDataset(json, path);
}

/** Write a `dataset.json`, atomically, after checking it as a reader would. */
export function writeDatasetJson(path: string, dataset: Dataset): void {
  const text = JSON.stringify(dataset, null, 1) + "\n";
  parseDataset(JSON.parse(text), path);
  writeFileAtomic(path, text);
}
