/**
 * `render(cloud, camera, options)`: the one entry point of the CPU tile rasterizer.
 *
 * One pass produces RGB (SH up to degree 3), alpha, expected depth and, optionally, N feature channels splatted
 * with the same weights as colour. The math is the reference 3DGS forward pass (FORMATS.md §2), with gsplat's
 * pixel convention: pixel (i, j) is sampled at its centre (i + 0.5, j + 0.5) and the mean is fx·x/z + cx.
 * Work runs on `threads` worker threads; the pixels never depend on the thread count.
 */
import { availableParallelism } from "node:os";
import type { Camera } from "../core/camera.ts";
import { cameraCenter, validateCamera } from "../core/camera.ts";
import { ConfigError, ShapeError } from "../core/errors.ts";
import { WorkerPool } from "../core/worker-pool.ts";
import { featureMatrix, type GaussianCloud } from "../splat/cloud.ts";
import { binGaussians } from "./bin.ts";
import { REC, TILE, type ProjectCamera, type ProjectSource } from "./project.ts";
import { runJob, type BlendJob, type ProjectJob } from "./jobs.ts";
import type { BlendTarget } from "./blend.ts";

export interface RenderOptions {
  /** Colour behind the splats: out = C + T·background. Default [0, 0, 0]. Features never get a background. */
  background?: readonly [number, number, number];
  /**
   * Per-Gaussian features to splat in the same pass (1–64 channels): either an interleaved [N·C] array with its
   * channel count, or the prefix of the cloud's extra channels to gather (e.g. "f_pc_" for f_pc_0, f_pc_1, …).
   */
  features?: { values: Float32Array; channels: number } | string;
  /** Divide the expected depth by alpha where alpha > 0 (default false: depth = Σ z·α·T, 0 on empty pixels). */
  normalizeDepth?: boolean;
  /** Gaussians whose centre is at view depth ≤ near (metres) are culled. Default 0.2, as the reference. */
  near?: number;
  /** Multiplies every Gaussian's scale (the reference's scale_modifier). Default 1. */
  scaleModifier?: number;
  /** Highest SH degree to evaluate, at most the cloud's. Default: the cloud's degree. */
  shDegree?: number;
  /** Worker threads. Default: all available cores; 1 renders on the calling thread. Never changes the pixels. */
  threads?: number;
}

export interface RenderResult {
  width: number;
  height: number;
  /** [H·W·3], linear, background composited, clamped at 0 only (SH colours may exceed 1). */
  rgb: Float32Array;
  /** [H·W], 1 − final transmittance. */
  alpha: Float32Array;
  /** [H·W], Σ z·α·T in metres (or divided by alpha with normalizeDepth). */
  depth: Float32Array;
  /** [H·W·C] splatted features, present when `options.features` was given. */
  features?: Float32Array;
  featureChannels: number;
  stats: RenderStats;
}

export interface RenderStats {
  /** Gaussians that touch at least one tile. */
  visible: number;
  /** Gaussian-tile pairs in the tile lists. */
  tileInstances: number;
  /** Splat-pixel blends performed (α ≥ 1/255 contributions). */
  blends: number;
  threads: number;
  projectMs: number;
  binMs: number;
  blendMs: number;
}

const pools = new Map<number, WorkerPool>();

function poolFor(threads: number): WorkerPool {
  let pool = pools.get(threads);
  if (!pool) {
    pool = new WorkerPool(new URL("./worker.ts", import.meta.url), threads);
    pools.set(threads, pool);
  }
  return pool;
}

/** Terminate the render worker threads (they are unref'd when idle, so this is optional). */
export async function closeRenderWorkers(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.close()));
}

