/**
 * Adapt a project-layout dataset (DATA.md §1) to the pre-training loop: its train scenes, each with its
 * Gaussians, cameras, training frames and held-out frames (`splits.val`, else index % 8 == 0; §10 decision 16).
 * Test scenes are never read here.
 */
import { readProjectDataset } from "../../datasets/project.ts";
import type { PretrainScene } from "./run.ts";

/** The train scenes of the dataset at `dir`, loaded for `runPretrain`. */
export function pretrainScenesFromDataset(dir: string): PretrainScene[] {
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
