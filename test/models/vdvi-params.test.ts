/**
 * Parameter counts of every VDVI sub-module against formulas written out here (independently of the layer
 * code), and the paper/lite budgets of issue 12: paper 33.0 M ± 0.7 M params and 36 ± 4 GMACs at 640×480,
 * lite ≤ 0.8 GMAC at 320×240.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/core/rng.ts";
import { countParams, disposeParams, type ParamTree } from "../../src/nn/params.ts";
import { vdviConfig } from "../../src/models/configs.ts";
import { ConvNext, ConvNextBlock, Cma, Lafs, MitBlock, MlpDecoder, Mit, VdviNet, modelInfo } from "../../src/models/vdvi/index.ts";

/** Count a freshly initialized tree and release it. */
function count(init: (rng: Rng) => ParamTree): number {
  const p = init(new Rng(0));
  const n = countParams(p);
  disposeParams(p);
  return n;
}

// Independent formulas (weights [out, in], biases where PyTorch has them, except CMA's v and out projections,
// whose biases BatchNorm cancels).
const convnextBlock = (C: number, k = 7, r = 4): number => k * k * C + C + 2 * C + (r * C * C + r * C) + (r * C * C + C) + C;
const mitBlock = (C: number, sr: number, ratio: number): number => {
  const h = ratio * C;
  const attn = C * C + C + (2 * C * C + 2 * C) + C * C + C + (sr > 1 ? sr * sr * C * C + C + 2 * C : 0);
  const ffn = C * h + h + 9 * h + h + h * C + C;
  return 2 * C + attn + 2 * C + ffn;
};
const lafs = (Cd: number, Cr: number): number => {
  const C = Cd + Cr;
  return 2 * C * Math.floor(C / 16) + 2 * C * Math.floor(C / 8) + C * Cd + 2 * Cd;
};
const cma = (Cd: number, Cr: number): number => {
  const m1 = Cd / 4;
  const m2 = Cr / 4;
  return 2 * Cd + 2 * Cr + (Cd * 2 * m2 + 2 * m2) + (Cr * 2 * m2 + 2 * m2) + Cd * 2 * m1 + 2 * m1 * Cd + 2 * Cd;
};
const decoder = (dims: number[], E: number, K: number): number =>
  dims.reduce((a, c) => a + c * E + E, 0) + 4 * E * E + 2 * E + E * K + K;

test("ConvNeXt block, MiT block, LAFS, CMA and decoder match their formulas", () => {
  for (const C of [8, 96, 768]) assert.equal(count((r) => new ConvNextBlock("b", C, 0, 1e-6).init(r)), convnextBlock(C), `ConvNeXt block C=${C}`);
  for (const [C, sr, ratio] of [
    [32, 8, 4],
    [160, 2, 4],
    [256, 1, 4],
    [8, 4, 2],
  ]) {
    assert.equal(count((r) => new MitBlock("b", C, 1, sr, ratio, 0).init(r)), mitBlock(C, sr, ratio), `MiT block C=${C} sr=${sr}`);
  }
  for (const [Cd, Cr] of [
    [64, 192],
    [160, 384],
    [256, 768],
    [32, 64],
  ]) {
    assert.equal(count((r) => new Lafs("l", Cd, Cr, [16, 8]).init(r)), lafs(Cd, Cr), `LAFS ${Cd}+${Cr}`);
    assert.equal(count((r) => new Cma("c", Cd, Cr, 0.2).init(r)), cma(Cd, Cr), `CMA ${Cd}+${Cr}`);
  }
  assert.equal(count((r) => new MlpDecoder("d", [32, 64, 160, 256], 256, 28, 0.1).init(r)), decoder([32, 64, 160, 256], 256, 28));
});

test("paper ConvNeXt branch equals timm convnext_tiny without its classifier and final norm (27,818,592)", () => {
  const cfg = vdviConfig("paper");
  // 28,589,128 (timm) − 768·1000 − 1000 (head) − 2·768 (final LayerNorm).
  assert.equal(count((r) => new ConvNext("rgb", 3, cfg.rgb).init(r)), 28_589_128 - 769_000 - 1536);
});

