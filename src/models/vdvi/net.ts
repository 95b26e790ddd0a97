/**
 * The VDVI network (METHOD.md §5, Eq. 4): ConvNeXt RGB branch ‖ MiT feature branch, SCC fusion at stages 2–4,
 * SegFormer MLP decoder, semantic or depth head; and the `no-vi` / `no-rgb` ablations (§10 row 12), which build
 * only the branch that remains.
 *
 *   r₁ = CNX₁(I), m₁ = MiT₁(F); for k = 2..4: r_k = CNX_k(r_{k−1}), m_k = SCC_k(MiT_k(m_{k−1}), r_k);
 *   (logits, z) = D(m₁, m₂, m₃, m₄).
 */
import { numpy as np, nn } from "../../nn/jax.ts";
import type { Rng } from "../../core/rng.ts";
import { ConfigError } from "../../core/errors.ts";
import { Linear, type LinearParams } from "../../nn/layers/index.ts";
import { FlopCounter } from "../../nn/flops.ts";
import type { VdviConfig } from "../configs.ts";
import { validateConfig } from "../configs.ts";
import { ForwardContext, type BnStates, type ForwardOptions } from "./context.ts";
import { ConvNext, type ConvNextStageParams } from "./convnext.ts";
import { Mit, type MitStageParams } from "./mit.ts";
import { Scc, type SccParams } from "./scc.ts";
import { MlpDecoder, type DecoderParams } from "./decoder.ts";

/** Trainable parameters of the network. Absent branches (ablations) are absent keys, not zeros. */
export type VdviParams = {
  rgb?: ConvNextStageParams[];
  feat?: MitStageParams[];
  /** SCC at stages 2, 3, 4 (index 0, 1, 2). */
  scc?: SccParams[];
  /** `no-vi`: 1×1 convs from the RGB widths to the decoder's four input widths. */
  adapt?: LinearParams[];
  decoder: DecoderParams;
};

/** Network inputs, NHWC float32: the rendered RGB image (0–1) and the splatted feature map. */
export interface VdviInput {
  /** `[N, H, W, 3]`; unused (may be omitted) under `no-rgb`. */
  rgb?: np.Array;
  /** `[N, H, W, C_f]` (32 channels); unused (may be omitted) under `no-vi`. */
  features?: np.Array;
}

/** Output of one forward call. */
export interface VdviOutput {
  /** `[N, H, W, K]` class logits, or `[N, H, W, 1]` depth in metres (softplus) for `task: depth`. */
  logits: np.Array;
  /** `[N, ⌈H/4⌉, ⌈W/4⌉, E]`: the decoder embedding before the classifier (L_NC's features). */
  z: np.Array;
  /** BatchNorm running statistics after the call (updated in training mode, the same arrays in eval mode). */
  state: BnStates;
}

/** Stage shapes and multiply-add counts of a network at an input size, without running it. */
export interface VdviAnalysis {
  flops: FlopCounter;
  /** Output shape of each stage by name: `rgb.k`, `feat.k` (MiT output d_k), `fused.k`, `adapt.k`, `z`, `logits`. */
  shapes: Record<string, number[]>;
}

/** The VDVI network for one config. */
export class VdviNet {
  readonly rgb: ConvNext | null;
  readonly feat: Mit | null;
  readonly scc: Scc[];
  readonly adapt: Linear[];
  readonly decoder: MlpDecoder;

  constructor(readonly config: VdviConfig) {
    validateConfig(config);
    const ab = config.ablation;
    this.rgb = ab === "no-rgb" ? null : new ConvNext("rgb", 3, config.rgb);
    this.feat = ab === "no-vi" ? null : new Mit("feat", config.feat);
    this.scc =
      ab === "none"
        ? [1, 2, 3].map(
            (s) => new Scc(`scc.${s - 1}`, config.feat.dims[s], config.rgb.dims[s], config.lafsReduction, config.cmaDropout, config.cmaPool?.[s - 1] ?? 1),
          )
        : [];
    this.adapt = ab === "no-vi" ? [0, 1, 2, 3].map((s) => new Linear(`adapt.${s}`, config.rgb.dims[s], config.feat.dims[s])) : [];
    this.decoder = new MlpDecoder("decoder", config.feat.dims, config.decoderDim, config.numClasses, config.decoderDropout, config.decoderFold ?? false);
  }

  /** Fresh parameters, drawn in a fixed order from `rng`. */
  init(rng: Rng): VdviParams {
    const p: VdviParams = { decoder: this.decoder.init(rng.fork("decoder")) };
    if (this.rgb !== null) p.rgb = this.rgb.init(rng.fork("rgb"));
    if (this.feat !== null) p.feat = this.feat.init(rng.fork("feat"));
    if (this.scc.length > 0) {
      const r = rng.fork("scc");
      p.scc = this.scc.map((s) => s.init(r));
    }
    if (this.adapt.length > 0) {
      const r = rng.fork("adapt");
      p.adapt = this.adapt.map((a) => a.init(r));
    }
    return p;
  }

  /** Fresh BatchNorm running statistics (mean 0, variance 1), keyed by path. */
  initState(): BnStates {
    let s: BnStates = this.decoder.initState();
    for (const scc of this.scc) s = { ...s, ...scc.initState() };
    return s;
  }

