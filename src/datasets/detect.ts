/**
 * One entry point for a scene folder of any layout: tell the layout from the files present, then call its reader.
 * The tests are on folder structure only, cheapest and most specific first, so a folder that could pass for two
 * layouts (a Replica scene also holds `3dgs/point_cloud/…`) goes to the one whose own files are there.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { MissingFileError } from "../core/errors.ts";
import { readInriaScene, type InriaOptions } from "./inria.ts";
import { readProjectScene } from "./project.ts";
import { isDir } from "./reader-common.ts";
import { readReplicaScene, type ReplicaOptions } from "./replica.ts";
import { readScanNetScene, type ScanNetOptions } from "./scannet.ts";
import { readScanNetPPScene, type ScanNetPPOptions } from "./scannetpp.ts";
import type { Scene, SceneLayout } from "./scene.ts";

/** The layout of scene folder `dir`, or undefined when it matches none. */
export function detectLayout(dir: string): SceneLayout | undefined {
  if (!isDir(dir)) return undefined;
  if (existsSync(join(dir, "point_cloud.ply")) && existsSync(join(dir, "cameras.json"))) return "project";
  if (isDir(join(dir, "Sequence_1")) || isDir(join(dir, "Sequence_2"))) return "replica";
  if (isDir(join(dir, "color")) && isDir(join(dir, "pose"))) return "scannet";
  if (isDir(join(dir, "dslr"))) return "scannetpp";
  if (isDir(join(dir, "point_cloud")) && existsSync(join(dir, "cameras.json"))) return "inria";
  return undefined;
}

/** Options of `readScene`, passed to the reader of the detected layout. */
export interface ReadSceneOptions {
  replica?: ReplicaOptions;
  scannet?: ScanNetOptions;
  scannetpp?: ScanNetPPOptions;
  inria?: InriaOptions;
}

/**
 * Read a scene folder of any supported layout (see `detectLayout`).
 * @throws MissingFileError naming `dir` when it matches no layout; otherwise whatever the reader throws.
 */
export function readScene(dir: string, options: ReadSceneOptions = {}): Scene {
  const layout = detectLayout(dir);
  switch (layout) {
    case "project":
      return readProjectScene(dir);
    case "replica":
      return readReplicaScene(dir, options.replica);
    case "scannet":
      return readScanNetScene(dir, options.scannet);
    case "scannetpp":
      return readScanNetPPScene(dir, options.scannetpp);
    case "inria":
      return readInriaScene(dir, options.inria);
    case undefined:
      throw new MissingFileError(
        dir,
        "not a scene folder of a known layout: expected point_cloud.ply + cameras.json (rtgs2), Sequence_1/ (Replica), color/ + pose/ (ScanNet), dslr/ (ScanNet++) or point_cloud/iteration_N/ + cameras.json (Inria 3DGS output)",
      );
  }
}
