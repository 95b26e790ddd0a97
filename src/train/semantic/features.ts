/**
 * Where a scene's per-Gaussian features come from, and which encoder made them (ARCHITECTURE.md §4):
 * - `encoded`: `f_pc_*` properties in the scene's ply (encoder id from its `comment rtgs2 encoder <id>`), else a
 *   sidecar `SCENE/features.safetensors` (tensor `f_pc` [N, 32], metadata `encoder`);
 * - `random:<seed>`: the control of the paper's ablation — the features of an untrained (seeded, randomly
 *   initialised) lite Gaussian encoder, computed here.
 * The encoded path is pipeline/encode.ts's loader; this module adds the control and the id lookup for cache keys.
 */
import { existsSync } from "node:fs";
import { ConfigError } from "../../core/errors.ts";
import { fileSource } from "../../splat/io/source.ts";
import { parsePlyHeader } from "../../splat/io/ply-header.ts";
import { readSplatSync } from "../../splat/io/index.ts";
import type { GaussianCloud } from "../../splat/cloud.ts";
import { readSafetensors } from "../../nn/safetensors.ts";
import { DEFAULT_CHUNK_POINTS, loadSceneFeatures as loadEncodedFeatures, plyEncoderId, randomEncoder, randomEncoderSeed, sidecarPath } from "../../models/gaussian-encoder/scene-features.ts";
import { FEATURE_CHANNELS } from "../../models/gaussian-encoder/config.ts";
import { encodeCloud } from "../../models/gaussian-encoder/encode.ts";

/** `encoded` (the scene's own features) or `random:<seed>` (an untrained encoder's, the control). */
export type FeatureSource = "encoded" | `random:${number}`;

/** Encoder id recorded when a ply carries `f_pc_*` without a `comment rtgs2 encoder <id>` line. */
export const UNRECORDED_ENCODER = "unrecorded";

/** Parse a `--features` value: `encoded`, `random` (seed 0) or `random:<seed>`. */
export function parseFeatureSource(text: string): FeatureSource {
  if (text === "encoded") return "encoded";
  const seed = text === "random" ? 0 : randomEncoderSeed(text);
  if (seed !== undefined) return `random:${seed}`;
  throw new ConfigError("--features", `expected encoded, random or random:<seed>, got "${text}"`);
}

/**
 * The encoder id a scene's features come from, without reading the Gaussians: from the ply header comment, else
 * the sidecar's metadata, else `unrecorded` when the ply has `f_pc_*` columns; undefined when it has no features.
 */
export function sceneEncoderId(splatPath: string, root: string): string | undefined {
  if (/\.ply$/i.test(splatPath)) {
    const src = fileSource(splatPath);
    try {
      const header = parsePlyHeader(src);
      const id = plyEncoderId(header.comments);
      if (id !== undefined) return id;
      const hasFeatures = header.elements.some((e) => e.properties.some((p) => p.name.startsWith("f_pc_")));
      if (hasFeatures) return UNRECORDED_ENCODER;
    } finally {
      src.close();
    }
  }
  const side = sidecarPath({ root });
  if (existsSync(side)) {
    const st = readSafetensors(side);
    return st.metadata.encoder ?? UNRECORDED_ENCODER;
  }
  return undefined;
}

/** A scene's Gaussians with their features. */
export interface SceneFeatures {
  cloud: GaussianCloud;
  /** `[N·C]` per-Gaussian features. */
  features: Float32Array;
  channels: number;
  /** Encoder id (`random:<seed>` for the control). */
  encoder: string;
}

/**
 * Load a scene's Gaussians and the features of `source`. `encoded` goes through pipeline/encode.ts's
 * `loadSceneFeatures` (ply `f_pc_*` with its encoder comment, else a sidecar that must match the ply); a scene
 * without features is a MissingFileError that says to run `rtgs2 encode`.
 */
export async function loadSceneFeatures(splatPath: string, root: string, source: FeatureSource, sceneName = root): Promise<SceneFeatures> {
  const file = readSplatSync(splatPath);
  const cloud = file.cloud;
  const scene = { root, splatPath, name: sceneName };
  if (source !== "encoded") {
    // A scene already encoded with this very control (`rtgs2 encode --encoder random:<seed>`) is read, not redone.
    if (sceneEncoderId(splatPath, root) === source) {
      const r = loadEncodedFeatures(scene, { splat: file, encoder: source });
      return { cloud, features: r.features, channels: FEATURE_CHANNELS, encoder: source };
    }
    const features = await randomEncoderFeatures(cloud, Number(source.slice("random:".length)));
    return { cloud, features, channels: FEATURE_CHANNELS, encoder: source };
  }
  const r = loadEncodedFeatures(scene, { splat: file });
  return { cloud, features: r.features, channels: r.features.length / Math.max(1, cloud.count), encoder: r.encoder };
}

/** Features of a seeded, untrained lite Gaussian encoder (eval mode), chunked as `rtgs2 encode` chunks. */
export async function randomEncoderFeatures(cloud: GaussianCloud, seed: number): Promise<Float32Array> {
  const loaded = randomEncoder(seed);
  return encodeCloud(loaded.encoder, loaded.params, loaded.state, cloud, { chunkPoints: DEFAULT_CHUNK_POINTS });
}
