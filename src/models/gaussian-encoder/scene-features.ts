/**
 * Where a scene's per-Gaussian features live and which encoder made them (ARCHITECTURE.md §4): `f_pc_0..31`
 * (float32) in a project-layout scene's `point_cloud.ply` with `comment rtgs2 encoder <id>`, or a sidecar
 * `SCENE/features.safetensors` (tensor `f_pc` [N, 32] in vertex order, metadata `encoder` and `plySha256`) for
 * foreign scenes; and how an encoder is loaded by name: a checkpoint path or `random:<seed>`, the untrained
 * control. Training, evaluation and the public pipeline all read features through here.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, InvalidFileError, MissingFileError } from "../../core/errors.ts";
import { Rng } from "../../core/rng.ts";
import type { GaussianCloud } from "../../splat/cloud.ts";
import { readSplatSync, type SplatFile } from "../../splat/io/index.ts";
import { readSafetensors } from "../../nn/safetensors.ts";
import type { Scene } from "../../datasets/scene.ts";
import { FEATURE_CHANNELS, encoderConfig } from "./config.ts";
import { loadEncoderCheckpoint, type LoadedEncoder } from "./checkpoint.ts";
import { GaussianEncoder } from "./encoder.ts";

/** The committed default encoder, relative to the working directory. */
export const DEFAULT_ENCODER_PATH = "checkpoints/encoder-lite.safetensors";

/** Absolute path of the package's default encoder (resolved from the package, not the working directory). */
export function defaultEncoderPath(): string {
  return fileURLToPath(new URL(`../../../${DEFAULT_ENCODER_PATH}`, import.meta.url));
}
/** File name of a scene's feature sidecar. */
export const FEATURE_SIDECAR = "features.safetensors";
/** Prefix of the PLY comment naming the encoder whose features a ply holds. */
export const ENCODER_COMMENT = "rtgs2 encoder ";
/**
 * Prefix of the PLY comment (and name of the sidecar metadata key, `turnedUp`) recording the scene's up that was
 * turned to the encoder's before encoding (orientation.ts), as "x,y,z"; absent when nothing was turned.
 */
export const TURNED_UP_COMMENT = "rtgs2 encoder-turned-up ";
/** Default chunk core size of `encodeScene` (Gaussians). */
export const DEFAULT_CHUNK_POINTS = 60_000;

/** Names of the feature channels: `f_pc_0..31`. */
export const FEATURE_NAMES: readonly string[] = Array.from({ length: FEATURE_CHANNELS }, (_, k) => `f_pc_${k}`);

/** `random:<seed>` names an untrained, seeded lite encoder: the paper's no-pre-training control. */
const RANDOM_ENCODER = /^random:(\d+)$/;

/** The seed of a `random:<seed>` encoder name, or undefined for a checkpoint path or id. */
export function randomEncoderSeed(name: string): number | undefined {
  const m = RANDOM_ENCODER.exec(name);
  return m === null ? undefined : Number(m[1]);
}

/**
 * The untrained lite encoder of `seed`, as a loaded encoder whose id is `random:<seed>`: features it writes are
 * labelled as the control they are, and a VDVI checkpoint trained on them asks for exactly this encoder.
 */
export function randomEncoder(seed: number): LoadedEncoder {
  const encoder = new GaussianEncoder(encoderConfig("lite"));
  const params = encoder.init(new Rng(seed).fork("random-encoder"));
  return { encoder, params, state: encoder.initState(), id: `random:${seed}`, metadata: {} };
}

/**
 * Load an encoder checkpoint, or the untrained control for `random:<seed>`; a missing file is a ConfigError that
 * says where the default comes from.
 */
export function loadEncoder(path: string = defaultEncoderPath()): LoadedEncoder {
  const seed = randomEncoderSeed(path);
  if (seed !== undefined) return randomEncoder(seed);
  if (!existsSync(path)) {
    throw new ConfigError(
      "--encoder",
      path === defaultEncoderPath()
        ? `the default encoder ${DEFAULT_ENCODER_PATH} does not exist yet (it is committed by the stage-1 pretraining run); pass --encoder CKPT`
        : `${path} does not exist`,
    );
  }
  return loadEncoderCheckpoint(path);
}

/** sha256 (hex) of a file's bytes. */
export function fileSha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** The path of a scene's feature sidecar. */
export function sidecarPath(scene: Pick<Scene, "root">): string {
  return join(scene.root, FEATURE_SIDECAR);
}

/** The encoder id a ply's comments name, if any. */
export function plyEncoderId(comments: readonly string[]): string | undefined {
  return commentValue(comments, ENCODER_COMMENT);
}

function commentValue(comments: readonly string[], prefix: string): string | undefined {
  for (const c of comments) if (c.startsWith(prefix)) return c.slice(prefix.length).trim();
  return undefined;
}

