/** What the dataset readers share: building a `Scene`, finding a real dataset's trained 3DGS model, listing frames. */
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { MissingFileError } from "../core/errors.ts";
import { readSplatSync } from "../splat/io/index.ts";
import { IGNORE_INDEX } from "./class-tables.ts";
import { latestIterationPly } from "./scene-files.ts";
import { novelViewSplit, type Scene } from "./scene.ts";

/** A scene's fields; `makeScene` adds the derived ones. */
export type SceneFields = Omit<Scene, "loadGaussians" | "ignoreIndex" | "split" | "name" | "root"> & {
  root: string;
  name?: string;
};

/** A `Scene` from its fields: name from the folder, novel-view split from the frame count, lazy Gaussians. */
export function makeScene(fields: SceneFields): Scene {
  const root = resolve(fields.root);
  const splatPath = fields.splatPath;
  return {
    ...fields,
    root,
    name: fields.name ?? basename(root),
    ignoreIndex: IGNORE_INDEX,
    split: novelViewSplit(fields.cameras.length),
    loadGaussians: () => readSplatSync(splatPath).cloud,
  };
}

/** True when `path` exists and is a folder. */
export function isDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** `path` when it names a folder, else undefined: a dataset's optional image kinds. */
export function optionalDir(path: string): string | undefined {
  return isDir(path) ? path : undefined;
}

/** A folder that must exist. */
export function requireDir(path: string, reason: string): string {
  if (!isDir(path)) throw new MissingFileError(path, reason);
  return path;
}

/**
 * The trained model of a real-dataset scene: `SCENE/3dgs/point_cloud/iteration_N/point_cloud.ply`, largest N
 * (DATA.md §2). The error names that path and says how to make it.
 */
export function trainedSplat(sceneDir: string): string {
  const found = latestIterationPly(join(sceneDir, "3dgs"));
  if (found) return found;
  throw new MissingFileError(
    join(sceneDir, "3dgs", "point_cloud", "iteration_N", "point_cloud.ply"),
    "no trained 3DGS model: train 3DGS on this scene's own images and poses and put its output folder at 3dgs/ (see the README)",
  );
}

/**
 * The files of `dir` whose names match `pattern` (its first group a decimal frame number), sorted by that
 * number; empty when `dir` does not exist.
 */
export function numberedFiles(dir: string, pattern: RegExp): { index: number; path: string }[] {
  if (!isDir(dir)) return [];
  const out: { index: number; path: string }[] = [];
  for (const name of readdirSync(dir)) {
    const m = pattern.exec(name);
    if (m) out.push({ index: Number(m[1]), path: join(dir, name) });
  }
  return out.sort((a, b) => a.index - b.index);
}

/** Where readers report recoverable problems (a skipped frame); stderr by default. */
export type WarningSink = (message: string) => void;

/** The default `WarningSink`: one `warning: …` line on stderr. */
export const stderrWarning: WarningSink = (message) => {
  process.stderr.write(`warning: ${message}\n`);
};