export async function render(cloud: GaussianCloud, camera: Camera, options: RenderOptions = {}): Promise<RenderResult> {
  validateCamera(camera, "camera");
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) throw new ConfigError("threads", `must be an integer in 1..256, got ${threads}`);
  const near = options.near ?? 0.2;
  const scaleModifier = options.scaleModifier ?? 1;
  const shDegree = Math.min(options.shDegree ?? cloud.shDegree, cloud.shDegree);
  const background = options.background ?? [0, 0, 0];
  const { values: gaussianFeatures, channels } = resolveFeatures(cloud, options.features);

  const { width, height } = camera;
  const n = cloud.count;
  const source: ProjectSource = {
    count: n,
    shDegree: cloud.shDegree,
    positions: shared(cloud.positions),
    logScales: shared(cloud.logScales),
    rotations: shared(cloud.rotations),
    opacityLogits: shared(cloud.opacityLogits),
    shDc: shared(cloud.shDc),
    shRest: shared(cloud.shRest),
  };
  const projCam: ProjectCamera = {
    width,
    height,
    fx: camera.fx,
    fy: camera.fy,
    cx: camera.cx,
    cy: camera.cy,
    view: Array.from(camera.viewMatrix),
    center: cameraCenter(camera),
    near,
    scaleModifier,
    shDegree,
  };
  const records = new Float32Array(new SharedArrayBuffer(n * REC * 4));
  const rects = new Int32Array(new SharedArrayBuffer(n * 16));
  const pixels = width * height;
  const target: BlendTarget = {
    width,
    height,
    rgb: sharedF32(pixels * 3),
    transmittance: sharedF32(pixels),
    depth: sharedF32(pixels),
    features: sharedF32(channels > 0 ? pixels * channels : 0),
    channels,
    gaussianFeatures,
  };

  const t0 = performance.now();
  const pool = threads > 1 ? poolFor(threads) : undefined;
  if (pool) {
    const chunk = Math.ceil(n / threads);
    await pool.broadcast<number>((w): ProjectJob => ({
      kind: "project",
      source,
      camera: projCam,
      start: Math.min(n, w * chunk),
      end: Math.min(n, (w + 1) * chunk),
      records,
      rects,
    }));
  } else {
    runJob({ kind: "project", source, camera: projCam, start: 0, end: n, records, rects });
  }
  const t1 = performance.now();
  const gridW = Math.ceil(width / TILE),
    gridH = Math.ceil(height / TILE);
  const bins = binGaussians(records, rects, n, gridW, gridH);
  const t2 = performance.now();
  const job: BlendJob = {
    kind: "blend",
    gridW,
    tileCount: gridW * gridH,
    tileStart: bins.tileStart,
    list: bins.list,
    records,
    target,
    counter: new Int32Array(new SharedArrayBuffer(4)),
  };
  const blends = pool ? (await pool.broadcast<number>(() => job)).reduce((a, b) => a + b, 0) : runJob(job);
  const t3 = performance.now();

  // Composite the background and turn transmittance into alpha.
  const { rgb, transmittance: T, depth } = target;
  const alpha = new Float32Array(pixels);
  const [br, bg, bb] = background;
  for (let p = 0; p < pixels; p++) {
    const t = T[p];
    alpha[p] = 1 - t;
    if (br !== 0 || bg !== 0 || bb !== 0) {
      rgb[p * 3] += t * br;
      rgb[p * 3 + 1] += t * bg;
      rgb[p * 3 + 2] += t * bb;
    }
    if (options.normalizeDepth && alpha[p] > 0) depth[p] /= alpha[p];
  }
  return {
    width,
    height,
    rgb,
    alpha,
    depth,
    features: channels > 0 ? target.features : undefined,
    featureChannels: channels,
    stats: {
      visible: bins.visible,
      tileInstances: bins.list.length,
      blends,
      threads,
      projectMs: t1 - t0,
      binMs: t2 - t1,
      blendMs: t3 - t2,
    },
  };
}

function resolveFeatures(cloud: GaussianCloud, spec: RenderOptions["features"]): { values: Float32Array; channels: number } {
  if (spec === undefined) return { values: new Float32Array(0), channels: 0 };
  const { values, channels } = typeof spec === "string" ? { values: featureMatrix(cloud, spec), channels: countChannels(cloud, spec) } : spec;
  if (!Number.isInteger(channels) || channels < 1 || channels > 64) {
    throw new ConfigError("features", `need 1 to 64 feature channels, got ${channels}`);
  }
  if (values.length !== cloud.count * channels) {
    throw new ShapeError("features", `[${cloud.count}, ${channels}]`, `${values.length} values`);
  }
  return { values: shared(values), channels };
}

function countChannels(cloud: GaussianCloud, prefix: string): number {
  let c = 0;
  while (cloud.extras.has(`${prefix}${c}`)) c++;
  return c;
}

function sharedF32(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * 4));
}

/** The array itself when it already lives in shared memory, else a shared copy (workers cannot see it otherwise). */
function shared(a: Float32Array): Float32Array {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const copy = sharedF32(a.length);
  copy.set(a);
  return copy;
}
