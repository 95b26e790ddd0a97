/**
 * Where a scene's splats and cameras are, for the layouts rtgs2 reads: a single splat file; a project scene
 * folder (`point_cloud.ply` + `cameras.json`, DATA.md §1); Inria 3DGS output
 * (`point_cloud/iteration_N/point_cloud.ply`, largest N, + `cameras.json`); and a real-dataset scene with its
 * trained model under `3dgs/` (DATA.md §2).
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { MissingFileError } from "../core/errors.ts";

/** The files `resolveSceneFiles` found for an input. */
export interface SceneFiles {
  /** The splat file to read. */
  splatPath: string;
  /** `cameras.json` when the input is a scene folder that has one. */
  camerasPath?: string;
}

/**
 * The splat file and `cameras.json` of `input`: a splat file itself, or a scene folder in any of the layouts
 * above (the folder itself first, then its `3dgs/`).
 * @throws MissingFileError naming `input` when it does not exist or holds no splats.
 */
export function resolveSceneFiles(input: string): SceneFiles {
  if (!existsSync(input)) throw new MissingFileError(input);
  if (!statSync(input).isDirectory()) return { splatPath: input };
  const candidates = [input, join(input, "3dgs")];
  for (const root of candidates) {
    const splatPath = findSplat(root);
    if (!splatPath) continue;
    const cams = [join(root, "cameras.json"), join(input, "cameras.json")].find((p) => existsSync(p));
    return { splatPath, camerasPath: cams };
  }
  throw new MissingFileError(
    input,
    "no splats found: expected point_cloud.ply, point_cloud/iteration_N/point_cloud.ply or 3dgs/point_cloud/iteration_N/point_cloud.ply",
  );
}

function findSplat(root: string): string | undefined {
  const direct = join(root, "point_cloud.ply");
  if (existsSync(direct) && statSync(direct).isFile()) return direct;
  return latestIterationPly(root);
}

/**
 * `root/point_cloud/iteration_N/point_cloud.ply` with the largest N (compared as numbers, so 30000 beats 7000),
 * the layout of Inria 3DGS output; undefined when there is none.
 */
export function latestIterationPly(root: string): string | undefined {
  const iterations = join(root, "point_cloud");
  if (!existsSync(iterations) || !statSync(iterations).isDirectory()) return undefined;
  const best = readdirSync(iterations)
    .map((name) => ({ name, n: /^iteration_(\d+)$/.exec(name)?.[1] }))
    .filter((e): e is { name: string; n: string } => e.n !== undefined && existsSync(join(iterations, e.name, "point_cloud.ply")))
    .sort((a, b) => Number(b.n) - Number(a.n))[0];
  return best ? join(iterations, best.name, "point_cloud.ply") : undefined;
}
