/**
 * Size and cost of a VDVI network at an input size (`rtgs2 model-info`, ARCHITECTURE.md §5): parameters, and
 * multiply-adds by shape propagation (no forward pass), in total and per part.
 */
import { Rng } from "../../core/rng.ts";
import { countParams, disposeParams, flattenParams } from "../../nn/params.ts";
import type { VdviConfig } from "../configs.ts";
import { PART_PREFIXES, VdviNet } from "./net.ts";

/** Parameters and multiply-adds of one part of the network. */
export interface PartInfo {
  params: number;
  gmacs: number;
  gmacsAll: number;
}

/** What `rtgs2 model-info --json` prints. */
export interface ModelInfo {
  config: string;
  task: string;
  ablation: string;
  width: number;
  height: number;
  /** Trainable parameters (BatchNorm running statistics excluded), a plain count. */
  params: number;
  /** Conv and linear multiply-adds, ×10⁹ (the convention of AsymFormer's published 36.0). */
  gmacs: number;
  /** `gmacs` plus attention products (QKᵀ, AV), norms, element-wise ops and resizes, ×10⁹. */
  gmacsAll: number;
  /** 2 × gmacs. */
  gflops: number;
  /** Per part: RGB branch, feature branch, fusion (SCC, or no-vi's adapters) and decoder. */
  parts: Record<keyof typeof PART_PREFIXES, PartInfo>;
}

/** Parameters and cost of `config` at `width × height`, batch 1. */
export function modelInfo(config: VdviConfig, width: number, height: number): ModelInfo {
  const net = new VdviNet(config);
  const params = net.init(new Rng(0));
  const leaves = flattenParams(params).map(([path, a]) => [path, a.size] as const);
  const total = countParams(params);
  disposeParams(params);
  const { flops } = net.analyze(1, height, width);
  const parts = {} as Record<keyof typeof PART_PREFIXES, PartInfo>;
  for (const [part, prefixes] of Object.entries(PART_PREFIXES) as [keyof typeof PART_PREFIXES, readonly string[]][]) {
    const inPart = (path: string): boolean => prefixes.some((p) => path === p || path.startsWith(`${p}.`));
    const cost = flops.byPrefix(prefixes);
    let macs = 0;
    let macsAll = 0;
    for (const p of prefixes) {
      macs += cost[p].macs;
      macsAll += cost[p].macsAll;
    }
    parts[part] = { params: leaves.filter(([path]) => inPart(path)).reduce((a, [, n]) => a + n, 0), gmacs: macs / 1e9, gmacsAll: macsAll / 1e9 };
  }
  return {
    config: config.name,
    task: config.task,
    ablation: config.ablation,
    width,
    height,
    params: total,
    gmacs: flops.macs / 1e9,
    gmacsAll: flops.macsAll / 1e9,
    gflops: (2 * flops.macs) / 1e9,
    parts,
  };
}