/** The "x,y,z" tag of a scene's up direction as stored with its features. */
export function turnedUpTag(up: readonly number[]): string {
  return up.map((v) => Number(v.toFixed(6)) + 0).join(",");
}

/** `[N·32]` features held as `f_pc_0..31` extras, or undefined when any channel is missing or not float32. */
function plyFeatures(cloud: GaussianCloud): Float32Array | undefined {
  const n = cloud.count;
  const D = FEATURE_CHANNELS;
  const out = new Float32Array(n * D);
  for (let k = 0; k < D; k++) {
    const ch = cloud.extras.get(FEATURE_NAMES[k]);
    if (!(ch instanceof Float32Array) || ch.length !== n) return undefined;
    for (let i = 0; i < n; i++) out[i * D + k] = ch[i];
  }
  return out;
}

/** Per-Gaussian features of a scene and where they came from. */
export interface SceneFeatures {
  /** `[N·32]` row-major, vertex order of the scene's ply. */
  features: Float32Array;
  count: number;
  /** The encoder id they were made with. */
  encoder: string;
  source: "ply" | "sidecar";
  /** The file they were read from. */
  path: string;
  /** The scene's up that was turned to the encoder's before encoding (`turnedUpTag`), when one was. */
  turnedUp?: string;
}

/** Options of `loadSceneFeatures`. */
export interface LoadSceneFeaturesOptions {
  /** Refuse features made by another encoder (its id). */
  encoder?: string;
  /** The scene's splat file, when the caller has already read it. */
  splat?: SplatFile;
}

/**
 * The features of a scene: from the ply's `f_pc_*` extras when its encoder comment is present (and matches
 * `options.encoder`), else from the sidecar, whose `plySha256` must match the ply and whose `encoder` must
 * match `options.encoder`.
 * @throws MissingFileError when the scene has no features; InvalidFileError for another encoder's features,
 *   a stale or malformed sidecar.
 */
export function loadSceneFeatures(scene: Pick<Scene, "root" | "splatPath" | "name">, options: LoadSceneFeaturesOptions = {}): SceneFeatures {
  const splat = options.splat ?? readSplatSync(scene.splatPath);
  const cloud = splat.cloud;
  const plyId = plyEncoderId(splat.comments);
  let mismatch: string | undefined;
  if (plyId !== undefined) {
    const features = plyFeatures(cloud);
    if (features === undefined) throw new InvalidFileError(scene.splatPath, `names encoder ${plyId} but lacks float32 f_pc_0..${FEATURE_CHANNELS - 1}`);
    if (options.encoder === undefined || options.encoder === plyId) {
      const turnedUp = commentValue(splat.comments, TURNED_UP_COMMENT);
      return { features, count: cloud.count, encoder: plyId, source: "ply", path: scene.splatPath, ...(turnedUp === undefined ? {} : { turnedUp }) };
    }
    mismatch = `${scene.splatPath}: features come from encoder ${plyId}, expected ${options.encoder}`;
  }
  const side = sidecarPath(scene);
  if (!existsSync(side)) {
    if (mismatch !== undefined) throw new InvalidFileError(scene.splatPath, mismatch.slice(scene.splatPath.length + 2));
    throw new MissingFileError(side, `scene ${scene.name} has no encoder features (neither f_pc_* in its ply nor a sidecar); run rtgs2 encode`);
  }
  const file = readSafetensors(side);
  const t = file.tensors.get("f_pc");
  if (t === undefined || t.dtype !== "F32" || t.shape.length !== 2 || t.shape[1] !== FEATURE_CHANNELS) {
    throw new InvalidFileError(side, `needs a float32 tensor f_pc [N, ${FEATURE_CHANNELS}]`);
  }
  if (t.shape[0] !== cloud.count) throw new InvalidFileError(side, `holds ${t.shape[0]} rows, the ply ${cloud.count} Gaussians`);
  const id = file.metadata.encoder;
  if (id === undefined || id === "") throw new InvalidFileError(side, "metadata has no encoder id");
  if (options.encoder !== undefined && id !== options.encoder) throw new InvalidFileError(side, `features come from encoder ${id}, expected ${options.encoder}`);
  const sha = fileSha256(scene.splatPath);
  if (file.metadata.plySha256 !== sha) throw new InvalidFileError(side, `is stale: made for a ply with sha256 ${file.metadata.plySha256 ?? "(none)"}, the ply now has ${sha}`);
  const turnedUp = file.metadata.turnedUp;
  return { features: t.data as Float32Array, count: cloud.count, encoder: id, source: "sidecar", path: side, ...(turnedUp === undefined ? {} : { turnedUp }) };
}
