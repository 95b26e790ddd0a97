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
import { featureChannelCount, featureMatrix, sharedFloat32, type GaussianCloud } from "../splat/cloud.ts";
import { fillTiles, prefixSum, sortByDepth } from "./bin.ts";
import { REC, TILE, type ProjectCamera, type ProjectSource } from "./project.ts";
import { runJob, type BlendJob, type ProjectJob, type RenderJob } from "./jobs.ts";
import { acquireArena, dropArenas, releaseArena, type BlendArena } from "./wasm-blend.ts";

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
  /**
   * A previous result of the same size and channel count whose arrays this render overwrites instead of
   * allocating new ones. Saves the page faults of fresh image memory (tens of ms per frame with 32 feature
   * channels at 640×480) in loops that consume each frame before rendering the next.
   */
  reuse?: RenderResult;
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
  if (pool?.isBroken) {
    void pool.close();
    pool = undefined;
  }
  if (!pool) {
    // The worker has this module's extension: .ts when run from source through tsx, .js from dist/.
    const ext = import.meta.url.slice(import.meta.url.lastIndexOf("."));
    pool = new WorkerPool(new URL(`./worker${ext}`, import.meta.url), threads);
    pools.set(threads, pool);
  }
  return pool;
}

/**
 * Terminate the render worker threads and drop the pooled kernel memory (workers are unref'd when idle, so
 * this is optional; it returns the memory a large render left pooled).
 */
export async function closeRenderWorkers(): Promise<void> {
  dropArenas();
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.close()));
}

export async function render(cloud: GaussianCloud, camera: Camera, options: RenderOptions = {}): Promise<RenderResult> {
  const { values: gaussianFeatures, channels } = resolveFeatures(cloud, options.features);
  const { width, height } = camera;
  const pixels = width * height;
  const arena = acquireArena();
  try {
    const frame = await prepareFrame(cloud, camera, options, arena, channels);
    const { layout, run, gridW, tiles, sorted, instances, t0, t1 } = frame;
    if (channels > 0) new Float32Array(arena.memory.buffer, layout.gaussianFeatures, cloud.count * channels).set(gaussianFeatures);
    const t2 = performance.now();

    const out = reusable(options.reuse, width, height, channels);
    const rgb = out?.rgb ?? sharedFloat32(pixels * 3);
    const depth = out?.depth ?? sharedFloat32(pixels);
    // The kernel writes every pixel's transmittance; it becomes alpha in place below.
    const alpha = out?.alpha ?? sharedFloat32(pixels);
    const features = out?.features ?? sharedFloat32(channels > 0 ? pixels * channels : 0);
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const perThread = await run<number>((thread): BlendJob => ({
      kind: "blend",
      memory: arena.memory,
      layout,
      thread,
      gridW,
      tileCount: tiles,
      width,
      height,
      channels,
      counter,
      rgb,
      transmittance: alpha,
      depth,
      features,
    }));
    const t3 = performance.now();
    composite(rgb, alpha, depth, options.background ?? [0, 0, 0], options.normalizeDepth ?? false);
    return {
      width,
      height,
      rgb,
      alpha,
      depth,
      features: channels > 0 ? features : undefined,
      featureChannels: channels,
      stats: {
        visible: sorted.length,
        tileInstances: instances,
        blends: perThread.reduce((a, b) => a + b, 0),
        threads: frame.threads,
        projectMs: t1 - t0,
        binMs: t2 - t1,
        blendMs: t3 - t2,
      },
    };
  } finally {
    releaseArena(arena);
  }
}

/** Per-pixel class evidence for {@link accumulateGaussianWeights}: dense scores or hard labels, row-major H×W. */
export type PixelEvidence =
  /** [H·W·K] per-pixel scores (e.g. probabilities), K ≤ 64. */
  | { kind: "dense"; values: Float32Array; classes: number }
  /** [H·W] class indices; a label ≥ `classes` (e.g. 65535, ignore) adds weight but no evidence. */
  | { kind: "labels"; labels: Uint16Array; classes: number };

