/**
 * Encoder checkpoints (ARCHITECTURE.md §4): parameters and BatchNorm statistics as safetensors, the config in
 * the metadata so loading needs no flags, and the encoder id — sha256 over the tensor names and their float16
 * bytes in sorted name order — so a training checkpoint and its float16 export name the same encoder.
 */
import { createHash } from "node:crypto";
import { ConfigError, InvalidFileError } from "../../core/errors.ts";
import { flattenParams, type ParamTree } from "../../nn/params.ts";
import { loadCheckpoint, saveCheckpoint, type CheckpointData } from "../../nn/checkpoint.ts";
import { float32ToFloat16Bits } from "../../nn/safetensors.ts";
import type { EncoderBnStates } from "./block.ts";
import { validateEncoderConfig, type GaussianEncoderConfig } from "./config.ts";
import { GaussianEncoder, type GaussianEncoderParams } from "./encoder.ts";
import { Rng } from "../../core/rng.ts";

/** Metadata key marking a checkpoint as a Gaussian encoder's. */
export const ENCODER_KIND = "gaussian-encoder";

/**
 * The encoder id: sha256 (hex) over every parameter and BatchNorm tensor, in sorted name order, of the name
 * (UTF-8, then a NUL) and the float16 bytes of its values. Rounding to float16 first makes a float32 training
 * checkpoint and its float16 export hash alike. Arrays are read, not consumed.
 */
export function encoderId(params: GaussianEncoderParams, state: EncoderBnStates): string {
  const entries = [...flattenParams(params), ...flattenParams(state as ParamTree)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const hash = createHash("sha256");
  for (const [name, a] of entries) {
    hash.update(name, "utf8");
    hash.update(new Uint8Array([0]));
    const bits = float32ToFloat16Bits(a.ref.dataSync() as ArrayLike<number>);
    hash.update(new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength));
  }
  return hash.digest("hex");
}

/** Save an encoder checkpoint; extra fields (optimizer, step, rng, metadata) pass through. Arrays are read. */
export function saveEncoderCheckpoint(
  path: string,
  config: GaussianEncoderConfig,
  params: GaussianEncoderParams,
  state: EncoderBnStates,
  extra: Omit<CheckpointData<GaussianEncoderParams>, "params" | "buffers" | "config"> = {},
  options: { float16?: boolean } = {},
): void {
  saveCheckpoint(
    path,
    {
      ...extra,
      params,
      buffers: state as ParamTree,
      config,
      metadata: { ...(extra.metadata ?? {}), kind: ENCODER_KIND, encoder: encoderId(params, state) },
    },
    options,
  );
}

/** A loaded encoder: the model built from the stored config, its parameters and statistics, and its id. */
export interface LoadedEncoder {
  encoder: GaussianEncoder;
  params: GaussianEncoderParams;
  state: EncoderBnStates;
  id: string;
  step?: number;
  metadata: Record<string, string>;
}

/** Load an encoder checkpoint (float32 or a float16 export), rebuilding the model from its stored config. */
export function loadEncoderCheckpoint(path: string): LoadedEncoder {
  // The config is read first (metadata only) to build the templates the loader checks shapes against.
  const probe = loadCheckpoint(path, {}, { strict: false, allowFloat16: true });
  const metadata = probe.metadata;
  if (metadata.kind !== ENCODER_KIND) throw new InvalidFileError(path, `not a Gaussian-encoder checkpoint (kind "${metadata.kind ?? ""}")`);
  const config = probe.config as GaussianEncoderConfig | undefined;
  if (config === undefined) throw new InvalidFileError(path, "no config in the metadata");
  try {
    validateEncoderConfig(config);
  } catch (e) {
    if (e instanceof ConfigError) throw new InvalidFileError(path, `stored config: ${e.message}`);
    throw e;
  }
  const encoder = new GaussianEncoder(config);
  const loaded = loadCheckpoint<GaussianEncoderParams, ParamTree>(path, encoder.init(new Rng(0)), {
    buffers: encoder.initState() as ParamTree,
  });
  const state = loaded.buffers as EncoderBnStates;
  return { encoder, params: loaded.params, state, id: encoderId(loaded.params, state), step: loaded.step, metadata };
}
