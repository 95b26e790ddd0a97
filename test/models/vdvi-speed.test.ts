/**
 * The speed reformulations of the lite config (issue 12): the folded MLP decoder computes the same function as
 * SegFormer's proj → resize → concat → fuse with the same parameters (values and gradients), CMA's key/value
 * pooling averages p×p cells exactly (a plain-JS oracle, border cells included) and is the identity at p = 1,
 * and lite's conv + linear multiply-adds equal a formula written out here.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { numpy as np, grad } from "../../src/nn/jax.ts";
import { Rng } from "../../src/core/rng.ts";
import { refParams, flattenParams, disposeParams } from "../../src/nn/params.ts";
import { vdviConfig } from "../../src/models/configs.ts";
import { ForwardContext, MlpDecoder, VdviNet, poolTokens, type DecoderParams } from "../../src/models/vdvi/index.ts";
import { disposeState } from "./vdvi-helpers.ts";

function randn(rng: Rng, shape: number[]): { arr: np.Array; host: Float32Array } {
  const host = rng.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1)));
  return { arr: np.array(host).reshape(shape), host };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test("folded decoder = SegFormer order: same logits, z, BN statistics and parameter gradients", () => {
  const rng = new Rng("fold");
  const dims = [8, 16, 24, 32];
  const E = 16;
  const plain = new MlpDecoder("decoder", dims, E, 5, 0);
  const folded = new MlpDecoder("decoder", dims, E, 5, 0, true);
  const p = plain.init(rng);
  // Non-zero biases, so the folded bias W_f,i·b_p,i is exercised.
  p.proj.forEach((l) => {
    l.bias?.dispose();
    l.bias = randn(rng, [E]).arr;
  });
  // 1/4 … 1/32 maps of a 44×40 input: 11×10, 6×5, 3×3, 2×2 (integer and non-integer resize factors).
  const sizes = [[11, 10], [6, 5], [3, 3], [2, 2]];
  const maps = sizes.map(([h, w], i) => randn(rng, [2, h, w, dims[i]]).arr);
  for (const train of [false, true]) {
    const run = (dec: MlpDecoder, q: DecoderParams) => {
      const ctx = new ForwardContext(dec.initState(), { train });
      const out = dec.apply(q, maps.map((m) => m.ref), 44, 40, ctx);
      const st = ctx.finish();
      const res = { logits: out.logits.dataSync() as Float32Array, z: out.z.dataSync() as Float32Array, mean: st["decoder.bn"].runningMean.dataSync() as Float32Array };
      st["decoder.bn"].runningVar.dispose();
      return res;
    };
    const a = run(plain, refParams(p));
    const b = run(folded, refParams(p));
    assert.ok(maxDiff(a.logits, b.logits) < 2e-4, `logits train=${train}: ${maxDiff(a.logits, b.logits)}`);
    assert.ok(maxDiff(a.z, b.z) < 2e-4, `z train=${train}`);
    assert.ok(maxDiff(a.mean, b.mean) < 2e-5, `BN running mean train=${train}`);
  }
  const r = randn(rng, [2, 44, 40, 5]).arr;
  const lossOf = (dec: MlpDecoder) => (q: DecoderParams) => {
    const ctx = new ForwardContext(dec.initState(), { train: true });
    const out = dec.apply(q, maps.map((m) => m.ref), 44, 40, ctx);
    disposeState(ctx.finish());
    out.z.dispose();
    return np.sum(out.logits.mul(r.ref));
  };
  const ga = flattenParams(grad(lossOf(plain))(refParams(p)));
  const gb = new Map(flattenParams(grad(lossOf(folded))(refParams(p))));
  for (const [path, g] of ga) {
    const x = g.dataSync() as Float32Array;
    const y = (gb.get(path) as np.Array).dataSync() as Float32Array;
    let scale = 0.05;
    for (const v of x) scale = Math.max(scale, Math.abs(v));
    assert.ok(maxDiff(x, y) < 1e-3 * scale, `gradient ${path}: ${maxDiff(x, y)} (scale ${scale})`);
  }
  disposeParams(p);
  r.dispose();
  maps.forEach((m) => m.dispose());
});

test("poolTokens averages p×p cells (border cells over their pixels inside the map); p = 1 is the identity", () => {
  const rng = new Rng("pool");
  const [N, h, H, W, c] = [2, 2, 5, 7, 3];
  const { arr, host } = randn(rng, [N, h, H * W, c]);
  for (const p of [2, 3]) {
    const Hp = Math.ceil(H / p);
    const Wp = Math.ceil(W / p);
    const want = new Float32Array(N * h * Hp * Wp * c);
    for (let b = 0; b < N * h; b++)
      for (let y = 0; y < Hp; y++)
        for (let x = 0; x < Wp; x++)
          for (let k = 0; k < c; k++) {
            let s = 0;
            let n = 0;
            for (let yy = y * p; yy < Math.min(H, y * p + p); yy++)
              for (let xx = x * p; xx < Math.min(W, x * p + p); xx++) {
                s += host[(b * H * W + yy * W + xx) * c + k];
                n++;
              }
            want[((b * Hp + y) * Wp + x) * c + k] = s / n;
          }
    const got = poolTokens(arr.ref, H, W, p);
    assert.deepEqual(got.shape, [N, h, Hp * Wp, c]);
    assert.ok(maxDiff(got.dataSync() as Float32Array, want) < 1e-5, `p=${p}`);
  }
  assert.ok(maxDiff(poolTokens(arr.ref, H, W, 1).dataSync() as Float32Array, host) === 0);
  arr.dispose();
});

test("lite at 320×240: conv + linear multiply-adds equal the formula, ≤ 0.8 GMAC; CMA pooling cuts stage-2 attention 15×", () => {
  const cfg = vdviConfig("lite");
  const { rgb, feat, decoderDim: E, numClasses: K } = cfg;
  // Stage grids: 1/4 = 60×80, 1/8 = 30×40, 1/16 = 15×20, 1/32 = 8×10 (the 2×2 downsample pads 15 → 16 rows).
  const px = [60 * 80, 30 * 40, 15 * 20, 8 * 10];
  let macs = 0;
  // ConvNeXt: 4×4/4 stem, 2×2/2 downsamples, blocks (dw 5×5 + 2 pointwise C↔4C).
  assert.equal(rgb.dwKernel, 5);
  assert.equal(rgb.mlpRatio ?? 4, 4);
  macs += px[0] * 16 * 3 * rgb.dims[0];
  for (let s = 0; s < 4; s++) {
    if (s > 0) macs += px[s] * 4 * rgb.dims[s - 1] * rgb.dims[s];
    macs += rgb.depths[s] * px[s] * (25 * rgb.dims[s] + 8 * rgb.dims[s] * rgb.dims[s]);
  }
  // MiT: 4×4/4 space-to-depth stem, 3×3/2 embeddings, blocks (q, kv on the sr-reduced map, proj, sr conv, Mix-FFN).
  for (let s = 0; s < 4; s++) {
    const C = feat.dims[s];
    const inCh = s === 0 ? 32 : feat.dims[s - 1];
    macs += px[s] * (s === 0 ? 16 : 9) * inCh * C;
    const r = feat.sr[s];
    const grid = [[60, 80], [30, 40], [15, 20], [8, 10]][s];
    const reduced = r > 1 ? Math.floor(grid[0] / r) * Math.floor(grid[1] / r) : px[s];
    const hid = feat.mlpRatio * C;
    const block = 2 * px[s] * C * C + reduced * 2 * C * C + (r > 1 ? reduced * r * r * C * C : 0) + 2 * px[s] * C * hid + px[s] * 9 * hid;
    macs += feat.depths[s] * block;
  }
  // SCC at stages 2–4: LAFS (4 FCs on the pooled vector, 1×1 conv C→C_d), CMA (kq1, kq2, v, out).
  for (let s = 1; s < 4; s++) {
    const Cd = feat.dims[s];
    const Cr = rgb.dims[s];
    const C = Cd + Cr;
    macs += 2 * C * Math.floor(C / 16) + 2 * C * Math.floor(C / 8) + px[s] * C * Cd;
    macs += px[s] * (Cd * (Cr / 2) + Cr * (Cr / 2) + Cd * (Cd / 2) + (Cd / 2) * Cd);
  }
  // Folded decoder: per stage C_i → E at its own grid plus the E·E·C_i weight product; classifier at 1/4.
  for (let s = 0; s < 4; s++) macs += px[s] * feat.dims[s] * E + E * E * feat.dims[s];
  macs += px[0] * E * K;
  const net = new VdviNet(cfg);
  const { flops } = net.analyze(1, 240, 320);
  assert.equal(flops.macs, macs);
  assert.ok(macs <= 0.8e9, `lite ${macs / 1e9} GMAC`);
  const att = flops.entries.find((e) => e.path === "scc.0.cma.attention");
  const L = px[1];
  const m = (feat.dims[1] + rgb.dims[1]) / 4;
  // 4×4 cells over the 30×40 grid: 8×10 keys (the last cell row holds 2 pixel rows), against L = 1200.
  assert.equal(att?.macsAll, 2 * L * 80 * m);
  // The paper config keeps full attention and SegFormer's decoder order.
  const paper = vdviConfig("paper");
  assert.ok(!(paper.decoderFold ?? false));
  assert.ok((paper.cmaPool ?? [1, 1, 1]).every((p) => p === 1));
});
