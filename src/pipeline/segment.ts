/**
 * `Segmenter`: the public API of stage 3 — render a view of a Gaussian scene (RGB + 32 feature channels) and run
 * the VDVI network on it, giving per-pixel labels and class probabilities (or depth for a depth checkpoint).
 *
 * The view is rendered at the network's size when the camera has the same aspect ratio (the training size), and
 * otherwise at a size of the camera's aspect with about the same pixel count, each side a multiple of 32; the
 * outputs are at that render size (`resizeLabels` brings labels to any size). A scene whose features come from
 * another encoder than the checkpoint's is refused.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { numpy as np, blockUntilReady } from "../nn/jax.ts";
import type { Camera } from "../core/camera.ts";
import { ConfigError } from "../core/errors.ts";
import { render, type RenderResult } from "../render/render.ts";
import type { GaussianCloud } from "../splat/cloud.ts";
import type { ClassInfo } from "../datasets/class-tables.ts";
import type { BnStates, VdviNet, VdviParams } from "../models/vdvi/index.ts";
import type { VdviConfig } from "../models/configs.ts";
import { segmentSize } from "../models/vdvi/input-size.ts";
import { refParams } from "../nn/params.ts";
import { loadVdviCheckpoint } from "../train/semantic/checkpoint.ts";
import { EvalForward, refStates } from "../train/semantic/step.ts";
import { scaleCamera, resizeNearest } from "../train/render-cache.ts";
import { argmaxLabels } from "../train/semantic/train.ts";
import { UNRECORDED_ENCODER, type FeatureSource } from "../train/semantic/features.ts";

/** The committed default checkpoint, relative to the package root. */
export const DEFAULT_VDVI_CHECKPOINT = "checkpoints/vdvi-lite.safetensors";

/** Absolute path of the package's default checkpoint. */
export function defaultCheckpointPath(): string {
  return fileURLToPath(new URL(`../../${DEFAULT_VDVI_CHECKPOINT}`, import.meta.url));
}

/** Milliseconds per part of one view. Network parts are apportioned by multiply-adds (see `partsMethod`). */
export interface SegmentTiming {
  render: number;
  /** The whole network forward (measured). */
  network: number;
  rgbBranch: number;
  featureBranch: number;
  fusion: number;
  decoder: number;
  total: number;
}

/** How the network's parts were timed: one fused forward is measured and split by each part's multiply-adds. */
export const PARTS_METHOD = "network measured as one jitted forward; its parts apportioned by their multiply-adds (macsAll)";

/** One segmented view. */
export interface SegmentResult {
  width: number;
  height: number;
  /** `[H·W]` argmax classes (semantic checkpoints). */
  labels: Uint16Array;
  /** `[H·W·K]` softmax class probabilities (semantic checkpoints; empty for depth). */
  probabilities: Float32Array;
  numClasses: number;
  /** `[H·W]` predicted planar depth in metres (depth checkpoints only). */
  predictedDepth?: Float32Array;
  /** The render the network saw: RGB `[H·W·3]` (clamped to [0, 1]), alpha, rendered depth, features `[H·W·C]`. */
  rgb: Float32Array;
  alpha: Float32Array;
  depth: Float32Array;
  features: Float32Array;
  featureChannels: number;
  timing: SegmentTiming;
}

/** Options of {@link Segmenter.segment}. */
export interface SegmentOptions {
  /** Per-Gaussian features `[N·C]`; default the cloud's `f_pc_*` extras. */
  features?: { values: Float32Array; channels: number };
  /** Encoder id of those features; refused when it differs from the checkpoint's. */
  encoder?: string;
  /** Render threads. */
  threads?: number;
}

export { segmentSize };

