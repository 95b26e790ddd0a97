/**
 * VDVI network presets (METHOD.md §5, §10 row 11; ARCHITECTURE.md §4 "Configs"): `paper` (AsymFormer B0_T at
 * 640×480), `lite` (the CPU default at 320×240, ≤ 0.8 GMAC) and `tiny` (tests). A config is plain data so a
 * checkpoint can store it as JSON and rebuild the network without the flags that trained it.
 */
import { ConfigError } from "../core/errors.ts";

/** Four values, one per encoder stage (1/4, 1/8, 1/16, 1/32 resolution). */
export type Stages4 = [number, number, number, number];

/** What the network predicts: K class logits, or 1 channel of planar depth in metres (softplus). */
export type VdviTask = "semantic" | "depth";

/** Which branches are in the graph (METHOD.md §10 row 12): both, RGB only (`no-vi`) or features only (`no-rgb`). */
export type VdviAblation = "none" | "no-vi" | "no-rgb";

/** The RGB (view-dependent) ConvNeXt branch. */
export interface ConvNextConfig {
  dims: Stages4;
  depths: Stages4;
  /** Stochastic-depth rate of the last block; rates rise linearly from 0 over the blocks, as timm's ConvNeXt. */
  dropPath: number;
  /** Initial value of the per-channel layer-scale (1e-6 in ConvNeXt). */
  layerScaleInit: number;
  /** Depthwise kernel of the blocks (absent: ConvNeXt's 7). */
  dwKernel?: number;
  /** Hidden width of the block MLP over the stage width (absent: ConvNeXt's 4). */
  mlpRatio?: number;
}

/** The feature (view-independent) MiT branch. */
export interface MitConfig {
  /** Input channels: the splatted per-Gaussian features (32). */
  inChannels: number;
  dims: Stages4;
  depths: Stages4;
  heads: Stages4;
  /** Spatial-reduction ratios of the attention keys/values. */
  sr: Stages4;
  mlpRatio: number;
  dropPath: number;
  /** Stage-1 embedding: SegFormer's overlapping 7×7 stride-4 conv, or a 4×4 stride-4 space-to-depth matmul (lite). */
  stem: "overlap7" | "patch4";
}

/** A full VDVI configuration. */
export interface VdviConfig {
  name: string;
  /** Default input size (pixels). */
  width: number;
  height: number;
  rgb: ConvNextConfig;
  feat: MitConfig;
  /** SegFormer MLP-decoder width (256 in `paper`). */
  decoderDim: number;
  /** Output channels of the semantic head (K classes). */
  numClasses: number;
  task: VdviTask;
  ablation: VdviAblation;
  /** Dropout on the CMA attention weights (0.2) and Dropout2d before the classifier (0.1). */
  cmaDropout: number;
  decoderDropout: number;
  /** LAFS FC reductions of the spatial (y_s) and channel (y_c) branches: 16 and 8. */
  lafsReduction: [number, number];
  /**
   * CMA key/value pooling per SCC (stages 2, 3, 4): keys and values of the global attention are averaged over
   * p×p cells, so attention costs L·L/p² (absent or 1: the paper's full global attention). A speed departure of
   * `lite` (see its comment).
   */
  cmaPool?: [number, number, number];
  /**
   * Evaluate the MLP decoder with its per-stage projection folded into the fuse conv (W_fuse,i·W_proj,i applied
   * at each stage's own resolution, then resized and summed): the same function and parameters as SegFormer's
   * proj → resize → concat → fuse, minus the 4E→E matmul at 1/4. Absent: false (the paper's order and count).
   */
  decoderFold?: boolean;
}

/** Classes of the synthetic dataset's table (src/scenes/classes.ts); any K works. */
const DEFAULT_CLASSES = 28;

const PAPER: VdviConfig = {
  name: "paper",
  width: 640,
  height: 480,
  rgb: { dims: [96, 192, 384, 768], depths: [3, 3, 9, 3], dropPath: 0.3, layerScaleInit: 1e-6 },
  feat: {
    inChannels: 32,
    dims: [32, 64, 160, 256],
    depths: [2, 2, 2, 2],
    heads: [1, 2, 5, 8],
    sr: [8, 4, 2, 1],
    mlpRatio: 4,
    dropPath: 0.1,
    stem: "overlap7",
  },
  decoderDim: 256,
  numClasses: DEFAULT_CLASSES,
  task: "semantic",
  ablation: "none",
  cmaDropout: 0.2,
  decoderDropout: 0.1,
  lafsReduction: [16, 8],
};

const LITE: VdviConfig = {
  ...PAPER,
  name: "lite",
  width: 320,
  height: 240,
  // METHOD.md §10 row 11 gave the widths that fit 0.8 GMAC at 320×240. Issue 12 then reshaped it for speed on
  // jax-js wasm, where a kernel's fixed cost, not its multiply-adds, sets the time of these narrow layers (a
  // lite block at 10×8 costs as much as one at 40×30), and the backward of a depthwise conv is k² small kernels:
  // - ConvNeXt depths (1, 1, 2, 1) instead of (2, 2, 4, 2), and 5×5 depthwise kernels instead of 7×7 (forward +
  //   backward at 80×60×32: 16 ms against 35 ms, one thread);
  // - Mix-FFN ratio 2 in the feature branch (its 32-channel input is already a learnt embedding);
  // - CMA averages keys and values over 4×4 cells at stage 2 and 2×2 at stage 3 (1200×75 and 300×75 attention
  //   instead of 1200² and 300²: the one departure from METHOD.md §5's global attention);
  // - the decoder runs folded (same function and parameters as SegFormer's order, minus the 4E→E conv at 1/4).
  rgb: { dims: [32, 64, 128, 256], depths: [1, 1, 2, 1], dropPath: 0.1, layerScaleInit: 1e-6, dwKernel: 5 },
  feat: {
    inChannels: 32,
    dims: [16, 32, 80, 128],
    depths: [1, 1, 1, 1],
    heads: [1, 1, 2, 4],
    sr: [8, 4, 2, 1],
    mlpRatio: 2,
    dropPath: 0.05,
    stem: "patch4",
  },
  decoderDim: 64,
  cmaPool: [4, 2, 1],
  decoderFold: true,
};

