/**
 * Render a scene's (or a file's) views to PNG files: RGB, alpha, depth (16-bit millimetres) and, on request, a
 * PCA preview of the splatted features. The cameras are the scene's own (`cameras.json`, rescaled to the
 * requested size) or an orbit around the splats for files that have none.
 */
import { join } from "node:path";
import type { Camera } from "../core/camera.ts";
import { orbitCameras, readInriaCameras, scaleIntrinsics } from "../core/camera-convert.ts";
import { ConfigError } from "../core/errors.ts";
import { writeLabelPng, writePng } from "../core/image.ts";
import { createProgress } from "../core/progress.ts";
import { resolveSceneFiles } from "../datasets/scene-files.ts";
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
  const scene = resolveSceneFiles(opts.input);
  const { cloud } = readSplatSync(scene.splatPath);
  const cams = selectCameras(opts, cloud, scene.camerasPath);
  if (opts.features && !cloud.extras.has("f_pc_0")) {
    throw new ConfigError("--features", `${scene.splatPath} has no f_pc_* feature channels (run \`rtgs2 encode\` first)`);
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
    writeLabelPng(path("depth"), depthMillimetres(out.depth, out.alpha), width, height);
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

function selectCameras(
  opts: RenderViewsOptions,
  cloud: GaussianCloud,
  camerasPath: string | undefined,
): { cam: Camera; label: string }[] {
  const { width, height } = opts;
  if ("orbit" in opts.views) {
    return orbitCameras(cloud.positions, opts.views.orbit, { width, height }).map((cam, i) => ({
      cam,
      label: `orbit-${String(i).padStart(3, "0")}`,
    }));
  }
  if (!camerasPath) {
    throw new ConfigError("--view", `${opts.input} has no cameras.json; use --orbit K for a file without cameras`);
  }
  const all = readInriaCameras(camerasPath);
  const index = opts.views.view;
  if (index >= all.length) throw new ConfigError("--view", `${camerasPath} has ${all.length} cameras; view ${index} does not exist`);
  const cam = all[index];
  return [{ cam: { ...cam, ...scaleIntrinsics(cam, width, height) }, label: `view-${String(index).padStart(3, "0")}` }];
}

/** Normalized expected depth in millimetres for a 16-bit PNG; 0 where nothing was drawn, saturating at 65.534 m. */
function depthMillimetres(depth: Float32Array, alpha: Float32Array): Uint16Array {
  const out = new Uint16Array(depth.length);
  for (let p = 0; p < depth.length; p++) {
    if (alpha[p] < 1e-3) continue;
    out[p] = Math.min(65534, Math.round((depth[p] / alpha[p]) * 1000));
  }
  return out;
}