  /**
   * Forward pass. Consumes `params`, the inputs and (in training mode) `state` and `options.key`; in eval mode
   * the returned state holds the same arrays that were passed in.
   */
  apply(params: VdviParams, state: BnStates, input: VdviInput, options: ForwardOptions): VdviOutput {
    const ctx = new ForwardContext(state, options);
    const { rgb, features } = input;
    const ab = this.config.ablation;
    const ref = ab === "no-rgb" ? features : rgb;
    if (ref === undefined) throw new ConfigError(ab === "no-rgb" ? "input.features" : "input.rgb", "is required by this config");
    const [, H, W] = ref.shape;
    if (ab === "none" && (features === undefined || features.shape[1] !== H || features.shape[2] !== W)) {
      throw new ConfigError("input.features", `must be an ${W}×${H} map like the RGB image`);
    }
    const maps: np.Array[] = [];
    if (ab === "no-rgb") {
      rgb?.dispose();
      const mit = this.feat as Mit;
      const fp = params.feat as MitStageParams[];
      let m = features as np.Array;
      for (let s = 0; s < 4; s++) {
        m = mit.applyStage(s, fp[s], m, ctx);
        ctx.stage(`feat.${s + 1}`, m);
        maps.push(m.ref);
      }
      m.dispose();
    } else if (ab === "no-vi") {
      features?.dispose();
      const cnx = this.rgb as ConvNext;
      const rp = params.rgb as ConvNextStageParams[];
      const ap = params.adapt as LinearParams[];
      let r = rgb as np.Array;
      for (let s = 0; s < 4; s++) {
        r = cnx.applyStage(s, rp[s], r, ctx);
        ctx.stage(`rgb.${s + 1}`, r);
        const a = this.adapt[s].apply(ap[s], r.ref);
        ctx.stage(`adapt.${s + 1}`, a);
        maps.push(a);
      }
      r.dispose();
    } else {
      const cnx = this.rgb as ConvNext;
      const mit = this.feat as Mit;
      const rp = params.rgb as ConvNextStageParams[];
      const fp = params.feat as MitStageParams[];
      const sp = params.scc as SccParams[];
      let r = rgb as np.Array;
      let m = features as np.Array;
      for (let s = 0; s < 4; s++) {
        r = cnx.applyStage(s, rp[s], r, ctx);
        ctx.stage(`rgb.${s + 1}`, r);
        const d = mit.applyStage(s, fp[s], m, ctx);
        ctx.stage(`feat.${s + 1}`, d);
        if (s === 0) {
          m = d;
        } else {
          // The RGB stream is only read by SCC: r keeps flowing into the next ConvNeXt stage unchanged.
          m = this.scc[s - 1].apply(sp[s - 1], d, r.ref, ctx);
          ctx.stage(`fused.${s + 1}`, m);
        }
        maps.push(m.ref);
      }
      r.dispose();
      m.dispose();
    }
    const out = this.decoder.apply(params.decoder, maps, H, W, ctx);
    ctx.stage("z", out.z);
    const logits = this.config.task === "depth" ? nn.softplus(out.logits) : out.logits;
    ctx.stage("logits", logits);
    return { logits, z: out.z, state: ctx.finish() };
  }

  /** Stage shapes and multiply-adds at batch N and an input of W×H, by shape propagation only. */
  analyze(N: number, H: number, W: number): VdviAnalysis {
    const fc = new FlopCounter();
    const shapes: Record<string, number[]> = {};
    const maps: number[][] = [];
    const ab = this.config.ablation;
    let r = [N, H, W, 3];
    let m = [N, H, W, this.config.feat.inChannels];
    for (let s = 0; s < 4; s++) {
      if (this.rgb !== null) {
        r = this.rgb.countStage(fc, s, r);
        shapes[`rgb.${s + 1}`] = r;
      }
      if (this.feat !== null) {
        m = this.feat.countStage(fc, s, m);
        shapes[`feat.${s + 1}`] = m;
      }
      if (ab === "none" && s > 0) {
        if (r[1] !== m[1] || r[2] !== m[2]) {
          throw new ConfigError(`scc.${s - 1}`, `stage ${s + 1} maps differ: RGB ${r[2]}×${r[1]}, features ${m[2]}×${m[1]}`);
        }
        this.scc[s - 1].count(fc, m);
        shapes[`fused.${s + 1}`] = m;
      }
      if (ab === "no-vi") {
        fc.add(this.adapt[s].path, this.adapt[s].macs(r));
        const a = [...r.slice(0, 3), this.config.feat.dims[s]];
        shapes[`adapt.${s + 1}`] = a;
        maps.push(a);
      } else {
        maps.push(m);
      }
    }
    this.decoder.count(fc, maps, H, W);
    shapes.z = [...maps[0].slice(0, 3), this.config.decoderDim];
    shapes.logits = [N, H, W, this.config.numClasses];
    return { flops: fc, shapes };
  }
}

/** The parts of a network whose costs and times are reported separately (ARCHITECTURE.md §5 `breakdown`). */
export const PART_PREFIXES = { rgbBranch: ["rgb"], featureBranch: ["feat"], fusion: ["scc", "adapt"], decoder: ["decoder"] } as const;