/**
 * Per-Gaussian sums over views, row g = [Σ α·T, Σ α·T·E[·, 0], …, Σ α·T·E[·, K − 1]] (stride K + 1), in float64.
 * Create with {@link createGaussianAccumulator}; {@link accumulateGaussianWeights} adds one view at a time.
 */
export interface GaussianAccumulator {
  readonly count: number;
  readonly classes: number;
  /** [N·(K + 1)]. */
  readonly values: Float64Array;
}

export function createGaussianAccumulator(count: number, classes: number): GaussianAccumulator {
  if (!Number.isInteger(count) || count < 0) throw new ConfigError("count", `must be a non-negative integer, got ${count}`);
  if (!Number.isInteger(classes) || classes < 1 || classes > 64) throw new ConfigError("classes", `need 1 to 64 classes, got ${classes}`);
  return { count, classes, values: new Float64Array(count * (classes + 1)) };
}

export interface WeightPassStats extends RenderStats {
  /** Summing the threads' per-Gaussian partial weights. */
  reduceMs: number;
}

/**
 * The weight pass: rasterize `camera` exactly as {@link render} does (same α, T, front-to-back order and early
 * termination) but, instead of images, add to every Gaussian g of `into` its blending weight w = Σ α·T over the
 * pixels it contributes to and its gathered evidence Σ α·T·E[pixel, k]. Tiles write per-tile-entry slots that
 * are then summed per Gaussian in tile order, so the result is bit-identical for any thread count.
 * Colour options (background, shDegree, reuse, features, normalizeDepth) do not apply.
 */
export async function accumulateGaussianWeights(
  cloud: GaussianCloud,
  camera: Camera,
  evidence: PixelEvidence,
  into: GaussianAccumulator,
  options: Pick<RenderOptions, "near" | "scaleModifier" | "threads"> = {},
): Promise<WeightPassStats> {
  const K = evidence.classes;
  if (into.count !== cloud.count || into.classes !== K) {
    throw new ShapeError("accumulateGaussianWeights.into", `[${cloud.count}, ${K} + 1]`, `[${into.count}, ${into.classes} + 1]`);
  }
  if (!Number.isInteger(K) || K < 1 || K > 64) throw new ConfigError("evidence.classes", `need 1 to 64 classes, got ${K}`);
  const pixels = camera.width * camera.height;
  const dense = evidence.kind === "dense";
  const got = dense ? evidence.values.length : evidence.labels.length;
  if (got !== pixels * (dense ? K : 1)) {
    throw new ShapeError("accumulateGaussianWeights.evidence", dense ? `[${camera.height}·${camera.width}·${K}]` : `[${camera.height}·${camera.width}]`, `${got} values`);
  }
  const arena = acquireArena();
  try {
    const weights = { pixels, classes: K, dense };
    const frame = await prepareFrame(cloud, camera, { ...options, shDegree: 0 }, arena, 0, weights);
    const { layout, run, gridW, tiles, sorted, instances, t0, t1 } = frame;
    if (dense) new Float32Array(arena.memory.buffer, layout.evidence, pixels * K).set(evidence.values);
    else new Uint16Array(arena.memory.buffer, layout.labels, pixels).set(evidence.labels);
    const t2 = performance.now();
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const none = new Float32Array(0);
    const perThread = await run<number>((thread): BlendJob => ({
      kind: "blend",
      memory: arena.memory,
      layout,
      thread,
      gridW,
      tileCount: tiles,
      width: camera.width,
      height: camera.height,
      channels: 0,
      counter,
      rgb: none,
      transmittance: none,
      depth: none,
      features: none,
      weights: { classes: K, dense },
    }));
    const t3 = performance.now();
    // Sum the tile-entry slots per Gaussian in list (tile) order: the same order whatever thread blended a tile.
    const S = K + 1;
    const slots = new Float32Array(arena.memory.buffer, layout.instances, instances * S);
    const list = new Uint32Array(arena.memory.buffer, layout.list, instances);
    const acc = into.values;
    for (let e = 0; e < instances; e++) {
      const src = e * S;
      if (slots[src] === 0) continue;
      const dst = list[e] * S;
      for (let c = 0; c < S; c++) acc[dst + c] += slots[src + c];
    }
    const t4 = performance.now();
    return {
      visible: sorted.length,
      tileInstances: instances,
      blends: perThread.reduce((a, b) => a + b, 0),
      threads: frame.threads,
      projectMs: t1 - t0,
      binMs: t2 - t1,
      blendMs: t3 - t2,
      reduceMs: t4 - t3,
    };
  } finally {
    releaseArena(arena);
  }
}

