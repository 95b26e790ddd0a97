/**
 * Render a scene's (or a file's) views to PNG files: RGB, alpha, depth (16-bit millimetres) and, on request, a
 * PCA preview of the splatted features. The cameras are the scene's own (read by the dataset reader of its
 * layout, rescaled to the requested size) or an orbit around the splats.
 */
import { join } from "node:path";
import type { Camera } from "../core/camera.ts";
import { existsSync, statSync } from "node:fs";
import { meanImageUp } from "../core/camera.ts";
import { orbitCameras, scaleIntrinsics } from "../core/camera-convert.ts";
import { ConfigError, InvalidFileError } from "../core/errors.ts";
import { depthToMillimetres, writeLabelPng, writePng } from "../core/image.ts";
import { createProgress } from "../core/progress.ts";
import { resolveSceneFiles } from "../datasets/scene-files.ts";
import { detectLayout, readScene } from "../datasets/detect.ts";
import { readSplatSync } from "../splat/io/index.ts";
import type { GaussianCloud } from "../splat/cloud.ts";
import { render } from "../render/render.ts";
import { featurePca } from "../render/feature-preview.ts";

export type ViewSelection = { view: number } | { orbit: number };

export interface RenderViewsOptions {
  input: string;
  views: ViewSelection;
  width: number;
  height: number;
  outDir: string;
  /** Also splat the `f_pc_*` channels and write a PCA preview. */
  features?: boolean;
  threads?: number;
  background?: [number, number, number];
}

export interface RenderViewsResult {
  files: string[];
  cameras: number;
  splats: number;
}

export async function renderViews(opts: RenderViewsOptions): Promise<RenderViewsResult> {
  const { splatPath, cameras } = locateScene(opts.input);
  const { cloud } = readSplatSync(splatPath);
  if (cloud.count === 0) throw new InvalidFileError(splatPath, "has no splats to render");
  const cams = selectCameras(opts, cloud, cameras);
  if (opts.features && !cloud.extras.has("f_pc_0")) {
    throw new ConfigError("--features", `${splatPath} has no f_pc_* feature channels (run \`rtgs2 encode\` first)`);
  }
  const files: string[] = [];
  const progress = createProgress("render", cams.length);
  for (const { cam, label } of cams) {
    const out = await render(cloud, cam, {
      threads: opts.threads,
      features: opts.features ? "f_pc_" : undefined,
      background: opts.background,
    });
    const { width, height } = out;
    const path = (kind: string) => join(opts.outDir, `${label}-${kind}.png`);
    writePng(path("rgb"), { width, height, channels: 3, data: out.rgb });
    writePng(path("alpha"), { width, height, channels: 1, data: out.alpha });
    writeLabelPng(path("depth"), depthToMillimetres(out.depth, out.alpha), width, height);
    files.push(path("rgb"), path("alpha"), path("depth"));
    if (out.features) {
      writePng(path("features"), featurePca(out.features, out.featureChannels, width, height, out.alpha));
      files.push(path("features"));
    }
    progress.tick();
  }
  progress.done();
  return { files, cameras: cams.length, splats: cloud.count };
}

/**
 * The splat file and, for a scene folder of a known layout, its cameras in frame order (the dataset's own
 * poses and intrinsics, via the dataset readers). A plain file, or a folder holding only splats, has none.
 */
function locateScene(input: string): { splatPath: string; cameras?: readonly Camera[] } {
  if (existsSync(input) && statSync(input).isDirectory() && detectLayout(input) !== undefined) {
    const scene = readScene(input);
    return { splatPath: scene.splatPath, cameras: scene.cameras };
  }
  return { splatPath: resolveSceneFiles(input).splatPath };
}

function selectCameras(opts: RenderViewsOptions, cloud: GaussianCloud, cameras: readonly Camera[] | undefined): { cam: Camera; label: string }[] {
  const { width, height } = opts;
  if ("orbit" in opts.views) {
    // Scene cameras know which way is up (the synthetic rooms are y-up, 3DGS captures usually y-down).
    const up = cameras && cameras.length > 0 ? meanImageUp(cameras) : undefined;
    return orbitCameras(cloud.positions, opts.views.orbit, { width, height, up }).map((cam, i) => ({
      cam,
      label: `orbit-${String(i).padStart(3, "0")}`,
    }));
  }
  if (!cameras) {
    throw new ConfigError("--view", `${opts.input} has no cameras; use --orbit K for a file without cameras`);
  }
  const index = opts.views.view;
  if (index >= cameras.length) throw new ConfigError("--view", `${opts.input} has ${cameras.length} cameras; view ${index} does not exist`);
  const cam = cameras[index];
  return [{ cam: { ...cam, ...scaleIntrinsics(cam, width, height) }, label: `view-${String(index).padStart(3, "0")}` }];
}

