/**
 * `rtgs2 bench render`: rasterizer throughput with the benchmark camera of FORMATS.md §2 (8 azimuths at 15°
 * elevation around the 2–98 % percentile box, fx = W / (2·tan 30°)), RGB alone and RGB + 32 feature channels,
 * plus the speed-up over the brute-force reference renderer measured on a crop in the same run.
 */
import { orbitCameras } from "../core/camera-convert.ts";
import type { Camera } from "../core/camera.ts";
import { Rng } from "../core/rng.ts";
import { ConfigError } from "../core/errors.ts";
import { createProgress } from "../core/progress.ts";
import { featureMatrix, sharedFloat32, type GaussianCloud } from "../splat/cloud.ts";
import { render } from "../render/render.ts";
import { referenceComposite, referenceProject } from "../render/reference.ts";

export interface BenchRenderOptions {
  width: number;
  height: number;
  threads: number;
  /** Views averaged (default 8 azimuths). */
  views?: number;
  /** Side of the square crop the reference renders (default 32 px). */
  referenceCrop?: number;
}

export interface BenchRenderResult {
  splats: number;
  width: number;
  height: number;
  threads: number;
  fps: { rgb: number; rgbFeatures: number };
  /** Splat-pixel blends (α ≥ 1/255 contributions) per second, RGB mode. */
  blendsPerSecond: number;
  /**
   * Full-frame time the reference would need over the tile renderer's RGB frame time: its projection, plus its
   * per-pixel compositing timed on a crop and scaled by the pixel ratio.
   */
  referenceSpeedup: number;
  frameMs: { rgb: number; rgbFeatures: number };
  breakdownMs: { project: number; bin: number; blend: number };
  blendsPerFrame: number;
  featureSource: "f_pc" | "random";
}

const FEATURE_CHANNELS = 32;

export async function benchRender(cloud: GaussianCloud, opts: BenchRenderOptions): Promise<BenchRenderResult> {
  const { width, height, threads } = opts;
  if (cloud.count === 0) throw new ConfigError("bench render", "the cloud has no splats");
  const cams = orbitCameras(cloud.positions, opts.views ?? 8, { width, height });
  const hasFeatures = cloud.extras.has(`f_pc_${FEATURE_CHANNELS - 1}`);
  const features = { values: hasFeatures ? featureMatrix(cloud, "f_pc_", FEATURE_CHANNELS) : randomUnitFeatures(cloud.count), channels: FEATURE_CHANNELS };
  const progress = createProgress("bench render", cams.length * 2 + 3);

  // Warm-up: JIT, worker start-up and page faults are not part of a frame.
  let rgbOut = await render(cloud, cams[0], { threads });
  let featOut = await render(cloud, cams[0], { threads, features });
  progress.tick(2);

  // Frames are rendered into the previous frame's arrays, as a viewer or a training loop does.
  let rgbMs = 0, featMs = 0, blends = 0;
  const breakdown = { project: 0, bin: 0, blend: 0 };
  for (const cam of cams) {
    const t0 = performance.now();
    const out = (rgbOut = await render(cloud, cam, { threads, reuse: rgbOut }));
    rgbMs += performance.now() - t0;
    blends += out.stats.blends;
    breakdown.project += out.stats.projectMs;
    breakdown.bin += out.stats.binMs;
    breakdown.blend += out.stats.blendMs;
    progress.tick();
  }
  for (const cam of cams) {
    const t0 = performance.now();
    featOut = await render(cloud, cam, { threads, features, reuse: featOut });
    featMs += performance.now() - t0;
    progress.tick();
  }
  const n = cams.length;
  const frameRgb = rgbMs / n;

  // The reference projects every Gaussian once per frame (timed whole) and then loops over all of them per
  // pixel (timed on a crop and scaled to the frame's pixel count).
  const side = opts.referenceCrop ?? 32;
  const crop = centreCrop(cams[0], Math.min(side, width), Math.min(side, height));
  const t0 = performance.now();
  const items = referenceProject(cloud, crop);
  const t1 = performance.now();
  referenceComposite(items, crop);
  const t2 = performance.now();
  progress.tick();
  progress.done();
  const refFullMs = t1 - t0 + (t2 - t1) * ((width * height) / (crop.width * crop.height));

  return {
    splats: cloud.count,
    width,
    height,
    threads,
    fps: { rgb: 1000 / frameRgb, rgbFeatures: 1000 / (featMs / n) },
    blendsPerSecond: blends / (rgbMs / 1000),
    referenceSpeedup: refFullMs / frameRgb,
    frameMs: { rgb: frameRgb, rgbFeatures: featMs / n },
    breakdownMs: { project: breakdown.project / n, bin: breakdown.bin / n, blend: breakdown.blend / n },
    blendsPerFrame: blends / n,
    featureSource: hasFeatures ? "f_pc" : "random",
  };
}

/** The w×h window at the centre of `cam`'s image, as a camera of its own (same focal, shifted principal point). */
function centreCrop(cam: Camera, w: number, h: number): Camera {
  const x0 = Math.floor((cam.width - w) / 2), y0 = Math.floor((cam.height - h) / 2);
  return { ...cam, width: w, height: h, cx: cam.cx - x0, cy: cam.cy - y0 };
}

/** Seeded random unit vectors, for files that carry no features. */
function randomUnitFeatures(count: number): Float32Array {
  const rng = new Rng(12345);
  const out = sharedFloat32(count * FEATURE_CHANNELS);
  for (let i = 0; i < count; i++) {
    let norm = 0;
    for (let c = 0; c < FEATURE_CHANNELS; c++) {
      const v = rng.normal();
      out[i * FEATURE_CHANNELS + c] = v;
      norm += v * v;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let c = 0; c < FEATURE_CHANNELS; c++) out[i * FEATURE_CHANNELS + c] *= inv;
  }
  return out;
}