/** Validate the options, project the Gaussians and fill the tile lists in `arena` (stages 1 and 2). */
async function prepareFrame(
  cloud: GaussianCloud,
  camera: Camera,
  options: RenderOptions,
  arena: BlendArena,
  channels: number,
  weights?: { pixels: number; classes: number; dense: boolean },
) {
  validateCamera(camera, "camera");
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) throw new ConfigError("threads", `must be an integer in 1..256, got ${threads}`);
  const near = options.near ?? 0.2;
  // Depth keys sort as float bits, which needs every kept depth > 0.
  if (!(near > 0 && Number.isFinite(near))) throw new ConfigError("near", `must be a positive number of metres, got ${near}`);
  if (options.background && !options.background.every(Number.isFinite)) {
    throw new ConfigError("background", `must be three finite numbers, got ${options.background.join(", ")}`);
  }
  if (!(Number.isFinite(options.scaleModifier ?? 1) && (options.scaleModifier ?? 1) > 0)) {
    throw new ConfigError("scaleModifier", `must be a positive number, got ${options.scaleModifier}`);
  }
  const { width, height } = camera;
  const n = cloud.count;
  const gridW = Math.ceil(width / TILE),
    gridH = Math.ceil(height / TILE);
  const pool = threads > 1 ? poolFor(threads) : undefined;
  const run = <T>(jobFor: (thread: number) => RenderJob): Promise<T[]> =>
    pool ? pool.broadcast<T>(jobFor) : Promise.resolve([runJob(jobFor(0)) as T]);

  const ranges = pool ? threads : 1;
  const tiles = gridW * gridH;

  // Records and tile lists live in the blend kernel's memory; the lists are laid out once their size is known.
  let layout = arena.layout(n, tiles, 0, channels, ranges, weights);
  const records = new Float32Array(arena.memory.buffer, layout.records, n * REC);
  const rects = arena.rects(n);
  const source = projectSource(cloud);
  const projCam = projectCamera(cloud, camera, options);
  const chunk = Math.ceil(n / ranges);
  const counts = new Uint32Array(new SharedArrayBuffer(ranges * (tiles + 1) * 4));

  const t0 = performance.now();
  await run<number>((w): ProjectJob => ({
    kind: "project",
    source,
    camera: projCam,
    start: Math.min(n, w * chunk),
    end: Math.min(n, (w + 1) * chunk),
    records,
    rects,
    gridW,
    counts: counts.subarray(w * (tiles + 1), (w + 1) * (tiles + 1)),
  }));
  const t1 = performance.now();
  // Binning: the projection threads counted their Gaussians' tiles; the sums, the depth sort and the fill run
  // here (a parallel fill measured slower: both threads must scan the whole sorted list).
  const tileCounts = counts.subarray(0, tiles + 1);
  for (let w = 1; w < ranges; w++) for (let t = 0; t <= tiles; t++) tileCounts[t] += counts[w * (tiles + 1) + t];
  const instances = prefixSum(tileCounts);
  layout = arena.layout(n, tiles, instances, channels, ranges, weights);
  const tileStart = new Uint32Array(arena.memory.buffer, layout.tileStart, tiles + 1);
  const list = new Uint32Array(arena.memory.buffer, layout.list, instances);
  tileStart.set(tileCounts);
  const sorted = sortByDepth(records, rects, n);
  fillTiles(sorted, rects, gridW, tileStart, list);
  return { layout, run, gridW, tiles, sorted, instances, threads, t0, t1 };
}