test("whole networks: branch sums, and the paper's 33.0 M ± 0.7 M params and 36 ± 4 GMACs", () => {
  for (const name of ["tiny", "lite", "paper"]) {
    const cfg = vdviConfig(name);
    const { rgb, feat } = cfg;
    const stem = 16 * 3 * rgb.dims[0] + rgb.dims[0] + 2 * rgb.dims[0];
    let cnx = stem;
    for (let s = 0; s < 4; s++) {
      if (s > 0) cnx += 2 * rgb.dims[s - 1] + 4 * rgb.dims[s - 1] * rgb.dims[s] + rgb.dims[s];
      cnx += rgb.depths[s] * convnextBlock(rgb.dims[s], rgb.dwKernel ?? 7, rgb.mlpRatio ?? 4);
    }
    let mit = 0;
    for (let s = 0; s < 4; s++) {
      const inCh = s === 0 ? feat.inChannels : feat.dims[s - 1];
      const k = s > 0 ? 3 : feat.stem === "overlap7" ? 7 : 4;
      mit += k * k * inCh * feat.dims[s] + feat.dims[s] + 2 * feat.dims[s];
      mit += feat.depths[s] * mitBlock(feat.dims[s], feat.sr[s], feat.mlpRatio) + 2 * feat.dims[s];
    }
    let scc = 0;
    for (let s = 1; s < 4; s++) scc += lafs(feat.dims[s], rgb.dims[s]) + cma(feat.dims[s], rgb.dims[s]);
    const dec = decoder(feat.dims, cfg.decoderDim, cfg.numClasses);
    assert.equal(count((r) => new Mit("feat", feat).init(r)), mit, `${name} MiT`);
    const net = new VdviNet(cfg);
    const total = count((r) => net.init(r));
    assert.equal(total, cnx + mit + scc + dec, `${name} total`);
    const noVi = count((r) => new VdviNet({ ...cfg, ablation: "no-vi" }).init(r));
    assert.equal(noVi, cnx + dec + [0, 1, 2, 3].reduce((a, s) => a + rgb.dims[s] * feat.dims[s] + feat.dims[s], 0), `${name} no-vi`);
    assert.equal(count((r) => new VdviNet({ ...cfg, ablation: "no-rgb" }).init(r)), mit + dec, `${name} no-rgb`);
    const gmacs = net.analyze(1, cfg.height, cfg.width).flops.macs / 1e9;
    if (name === "paper") {
      assert.ok(Math.abs(total - 33.0e6) <= 0.7e6, `paper params ${total}`);
      assert.ok(Math.abs(gmacs - 36) <= 4, `paper GMACs ${gmacs}`);
    }
    if (name === "lite") assert.ok(gmacs <= 0.8, `lite GMACs ${gmacs}`);
  }
});

test("modelInfo: parts add up to the totals; gflops = 2 × gmacs; the 32-channel stem explains paper's +0.85 GMAC", () => {
  const info = modelInfo(vdviConfig("paper"), 640, 480);
  const parts = Object.values(info.parts);
  assert.equal(parts.reduce((a, p) => a + p.params, 0), info.params);
  assert.ok(Math.abs(parts.reduce((a, p) => a + p.gmacs, 0) - info.gmacs) < 1e-9);
  assert.ok(Math.abs(parts.reduce((a, p) => a + p.gmacsAll, 0) - info.gmacsAll) < 1e-9);
  assert.equal(info.gflops, 2 * info.gmacs);
  assert.ok(info.gmacsAll > info.gmacs);
  // AsymFormer's 36.0 has a 1-channel depth stem; ours reads 32 feature channels: 7·7·31·32 MACs more per 1/4 pixel.
  const extra = (7 * 7 * 31 * 32 * 120 * 160) / 1e9;
  assert.ok(Math.abs(info.gmacs - extra - 36.0) < 0.1, `paper GMACs ${info.gmacs} − ${extra}`);
  const noVi = modelInfo(vdviConfig("lite", { ablation: "no-vi" }), 320, 240);
  assert.equal(noVi.parts.featureBranch.params, 0);
  assert.ok(noVi.parts.fusion.params > 0, "no-vi's 1×1 adapters count as fusion");
});
