/**
 * Gaussian-encoder (PTv3) configurations: `paper` is the released RT-GS2 model (METHOD.md §3 table), `lite`
 * the 2-core CPU default, `tiny` the test size. Every config outputs 32 channels per Gaussian, the width of
 * the `f_pc_0..31` features the splatting stage renders.
 */
import { ConfigError } from "../../core/errors.ts";
import { SERIALIZATION_ORDERS, type SerializationOrder } from "./serialization.ts";
import { INPUT_CHANNELS } from "./input.ts";

/** Output width of every encoder config: the per-Gaussian feature the renderer splats. */
export const FEATURE_CHANNELS = 32;

/** Structure and hyper-parameters of one PTv3 encoder. */
export interface GaussianEncoderConfig {
  name: string;
  inChannels: number;
  /** Serialization grid in metres (PTv3 `grid_size`; §10 decision 1). */
  gridSize: number;
  orders: readonly SerializationOrder[];
  /** Re-permute the order list at each serialization and pooling while training. */
  shuffleOrders: boolean;
  /** Embedding voxel-conv kernel (SubMConv3d k5 in PTv3). */
  embedKernel: number;
  /** CPE voxel-conv kernel (k3). */
  cpeKernel: number;
  /** Pooling stride between encoder stages (2; only 2 is implemented). */
  stride: number;
  encDepths: readonly number[];
  encChannels: readonly number[];
  encHeads: readonly number[];
  encPatchSize: readonly number[];
  decDepths: readonly number[];
  decChannels: readonly number[];
  decHeads: readonly number[];
  decPatchSize: readonly number[];
  mlpRatio: number;
  /** Largest drop-path rate; rates rise linearly over the blocks of the encoder, and of the decoder. */
  dropPath: number;
  /** BatchNorm eps and momentum of the embedding, pooling and unpooling (PTv3: 1e-3, 0.01). */
  bnEps: number;
  bnMomentum: number;
  /** Width of one segment-reduction gather (pooling, voxel means). */
  segmentWidth: number;
}

const COMMON = {
  inChannels: INPUT_CHANNELS,
  gridSize: 0.07,
  orders: SERIALIZATION_ORDERS,
  shuffleOrders: true,
  embedKernel: 5,
  cpeKernel: 3,
  stride: 2,
  mlpRatio: 4,
  bnEps: 1e-3,
  bnMomentum: 0.01,
  segmentWidth: 8,
} as const;

/** The released RT-GS2 PTv3 (METHOD.md §3): 32-d output, patch 1024 everywhere. */
export const PAPER_ENCODER: GaussianEncoderConfig = {
  ...COMMON,
  name: "paper",
  encDepths: [2, 2, 2, 6, 2],
  encChannels: [32, 64, 128, 256, 512],
  encHeads: [2, 4, 8, 16, 32],
  encPatchSize: [1024, 1024, 1024, 1024, 1024],
  decDepths: [2, 2, 2, 2],
  decChannels: [32, 64, 128, 256],
  decHeads: [4, 4, 8, 16],
  decPatchSize: [1024, 1024, 1024, 1024],
  dropPath: 0.3,
};

/**
 * The CPU default: half the paper's widths below the output, one block per stage but the deepest, patch 128
 * (the PTv3 README's advice without flash attention). Measured with fixed-capacity chunked encoding
 * (`encodeCloud`, 60k-Gaussian cores, .scratch probes) on the shared, heavily loaded 2-core machine, so in
 * process CPU-seconds: a 150k-Gaussian procedural room costs ≈ 26 CPU-s cold (planning, the one compile, four
 * 55k-row chunks) and ≈ 10 CPU-s warm, i.e. about 13–18 s of wall time on two otherwise idle cores. The finest
 * level dominates (the 32-wide decoder block over every Gaussian: ~40 % of the forward); dropping it
 * (`decDepths: [0, 1, 1, 1]`) measured 16 / 7 CPU-s and is the first cut if the target is missed.
 */
export const LITE_ENCODER: GaussianEncoderConfig = {
  ...COMMON,
  name: "lite",
  encDepths: [1, 1, 1, 2, 1],
  encChannels: [16, 32, 64, 128, 256],
  encHeads: [1, 2, 4, 8, 16],
  encPatchSize: [128, 128, 128, 128, 128],
  decDepths: [1, 1, 1, 1],
  decChannels: [32, 32, 64, 128],
  decHeads: [2, 2, 4, 8],
  decPatchSize: [128, 128, 128, 128],
  dropPath: 0.1,
};

/** A three-stage model for tests. */
export const TINY_ENCODER: GaussianEncoderConfig = {
  ...COMMON,
  name: "tiny",
  encDepths: [1, 1, 1],
  encChannels: [8, 16, 32],
  encHeads: [1, 2, 2],
  encPatchSize: [16, 16, 16],
  decDepths: [1, 1],
  decChannels: [32, 16],
  decHeads: [2, 2],
  decPatchSize: [16, 16],
  dropPath: 0.1,
};

/** The named encoder configs. */
export const ENCODER_CONFIGS: Readonly<Record<string, GaussianEncoderConfig>> = {
  paper: PAPER_ENCODER,
  lite: LITE_ENCODER,
  tiny: TINY_ENCODER,
};

/** A named config with overrides, validated. */
export function encoderConfig(name: string, overrides: Partial<GaussianEncoderConfig> = {}): GaussianEncoderConfig {
  const base = ENCODER_CONFIGS[name];
  if (base === undefined) throw new ConfigError("config", `unknown encoder config "${name}" (paper, lite, tiny)`);
  const cfg = { ...base, ...overrides };
  validateEncoderConfig(cfg);
  return cfg;
}

/** Throw a ConfigError naming the first inconsistent field. */
export function validateEncoderConfig(c: GaussianEncoderConfig): void {
  const S = c.encDepths.length;
  const check = (ok: boolean, field: string, reason: string): void => {
    if (!ok) throw new ConfigError(field, reason);
  };
  check(S >= 1, "encDepths", "needs at least one stage");
  for (const f of ["encChannels", "encHeads", "encPatchSize"] as const) check(c[f].length === S, f, `needs ${S} entries`);
  for (const f of ["decDepths", "decChannels", "decHeads", "decPatchSize"] as const) check(c[f].length === S - 1, f, `needs ${S - 1} entries`);
  check(c.stride === 2, "stride", "only stride 2 is implemented");
  check(c.orders.length >= 1, "orders", "needs at least one order");
  check(c.gridSize > 0, "gridSize", "must be positive");
  check(c.dropPath >= 0 && c.dropPath < 1, "dropPath", "must be in [0, 1)");
  const out = S > 1 ? c.decChannels[0] : c.encChannels[0];
  check(out === FEATURE_CHANNELS, S > 1 ? "decChannels" : "encChannels", `the first entry must be ${FEATURE_CHANNELS}`);
  c.encChannels.forEach((ch, s) => check(ch % c.encHeads[s] === 0, "encHeads", `${c.encHeads[s]} heads do not divide ${ch} channels`));
  c.decChannels.forEach((ch, s) => check(ch % c.decHeads[s] === 0, "decHeads", `${c.decHeads[s]} heads do not divide ${ch} channels`));
}

/** `count` rates spaced linearly from 0 to `max` (torch.linspace), the drop-path schedule over a block list. */
export function linspace(max: number, count: number): number[] {
  if (count === 1) return [0];
  return Array.from({ length: count }, (_, i) => (max * i) / (count - 1));
}
