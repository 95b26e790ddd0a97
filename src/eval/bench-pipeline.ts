/**
 * `rtgs2 bench pipeline` / `bench-pipeline.ts`: end-to-end per-frame speed of stage 3 (ARCHITECTURE.md §5) —
 * render RGB + 32 feature channels with the CPU rasterizer, then the VDVI network's jitted eval forward, at batch
 * 1, over a procedural room (`syntheticRoomCloud`) seen from orbit cameras. The per-Gaussian features come from the
 * seeded untrained lite encoder (`random:0`), whose one-off cost is reported as `encodeSeconds`.
 *
 * The frame loop is `Segmenter.segment` itself (render, RGB quantisation, forward, softmax/argmax read-back), so the
 * figures are those of `rtgs2 segment`. Without `--model` the network is randomly initialised from the config
 * (speed does not depend on the weights) and handed to a `Segmenter` through a temporary checkpoint. The network
 * parts are Segmenter's: one measured forward apportioned by each part's multiply-adds (see `PARTS_METHOD`).
 * The first frame (kernel compiles) is not timed. Threads are fixed per process, so the CLI runs this module in a
 * child process with `RTGS2_THREADS`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initEngine, engineInfo } from "../nn/engine/index.ts";
import { Rng } from "../core/rng.ts";
import { ConfigError, Rtgs2Error } from "../core/errors.ts";
import { parseSize } from "../core/image-size.ts";
import { orbitCameras } from "../core/camera-convert.ts";
import { syntheticRoomCloud } from "../splat/synthetic.ts";
import { closeRenderWorkers } from "../render/render.ts";
import { vdviConfig } from "../models/configs.ts";
import { VdviNet } from "../models/vdvi/index.ts";
import { saveVdviCheckpoint } from "../train/semantic/checkpoint.ts";
import { PARTS_METHOD, Segmenter } from "../pipeline/segment.ts";
import { DEFAULT_CHUNK_POINTS, randomEncoder } from "../models/gaussian-encoder/scene-features.ts";
import { encodeCloud } from "../models/gaussian-encoder/encode.ts";

/** The paper's end-to-end figure (Table 5), on other hardware. */
export const PAPER_FPS = 27.03;
export const PAPER_HARDWARE = "RTX 3090, 640×480, paper config";

/** Milliseconds per frame of each stage; they sum to `frameMs`. */
export interface PipelineBreakdown {
  render: number;
  rgbBranch: number;
  featureBranch: number;
  fusion: number;
  decoder: number;
}

/** The `--json` object (ARCHITECTURE.md §5's fields first). */
export interface PipelineBenchResult {
  fps: number;
  breakdown: PipelineBreakdown;
  /** Once per scene: encoding every Gaussian with the encoder (compile included). */
  encodeSeconds: number;
  config: string;
  model: string | null;
  width: number;
  height: number;
  gaussians: number;
  /** Timed frames (the compile frame before them is not counted). */
  frames: number;
  threads: number;
  /** Mean network milliseconds per frame (forward + read-back + argmax), measured. */
  networkMs: number;
  /** Mean milliseconds per frame, render + network. */
  frameMs: number;
  breakdownMethod: string;
  encoder: string;
  paperFps: number;
  paperHardware: string;
  device: string;
  date: string;
}

export interface PipelineBenchOptions {
  /** Config preset (ignored with `model`). Default lite. */
  config?: string;
  /** A VDVI checkpoint: its config and weights. */
  model?: string;
  width?: number;
  height?: number;
  /** Gaussians in the procedural room. Default 150 000. */
  gaussians?: number;
  /** Timed frames. Default 10. */
  frames?: number;
  /** Render threads (the engine's come from `RTGS2_THREADS`). Default: the engine's. */
  threads?: number;
}

