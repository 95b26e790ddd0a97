/**
 * Per-Gaussian features for whole scenes (ARCHITECTURE.md §4): the frozen Gaussian encoder over every scene,
 * its L2-normalized 32-d output stored either as `f_pc_0..31` (float32) in a project-layout scene's
 * `point_cloud.ply`, with `comment rtgs2 encoder <id>`, or in a sidecar `SCENE/features.safetensors` for foreign
 * scenes (Inria output, real datasets, never rewritten in place) or on request. A scene is first turned so its
 * up meets an up-axis encoder's (models/gaussian-encoder/orientation.ts); the turn is stored with the features.
 * Loading encoders and reading features back live in models/gaussian-encoder/scene-features.ts and are
 * re-exported here as public API.
 */
import { ConfigError, InvalidFileError, MissingFileError } from "../core/errors.ts";
import { readSplatSync, writePly } from "../splat/io/index.ts";
import { writeSafetensors } from "../nn/safetensors.ts";
import type { Scene } from "../datasets/scene.ts";
import { readScene } from "../datasets/detect.ts";
import { readProjectDataset } from "../datasets/project.ts";
import { FEATURE_CHANNELS } from "../models/gaussian-encoder/config.ts";
import type { LoadedEncoder } from "../models/gaussian-encoder/checkpoint.ts";
import { encodeCloud } from "../models/gaussian-encoder/encode.ts";
import { alignToEncoder, type UpChoice } from "../models/gaussian-encoder/orientation.ts";
import {
  DEFAULT_CHUNK_POINTS,
  ENCODER_COMMENT,
  FEATURE_NAMES,
  TURNED_UP_COMMENT,
  defaultEncoderPath,
  fileSha256,
  loadEncoder,
  loadSceneFeatures,
  sidecarPath,
  turnedUpTag,
} from "../models/gaussian-encoder/scene-features.ts";

export * from "../models/gaussian-encoder/scene-features.ts";

/** Options of `encodeScene` / `encodeScenes`. */
export interface EncodeSceneOptions {
  /** Write a sidecar even for a project-layout scene. */
  sidecar?: boolean;
  /** Most Gaussians in a chunk's core (default 60 000). */
  chunkPoints?: number;
  /** Called after each chunk of the current scene. */
  onChunk?: (done: number, total: number) => void;
  /**
   * The scene's up, for an encoder pre-trained about a fixed axis (orientation.ts): `auto` (default) asks the
   * cameras, `none` encodes the scene as it is.
   */
  up?: UpChoice;
}

/** What `encodeScene` did. */
export interface EncodeSceneResult {
  scene: string;
  gaussians: number;
  /** True when the scene already held this encoder's features. */
  skipped: boolean;
  target: "ply" | "sidecar";
  path: string;
  seconds: number;
  /** The scene's up, matched to the encoder's; null when the encoder has no up or the scene's is not known. */
  up: number[] | null;
  /** True when the positions were rotated before encoding (the scene's up differs from the encoder's). */
  rotated: boolean;
}

/** Encode one scene with a loaded encoder and store the features (skipping a scene already done with it). */
export function encodeScene(loaded: LoadedEncoder, scene: Scene, options: EncodeSceneOptions = {}): EncodeSceneResult {
  const t0 = performance.now();
  const toSidecar = options.sidecar === true || scene.layout !== "project";
  const splat = readSplatSync(scene.splatPath);
  const cloud = splat.cloud;
  const target = toSidecar ? "sidecar" : "ply";
  const path = toSidecar ? sidecarPath(scene) : scene.splatPath;
  const { input, up, turned } = alignToEncoder(cloud, loaded.metadata, scene.cameras, options.up);
  // Features depend on the turn too: a scene encoded by this encoder but turned otherwise is encoded again.
  const turnedUp = turned && up !== undefined ? turnedUpTag(up) : undefined;
  const done = (skipped: boolean): EncodeSceneResult => ({
    scene: scene.name,
    gaussians: cloud.count,
    skipped,
    target,
    path,
    seconds: (performance.now() - t0) / 1000,
    up: up ?? null,
    rotated: turned,
  });
  try {
    const have = loadSceneFeatures(scene, { encoder: loaded.id, splat });
    if (have.source === target && have.turnedUp === turnedUp) return done(true);
  } catch (e) {
    if (!(e instanceof MissingFileError || e instanceof InvalidFileError)) throw e;
  }
  const features = encodeCloud(loaded.encoder, loaded.params, loaded.state, input, {
    chunkPoints: options.chunkPoints ?? DEFAULT_CHUNK_POINTS,
    onChunk: options.onChunk,
  });
  if (toSidecar) {
    const tensors = new Map([["f_pc", { dtype: "F32" as const, shape: [cloud.count, FEATURE_CHANNELS], data: features }]]);
    writeSafetensors(path, tensors, { encoder: loaded.id, plySha256: fileSha256(scene.splatPath), ...(turnedUp === undefined ? {} : { turnedUp }) });
  } else {
    const n = cloud.count;
    for (const name of [...cloud.extras.keys()]) if (/^f_pc_\d+$/.test(name)) cloud.extras.delete(name);
    for (let k = 0; k < FEATURE_CHANNELS; k++) {
      const ch = new Float32Array(n);
      for (let i = 0; i < n; i++) ch[i] = features[i * FEATURE_CHANNELS + k];
      cloud.extras.set(FEATURE_NAMES[k], ch);
    }
    const comments = [
      ...splat.comments.filter((c) => !c.startsWith(ENCODER_COMMENT) && !c.startsWith(TURNED_UP_COMMENT)),
      `${ENCODER_COMMENT}${loaded.id}`,
      ...(turnedUp === undefined ? [] : [`${TURNED_UP_COMMENT}${turnedUp}`]),
    ];
    writePly(scene.splatPath, cloud, { comments });
  }
  return done(false);
}

/** The scenes `rtgs2 encode` works on: every scene of a project dataset (train and test), or one scene folder. */
export function scenesToEncode(source: { data?: string; scene?: string }): Scene[] {
  if ((source.data === undefined) === (source.scene === undefined)) throw new ConfigError("--data/--scene", "give exactly one of --data DIR or --scene DIR");
  if (source.scene !== undefined) return [readScene(source.scene)];
  const ds = readProjectDataset(source.data as string);
  return [...ds.train, ...ds.test];
}

/** Totals of `encodeScenes`. */
export interface EncodeScenesResult {
  scenes: number;
  gaussians: number;
  seconds: number;
  encoder: string;
  results: EncodeSceneResult[];
}

/** Encode every scene with the encoder at `encoderPath` (default: the committed lite encoder). */
export function encodeScenes(
  scenes: readonly Scene[],
  encoderPath: string = defaultEncoderPath(),
  options: EncodeSceneOptions & { onScene?: (result: EncodeSceneResult, done: number, total: number) => void } = {},
): EncodeScenesResult {
  const t0 = performance.now();
  const loaded = loadEncoder(encoderPath);
  const results: EncodeSceneResult[] = [];
  for (const scene of scenes) {
    const r = encodeScene(loaded, scene, options);
    results.push(r);
    options.onScene?.(r, results.length, scenes.length);
  }
  return {
    scenes: results.length,
    gaussians: results.reduce((a, r) => a + r.gaussians, 0),
    seconds: (performance.now() - t0) / 1000,
    encoder: loaded.id,
    results,
  };
}