/** The cloud's arrays in shared memory (copied only when a caller built them in ordinary memory). */
function projectSource(cloud: GaussianCloud): ProjectSource {
  return {
    count: cloud.count,
    shDegree: cloud.shDegree,
    positions: shared(cloud.positions),
    logScales: shared(cloud.logScales),
    rotations: shared(cloud.rotations),
    opacityLogits: shared(cloud.opacityLogits),
    shDc: shared(cloud.shDc),
    shRest: shared(cloud.shRest),
  };
}

function projectCamera(cloud: GaussianCloud, camera: Camera, options: RenderOptions): ProjectCamera {
  return {
    width: camera.width,
    height: camera.height,
    fx: camera.fx,
    fy: camera.fy,
    cx: camera.cx,
    cy: camera.cy,
    view: Array.from(camera.viewMatrix),
    center: cameraCenter(camera),
    near: options.near ?? 0.2,
    scaleModifier: options.scaleModifier ?? 1,
    shDegree: Math.min(options.shDegree ?? cloud.shDegree, cloud.shDegree),
  };
}

/** In place: transmittance → alpha, background under the splats, optionally depth / alpha. */
function composite(
  rgb: Float32Array,
  transmittanceToAlpha: Float32Array,
  depth: Float32Array,
  background: readonly [number, number, number],
  normalizeDepth: boolean,
): void {
  const [br, bg, bb] = background;
  const hasBackground = br !== 0 || bg !== 0 || bb !== 0;
  for (let p = 0; p < transmittanceToAlpha.length; p++) {
    const t = transmittanceToAlpha[p];
    const a = 1 - t;
    transmittanceToAlpha[p] = a;
    if (hasBackground) {
      rgb[p * 3] += t * br;
      rgb[p * 3 + 1] += t * bg;
      rgb[p * 3 + 2] += t * bb;
    }
    if (normalizeDepth && a > 0) depth[p] /= a;
  }
}

/** `previous`, when its arrays fit this render and live in shared memory (so workers can write them). */
function reusable(previous: RenderResult | undefined, width: number, height: number, channels: number): RenderResult | undefined {
  if (!previous || previous.width !== width || previous.height !== height || previous.featureChannels !== channels) return undefined;
  const arrays = [previous.rgb, previous.alpha, previous.depth, ...(previous.features ? [previous.features] : [])];
  return arrays.every((a) => a.buffer instanceof SharedArrayBuffer) ? previous : undefined;
}

function resolveFeatures(cloud: GaussianCloud, spec: RenderOptions["features"]): { values: Float32Array; channels: number } {
  if (spec === undefined) return { values: new Float32Array(0), channels: 0 };
  const channels = typeof spec === "string" ? featureChannelCount(cloud, spec) : spec.channels;
  if (!Number.isInteger(channels) || channels < 1 || channels > 64) {
    throw new ConfigError("features", `need 1 to 64 feature channels, got ${channels}`);
  }
  const values = typeof spec === "string" ? featureMatrix(cloud, spec, channels) : spec.values;
  if (values.length !== cloud.count * channels) {
    throw new ShapeError("features", `[${cloud.count}, ${channels}]`, `${values.length} values`);
  }
  return { values: shared(values), channels };
}

/** The array itself when it already lives in shared memory, else a shared copy (workers cannot see it otherwise). */
function shared(a: Float32Array): Float32Array {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const copy = sharedFloat32(a.length);
  copy.set(a);
  return copy;
}