const TINY: VdviConfig = {
  ...PAPER,
  name: "tiny",
  width: 64,
  height: 48,
  // Every width divisible by 4 (CMA splits channels in quarters) and by the head counts; C_d + C_r ≥ 64 from
  // stage 2 on, so LAFS's C/16 ReLU layer keeps ≥ 4 units (with 1–2 units it is often dead for a whole batch).
  rgb: { dims: [8, 48, 48, 64], depths: [1, 1, 1, 1], dropPath: 0, layerScaleInit: 1e-6 },
  feat: {
    inChannels: 32,
    dims: [8, 16, 16, 32],
    depths: [1, 1, 1, 1],
    heads: [1, 1, 2, 2],
    sr: [4, 2, 1, 1],
    mlpRatio: 2,
    dropPath: 0,
    stem: "overlap7",
  },
  decoderDim: 16,
  numClasses: 4,
  cmaDropout: 0,
  decoderDropout: 0,
};

/** Names of the presets. */
export const CONFIG_NAMES = ["paper", "lite", "tiny"] as const;
/** A preset name. */
export type ConfigName = (typeof CONFIG_NAMES)[number];

const PRESETS: Record<ConfigName, VdviConfig> = { paper: PAPER, lite: LITE, tiny: TINY };

/** Overrides on top of a preset (the fields a command line or a training run changes). */
export type VdviOverrides = Partial<Pick<VdviConfig, "width" | "height" | "numClasses" | "task" | "ablation">>;

/**
 * A deep copy of a preset with overrides applied and checked. Throws a ConfigError naming the bad field: an
 * unknown preset, widths the heads or CMA's quarter split cannot divide, a non-positive size.
 */
export function vdviConfig(name: string, overrides: VdviOverrides = {}): VdviConfig {
  if (!(CONFIG_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError("--config", `unknown config "${name}" (expected one of ${CONFIG_NAMES.join(", ")})`);
  }
  const base = structuredClone(PRESETS[name as ConfigName]);
  const cfg: VdviConfig = { ...base, ...overrides };
  if (cfg.task === "depth") cfg.numClasses = 1;
  validateConfig(cfg);
  return cfg;
}

/** Check a config's internal consistency (also for configs read back from a checkpoint). */
export function validateConfig(cfg: VdviConfig): void {
  const posInt = (v: number, field: string): void => {
    if (!Number.isInteger(v) || v < 1) throw new ConfigError(field, `must be a positive integer, got ${v}`);
  };
  posInt(cfg.width, "width");
  posInt(cfg.height, "height");
  posInt(cfg.numClasses, "numClasses");
  posInt(cfg.decoderDim, "decoderDim");
  if (!["semantic", "depth"].includes(cfg.task)) throw new ConfigError("task", `expected semantic or depth, got "${cfg.task}"`);
  if (!["none", "no-vi", "no-rgb"].includes(cfg.ablation)) {
    throw new ConfigError("--ablate", `expected no-vi or no-rgb, got "${cfg.ablation}"`);
  }
  if (cfg.cmaPool !== undefined) {
    if (!Array.isArray(cfg.cmaPool) || cfg.cmaPool.length !== 3) throw new ConfigError("cmaPool", "expected three pooling factors (stages 2, 3, 4)");
    cfg.cmaPool.forEach((p, i) => posInt(p, `cmaPool.${i}`));
  }
  if (cfg.decoderFold !== undefined && typeof cfg.decoderFold !== "boolean") throw new ConfigError("decoderFold", "expected true or false");
  if (cfg.rgb.dwKernel !== undefined && (!Number.isInteger(cfg.rgb.dwKernel) || cfg.rgb.dwKernel < 1 || cfg.rgb.dwKernel % 2 !== 1)) {
    throw new ConfigError("rgb.dwKernel", `must be a positive odd integer, got ${cfg.rgb.dwKernel}`);
  }
  if (cfg.rgb.mlpRatio !== undefined) posInt(cfg.rgb.mlpRatio, "rgb.mlpRatio");
  for (let i = 0; i < 4; i++) {
    posInt(cfg.rgb.dims[i], `rgb.dims.${i}`);
    posInt(cfg.feat.dims[i], `feat.dims.${i}`);
    posInt(cfg.rgb.depths[i], `rgb.depths.${i}`);
    posInt(cfg.feat.depths[i], `feat.depths.${i}`);
    if (cfg.feat.dims[i] % cfg.feat.heads[i] !== 0) {
      throw new ConfigError(`feat.heads.${i}`, `${cfg.feat.heads[i]} heads do not divide width ${cfg.feat.dims[i]}`);
    }
    // CMA splits the feature width in quarters (m₁ = C_d/4) and the RGB width likewise (m₂ = C_r/4).
    if (i > 0 && (cfg.feat.dims[i] % 4 !== 0 || cfg.rgb.dims[i] % 4 !== 0)) {
      throw new ConfigError(`dims.${i}`, `SCC needs widths divisible by 4, got ${cfg.feat.dims[i]} and ${cfg.rgb.dims[i]}`);
    }
  }
}