/** A Segmenter for a checkpoint, or for a randomly initialised network of `config` at width×height. */
function makeSegmenter(opts: PipelineBenchOptions): Segmenter {
  if (opts.model !== undefined) return Segmenter.load(opts.model);
  const size = opts.width !== undefined && opts.height !== undefined ? { width: opts.width, height: opts.height } : {};
  const cfg = vdviConfig(opts.config ?? "lite", size);
  const net = new VdviNet(cfg);
  const params = net.init(new Rng("bench-pipeline"));
  const state = net.initState();
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-bench-pipeline-"));
  try {
    const path = join(dir, "random.safetensors");
    const classes = Array.from({ length: cfg.numClasses }, (_, id) => ({ id, name: `class-${id}`, color: [0, 0, 0] as [number, number, number] }));
    saveVdviCheckpoint(path, params, state, { config: cfg, classes, encoder: "random:0", step: 0, epoch: 0, best: null });
    return Segmenter.load(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Run the benchmark. `log` receives progress lines (human output). */
export async function runPipelineBench(opts: PipelineBenchOptions = {}, log: (line: string) => void = () => {}): Promise<PipelineBenchResult> {
  const info = await initEngine();
  const gaussians = opts.gaussians ?? 150_000;
  const frames = opts.frames ?? 10;
  if (!Number.isInteger(gaussians) || gaussians < 1) throw new ConfigError("--gaussians", `must be a positive integer, got ${gaussians}`);
  if (!Number.isInteger(frames) || frames < 1) throw new ConfigError("--frames", `must be a positive integer, got ${frames}`);
  const seg = makeSegmenter(opts);
  try {
    const cfg = seg.config;
    // With --model the checkpoint fixes the network's size; --size then only sets the camera (Segmenter renders at
    // the network's size when the aspect matches).
    const width = opts.width ?? cfg.width;
    const height = opts.height ?? cfg.height;
    const threads = opts.threads ?? engineInfo().threads;
    log(`${cfg.name} network${opts.model !== undefined ? ` from ${opts.model}` : " (random weights)"}, ${gaussians} Gaussians, ${threads} thread(s)`);

    const cloud = syntheticRoomCloud(gaussians, 1);
    const enc = randomEncoder(0);
    const t0 = performance.now();
    const features = encodeCloud(enc.encoder, enc.params, enc.state, cloud, { chunkPoints: DEFAULT_CHUNK_POINTS });
    const encodeSeconds = (performance.now() - t0) / 1000;
    log(`encode (${enc.id}, once per scene): ${encodeSeconds.toFixed(2)} s`);
    const feats = { values: features, channels: enc.encoder.outChannels };

    const cams = orbitCameras(cloud.positions, frames + 1, { width, height });
    const t1 = performance.now();
    const first = await seg.segment(cloud, cams[0], { features: feats, threads });
    log(`first frame (compile): ${(performance.now() - t1).toFixed(0)} ms`);
    const sum: PipelineBreakdown & { network: number; total: number } = { render: 0, rgbBranch: 0, featureBranch: 0, fusion: 0, decoder: 0, network: 0, total: 0 };
    for (let i = 1; i <= frames; i++) {
      const t = (await seg.segment(cloud, cams[i], { features: feats, threads })).timing;
      for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += t[k];
    }
    const mean = (v: number): number => v / frames;
    const breakdown: PipelineBreakdown = {
      render: mean(sum.render),
      rgbBranch: mean(sum.rgbBranch),
      featureBranch: mean(sum.featureBranch),
      fusion: mean(sum.fusion),
      decoder: mean(sum.decoder),
    };
    const frameMs = mean(sum.total);
    return {
      fps: 1000 / frameMs,
      breakdown,
      encodeSeconds,
      config: cfg.name,
      model: opts.model ?? null,
      width: first.width,
      height: first.height,
      gaussians,
      frames,
      threads,
      networkMs: mean(sum.network),
      frameMs,
      breakdownMethod: `render measured; ${PARTS_METHOD} (Segmenter)`,
      encoder: enc.id,
      paperFps: PAPER_FPS,
      paperHardware: PAPER_HARDWARE,
      device: info.device,
      date: new Date().toISOString(),
    };
  } finally {
    seg.dispose();
  }
}

/** Human-readable summary lines. */
export function formatPipelineBench(r: PipelineBenchResult): string[] {
  const b = r.breakdown;
  return [
    `${r.config} ${r.width}×${r.height}, ${r.gaussians} Gaussians, ${r.threads} thread(s), ${r.frames} frames: ${r.fps.toFixed(2)} FPS (${r.frameMs.toFixed(1)} ms/frame)`,
    `  render ${b.render.toFixed(1)} ms | network ${r.networkMs.toFixed(1)} ms = rgbBranch ${b.rgbBranch.toFixed(1)} + featureBranch ${b.featureBranch.toFixed(1)} + fusion ${b.fusion.toFixed(1)} + decoder ${b.decoder.toFixed(1)}`,
    `  encode once per scene: ${r.encodeSeconds.toFixed(2)} s`,
    `  paper: ${r.paperFps} FPS on a different machine (${r.paperHardware}); not comparable hardware`,
  ];
}

/** Entry point: `[--config NAME | --model CKPT] [--size WxH] [--gaussians N] [--frames F] [--threads N] [--json]`. */
export async function main(argv: string[]): Promise<void> {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const int = (flag: string): number | undefined => {
    const v = get(flag);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new ConfigError(flag, `expected a positive integer, got "${v}"`);
    return Number(v);
  };
  const size = get("--size");
  const { width, height } = size !== undefined ? parseSize(size) : { width: undefined, height: undefined };
  const json = argv.includes("--json");
  const result = await runPipelineBench(
    { config: get("--config"), model: get("--model"), width, height, gaussians: int("--gaussians"), frames: int("--frames"), threads: int("--threads") },
    json ? () => {} : (l) => process.stdout.write(`${l}\n`),
  );
  if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else process.stdout.write(`${formatPipelineBench(result).join("\n")}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  try {
    await main(process.argv.slice(2));
  } catch (err) {
    // The CLI's error contract: one line, exit 2 for bad input.
    process.stderr.write(`rtgs2: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof Rtgs2Error ? err.exitCode : 1;
  } finally {
    await closeRenderWorkers();
  }
}
