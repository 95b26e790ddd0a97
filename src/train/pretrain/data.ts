/**
 * Adapt a project-layout dataset (DATA.md §1) to the pre-training loop: its train scenes, each with its
 * Gaussians, cameras, training frames and held-out frames (`splits.val`, else index % 8 == 0; §10 decision 16).
 * Test scenes are never read here.
 */
import { existsSync, statSync } from "node:fs";
import { MissingFileError } from "../../core/errors.ts";
import { readProjectDataset } from "../../datasets/project.ts";
import type { PretrainScene } from "./run.ts";

/** MissingFileError unless `dir` is a folder holding a `dataset.json`. */
export function checkDatasetFolder(dir: string): void {
  if (!existsSync(dir)) throw new MissingFileError(dir, "no such dataset folder");
  if (!statSync(dir).isDirectory()) throw new MissingFileError(dir, "is not a folder (expected a dataset folder with dataset.json)");
  if (!existsSync(`${dir}/dataset.json`)) throw new MissingFileError(dir, "has no dataset.json (not a project-layout dataset; see `rtgs2 synth`)");
}

/**
 * The train scenes of the dataset at `dir`, loaded for `runPretrain`.
 * @throws MissingFileError for a missing folder or `dataset.json`; InvalidFileError for bad content.
 */
export function pretrainScenesFromDataset(dir: string): PretrainScene[] {
  checkDatasetFolder(dir);
  const ds = readProjectDataset(dir);
  return ds.train.map((scene): PretrainScene => {
    const held = ds.dataset.splits.val?.[scene.name] ?? scene.cameras.map((_, i) => i).filter((i) => i % 8 === 0);
    const heldSet = new Set(held);
    return {
      name: scene.name,
      cloud: scene.loadGaussians(),
      cameras: scene.cameras,
      trainViews: scene.cameras.map((_, i) => i).filter((i) => !heldSet.has(i)),
      valViews: held,
    };
  });
}