/** A loaded VDVI checkpoint ready to segment views. */
export class Segmenter {
  readonly #forward: EvalForward;
  readonly #shares: { rgbBranch: number; featureBranch: number; fusion: number; decoder: number };
  private constructor(
    readonly path: string,
    readonly net: VdviNet,
    readonly params: VdviParams,
    readonly state: BnStates,
    readonly classes: ClassInfo[],
    /** Encoder id of the features the checkpoint was trained on. */
    readonly encoder: string,
    readonly finetuneScene: string | undefined,
  ) {
    this.#forward = new EvalForward(net);
    const fc = net.analyze(1, net.config.height, net.config.width).flops;
    const parts = fc.byPrefix(["rgb", "feat", "scc", "adapt", "decoder"]);
    const macs = {
      rgbBranch: parts.rgb.macsAll,
      featureBranch: parts.feat.macsAll,
      fusion: parts.scc.macsAll + parts.adapt.macsAll,
      decoder: parts.decoder.macsAll,
    };
    const total = macs.rgbBranch + macs.featureBranch + macs.fusion + macs.decoder || 1;
    this.#shares = {
      rgbBranch: macs.rgbBranch / total,
      featureBranch: macs.featureBranch / total,
      fusion: macs.fusion / total,
      decoder: macs.decoder / total,
    };
  }

  /**
   * Load a checkpoint (default: the committed `checkpoints/vdvi-lite.safetensors`).
   * @throws ConfigError when no path is given and the default checkpoint is absent.
   */
  static load(ckpt?: string): Segmenter {
    let path = ckpt;
    if (path === undefined) {
      path = defaultCheckpointPath();
      if (!existsSync(path)) {
        throw new ConfigError("--model", `no checkpoint given and the default ${DEFAULT_VDVI_CHECKPOINT} is absent (train one with \`rtgs2 train\` and pass --model CKPT)`);
      }
    }
    const c = loadVdviCheckpoint(path);
    return new Segmenter(path, c.net, c.params, c.state, c.classes, c.encoder, c.finetuneScene);
  }

  get config(): VdviConfig {
    return this.net.config;
  }

  get task(): "semantic" | "depth" {
    return this.net.config.task;
  }

  /** The feature source that reproduces the checkpoint's training features for a new scene. */
  get featureSource(): FeatureSource {
    return this.encoder.startsWith("random:") ? (this.encoder as FeatureSource) : "encoded";
  }

  /** Refuse features from another encoder (one-line ConfigError naming both ids). */
  checkEncoder(encoder: string, where = "scene"): void {
    if (encoder === this.encoder) return;
    if (encoder === UNRECORDED_ENCODER || this.encoder === UNRECORDED_ENCODER) return; // nothing to compare
    throw new ConfigError(
      where,
      `features come from encoder ${short(encoder)}, but ${this.path} was trained on encoder ${short(this.encoder)} (re-encode the scene with that encoder)`,
    );
  }

  /** Render `camera`'s view of `cloud` and segment it. */
  async segment(cloud: GaussianCloud, camera: Camera, options: SegmentOptions = {}): Promise<SegmentResult> {
    if (options.encoder !== undefined) this.checkEncoder(options.encoder);
    const size = segmentSize(this.config, camera);
    const cam = scaleCamera(camera, size.width, size.height);
    const t0 = performance.now();
    const r: RenderResult = await render(cloud, cam, { features: options.features ?? "f_pc_", threads: options.threads });
    const t1 = performance.now();
    const C = r.featureChannels;
    if (C !== this.config.feat.inChannels && this.config.ablation !== "no-vi") {
      throw new ConfigError("features", `the scene has ${C} feature channels, the network expects ${this.config.feat.inChannels}`);
    }
    const rgb = r.rgb;
    for (let i = 0; i < rgb.length; i++) rgb[i] = Math.min(1, Math.max(0, Math.round(rgb[i] * 255) / 255));
    const features = r.features ?? new Float32Array(size.width * size.height * C);
    const out = await this.predict(rgb, features, size.width, size.height, C);
    const t2 = performance.now();
    const network = t2 - t1;
    const sh = this.#shares;
    return {
      ...out,
      rgb,
      alpha: r.alpha,
      depth: r.depth,
      features,
      featureChannels: C,
      timing: {
        render: t1 - t0,
        network,
        rgbBranch: network * sh.rgbBranch,
        featureBranch: network * sh.featureBranch,
        fusion: network * sh.fusion,
        decoder: network * sh.decoder,
        total: t2 - t0,
      },
    };
  }

  /** Run the network on a rendered image (`[H·W·3]` in [0, 1]) and feature map (`[H·W·C]`). */
  async predict(
    rgb: Float32Array,
    features: Float32Array,
    width: number,
    height: number,
    channels = 32,
  ): Promise<Pick<SegmentResult, "width" | "height" | "labels" | "probabilities" | "numClasses" | "predictedDepth">> {
    const y = this.#forward.run(
      refParams(this.params),
      refStates(this.state),
      np.array(rgb).reshape([1, height, width, 3]),
      np.array(features).reshape([1, height, width, channels]),
    );
    // Read asynchronously: `dataSync` would run the network on the main thread (jax-js's synchronous path).
    const host = (await y.data()) as Float32Array;
    if (this.task === "depth") {
      return { width, height, labels: new Uint16Array(width * height).fill(65535), probabilities: new Float32Array(0), numClasses: 0, predictedDepth: host };
    }
    const K = this.config.numClasses;
    return { width, height, labels: argmaxLabels(host, K), probabilities: host, numClasses: K };
  }

  /** Wait for pending device work (benchmarks). */
  async ready(): Promise<void> {
    await blockUntilReady(this.params);
  }

  dispose(): void {
    this.#forward.dispose();
  }
}

/** Labels (or any one-channel map) resized by nearest neighbour to W×H. */
export function resizeLabels<T extends Uint16Array | Float32Array>(labels: T, width: number, height: number, W: number, H: number): T {
  return resizeNearest(labels, width, height, W, H);
}

function short(id: string): string {
  return id.length > 16 && /^[0-9a-f]+$/.test(id) ? `${id.slice(0, 12)}…` : id;
}
