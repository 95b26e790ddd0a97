import { test } from "node:test";
import assert from "node:assert/strict";
import { numpy as np, random, grad } from "../../src/nn/jax.ts";
import { Rng } from "../../src/core/rng.ts";
import { ShapeError } from "../../src/core/errors.ts";
import {
  BatchNorm,
  CrossAttention,
  LayerNorm,
  MultiHeadAttention,
  SpatialReductionAttention,
  channelShuffle,
  concatChannels,
  dropPath,
  dropout,
  gelu,
  geluFast,
  relu,
  resizeBilinear,
  resizeLabelsNearest,
  resizeNearest,
  sigmoid,
  softmax,
  splitChannels,
  type AttentionParams,
  type NormParams,
  type SraParams,
} from "../../src/nn/layers/index.ts";
import { refParams, type ParamTree } from "../../src/nn/params.ts";
import { assertClose, gradCheck, randn, toF64, toHost, weightedSum } from "./helpers.ts";
import { attentionRef, bilinearRef, convRef, erfRef, layerNormRef, linearRef, softmaxRef } from "./reference.ts";

const host = (a: np.Array): Float64Array => toHost(a.ref);

test("LayerNorm over channels matches the formula on NHWC maps and tokens; gradient matches finite differences", () => {
  const rng = new Rng("ln");
  const ln = new LayerNorm("vd.norm", 6);
  const p: NormParams = { weight: randn(rng, [6]).arr, bias: randn(rng, [6]).arr };
  for (const shape of [[2, 3, 4, 6], [3, 6]]) {
    const { arr: x, host: xh } = randn(rng, shape);
    const y = ln.apply(refParams(p), x.ref);
    assertClose(toHost(y), layerNormRef(xh, 6, host(p.weight), host(p.bias), 1e-6), 1e-9, 0, "layernorm");
    const r = randn(rng, shape).arr;
    gradCheck((q: NormParams, xx: np.Array) => weightedSum(ln.apply(q, xx), r.ref), refParams(p), x, rng, { what: "ln" });
    r.dispose();
  }
});

test("BatchNorm: training mode uses batch statistics and updates running ones; eval mode uses running ones", () => {
  const rng = new Rng("bn");
  const bn = new BatchNorm("fuse.bn", 3, { momentum: 0.2, eps: 1e-3 });
  const p: NormParams = { weight: randn(rng, [3]).arr, bias: randn(rng, [3]).arr };
  const state = { runningMean: randn(rng, [3]).arr, runningVar: np.array(new Float64Array([0.5, 1.5, 2])) };
  const xs = [2, 3, 2, 3];
  const { arr: x, host: xh } = randn(rng, xs, 2);
  const g = host(p.weight);
  const b = host(p.bias);
  const rm = host(state.runningMean);
  const rv = host(state.runningVar);
  const n = xh.length / 3;
  const mean = [0, 0, 0];
  const vars = [0, 0, 0];
  for (let i = 0; i < xh.length; i++) mean[i % 3] += xh[i] / n;
  for (let i = 0; i < xh.length; i++) vars[i % 3] += (xh[i] - mean[i % 3]) ** 2 / n;
  const out = bn.apply(refParams(p), { runningMean: state.runningMean.ref, runningVar: state.runningVar.ref }, x.ref, true);
  const expectTrain = xh.map((v, i) => ((v - mean[i % 3]) / Math.sqrt(vars[i % 3] + 1e-3)) * g[i % 3] + b[i % 3]);
  assertClose(toHost(out.y), expectTrain, 1e-9, 0, "bn train");
  assertClose(toHost(out.state.runningMean), rm.map((v, c) => 0.8 * v + 0.2 * mean[c]), 1e-12, 0, "running mean");
  assertClose(toHost(out.state.runningVar), rv.map((v, c) => 0.8 * v + 0.2 * vars[c] * (n / (n - 1))), 1e-12, 0, "running var");
  const ev = bn.apply(refParams(p), { runningMean: state.runningMean.ref, runningVar: state.runningVar.ref }, x.ref, false);
  const expectEval = xh.map((v, i) => ((v - rm[i % 3]) / Math.sqrt(rv[i % 3] + 1e-3)) * g[i % 3] + b[i % 3]);
  assertClose(toHost(ev.y), expectEval, 1e-9, 0, "bn eval");
  assertClose(toHost(ev.state.runningMean), rm, 0, 0, "eval leaves running mean");
  ev.state.runningVar.dispose();
  const r = randn(rng, xs).arr;
  const loss = (q: NormParams, xx: np.Array): np.Array => {
    const o = bn.apply(q, { runningMean: state.runningMean.ref, runningVar: state.runningVar.ref }, xx, true);
    o.state.runningMean.dispose();
    o.state.runningVar.dispose();
    return weightedSum(o.y, r.ref);
  };
  gradCheck(loss, p, x, rng, { what: "bn train" });
});

test("geluFast is the exact (erf) GELU to 5e-5 on a dense grid out to ±8, and its gradient GELU's to 3e-3", () => {
  const n = 1601;
  const xs = new Float64Array(n).map((_, i) => -8 + (16 * i) / (n - 1));
  const exact = (v: number): number => 0.5 * v * (1 + erfRef(v / Math.SQRT2));
  // d/dx x·Φ(x) = Φ(x) + x·φ(x).
  const dExact = (v: number): number => 0.5 * (1 + erfRef(v / Math.SQRT2)) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI);
  const x = np.array(Float32Array.from(xs));
  const y = geluFast(x.ref).dataSync() as Float32Array;
  const g = grad((v: np.Array) => np.sum(geluFast(v)))(x).dataSync() as Float32Array;
  let errY = 0;
  let errG = 0;
  for (let i = 0; i < n; i++) {
    errY = Math.max(errY, Math.abs(y[i] - exact(xs[i])));
    errG = Math.max(errG, Math.abs(g[i] - dExact(xs[i])));
  }
  assert.ok(errY < 5e-5, `value error ${errY}`);
  assert.ok(errG < 3e-3, `gradient error ${errG}`);
  // Odd symmetry of erf: gelu(x) − gelu(−x) = x.
  for (let i = 0; i < n; i++) assert.ok(Math.abs(y[i] - y[n - 1 - i] - xs[i]) < 1e-5);
});

test("activations match their formulas and their gradients match finite differences", () => {
  const rng = new Rng("act");
  const { arr: x, host: xh } = randn(rng, [4, 5], 2);
  const tanhGelu = (v: number): number => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    // jax-js evaluates tanh, erf and exp to about float32 accuracy even on float64 arrays, hence ~1e-6 tolerances.
  assertClose(toHost(gelu(x.ref, true)), xh.map(tanhGelu), 1e-6, 1e-5, "gelu tanh");
  assertClose(toHost(gelu(x.ref)), xh.map((v) => 0.5 * v * (1 + erfRef(v / Math.SQRT2))), 1e-6, 1e-6, "gelu exact");
  assertClose(toHost(relu(x.ref)), xh.map((v) => Math.max(v, 0)), 0, 0, "relu");
  assertClose(toHost(sigmoid(x.ref)), xh.map((v) => 1 / (1 + Math.exp(-v))), 1e-7, 1e-6, "sigmoid");
  assertClose(toHost(softmax(x.ref)), softmaxRef(xh, 5), 1e-7, 1e-6, "softmax");
  // Finite differences of jax-js's own float64 forward would be swamped by its float32-accurate tanh/erf/exp,
  // so the analytic gradient is checked against central differences of the plain-JS float64 reference.
  const { arr: r, host: rh } = randn(rng, [4, 5]);
  const refs: [string, (v: np.Array) => np.Array, (v: Float64Array) => Float64Array][] = [
    ["gelu tanh", (v) => gelu(v, true), (v) => v.map(tanhGelu)],
    ["gelu exact", (v) => gelu(v), (v) => v.map((t) => 0.5 * t * (1 + erfRef(t / Math.SQRT2)))],
    ["sigmoid", sigmoid, (v) => v.map((t) => 1 / (1 + Math.exp(-t)))],
    ["softmax", (v) => softmax(v, -1), (v) => softmaxRef(v, 5)],
    ["relu", relu, (v) => v.map((t) => Math.max(t, 0))],
  ];
  for (const [name, f, ref] of refs) {
    const analytic = toHost(grad((xx: np.Array) => weightedSum(f(xx), r.ref))(x.ref));
    const refLoss = (v: Float64Array): number => ref(v).reduce((acc, y, i) => acc + y * rh[i], 0);
    const eps = 1e-5;
    const fd = xh.map((_, i) => {
      const plus = xh.slice();
      plus[i] += eps;
      const minus = xh.slice();
      minus[i] -= eps;
      return (refLoss(plus) - refLoss(minus)) / (2 * eps);
    });
    assertClose(analytic, fd, 1e-5, 1e-5, `${name} gradient`);
  }
  r.dispose();
  x.dispose();
});

function projectRef(p: AttentionParams, key: "q" | "kv" | "proj", x: Float64Array, rows: number, I: number): Float64Array {
  const w = host(p[key].weight);
  return linearRef(x, rows, I, w, w.length / I, host(p[key].bias as np.Array));
}

test("multi-head self-attention matches naive attention; gradient matches finite differences", () => {
  const rng = new Rng("mhsa");
  const att = new MultiHeadAttention("vi.blocks.0.attn", 8, 2);
  const p = toF64(att.init(rng));
  const { arr: x, host: xh } = randn(rng, [1, 5, 8]);
  const q = projectRef(p, "q", xh, 5, 8);
  const kv = projectRef(p, "kv", xh, 5, 8);
  const k = new Float64Array(40);
  const v = new Float64Array(40);
  for (let i = 0; i < 5; i++) for (let c = 0; c < 8; c++) {
    k[i * 8 + c] = kv[i * 16 + c];
    v[i * 8 + c] = kv[i * 16 + 8 + c];
  }
  const expected = projectRef(p, "proj", attentionRef(q, k, v, 5, 5, 8, 2), 5, 8);
  assertClose(toHost(att.apply(refParams(p), x.ref)), expected, 1e-7, 1e-6, "mhsa");
  const r = randn(rng, [1, 5, 8]).arr;
  gradCheck((pp: AttentionParams, xx: np.Array) => weightedSum(att.apply(pp, xx), r.ref), p, x, rng, { what: "mhsa", samples: 3 });
  r.dispose();
});

test("spatial-reduction attention (r = 2, odd map) matches conv + LayerNorm + naive attention; gradient checks", () => {
  const rng = new Rng("sra");
  const H = 5;
  const W = 4;
  const D = 4;
  const sra = new SpatialReductionAttention("vi.stages.0.blocks.0.attn", D, 2, 2);
  const p = toF64(sra.init(rng));
  const { arr: x, host: xh } = randn(rng, [1, H * W, D]);
  const q = projectRef(p, "q", xh, H * W, D);
  const sr = p.sr as { weight: np.Array; bias: np.Array };
  const red = convRef(xh, [1, H, W, D], host(sr.weight), D, 2, 2, 0, host(sr.bias));
  const Lk = red.shape[1] * red.shape[2];
  const norm = p.norm as NormParams;
  const normed = layerNormRef(red.y, D, host(norm.weight), host(norm.bias), 1e-5);
  const kv = projectRef(p, "kv", normed, Lk, D);
  const k = new Float64Array(Lk * D);
  const v = new Float64Array(Lk * D);
  for (let i = 0; i < Lk; i++) for (let c = 0; c < D; c++) {
    k[i * D + c] = kv[i * 2 * D + c];
    v[i * D + c] = kv[i * 2 * D + D + c];
  }
  const expected = projectRef(p, "proj", attentionRef(q, k, v, H * W, Lk, D, 2), H * W, D);
  assertClose(toHost(sra.apply(refParams(p), { tokens: x.ref, height: H, width: W })), expected, 1e-7, 1e-6, "sra");
  const r = randn(rng, [1, H * W, D]).arr;
  gradCheck(
    (pp: SraParams, xx: np.Array) => weightedSum(sra.apply(pp, { tokens: xx, height: H, width: W }), r.ref),
    p,
    x,
    rng,
    { what: "sra", samples: 2 },
  );
  r.dispose();
  assert.throws(() => sra.apply(sra.init(rng), { tokens: np.zeros([1, 19, D]), height: H, width: W }), ShapeError);
});

test("global cross-attention matches naive attention; gradient matches finite differences", () => {
  const rng = new Rng("cross");
  const ca = new CrossAttention("fuse.cma", 4, 6, 8, 2);
  const p = toF64(ca.init(rng));
  const { arr: qa, host: qh } = randn(rng, [1, 3, 4]);
  const { arr: ctx, host: ch } = randn(rng, [1, 5, 6]);
  const q = projectRef(p, "q", qh, 3, 4);
  const kv = projectRef(p, "kv", ch, 5, 6);
  const k = new Float64Array(40);
  const v = new Float64Array(40);
  for (let i = 0; i < 5; i++) for (let c = 0; c < 8; c++) {
    k[i * 8 + c] = kv[i * 16 + c];
    v[i * 8 + c] = kv[i * 16 + 8 + c];
  }
  const expected = projectRef(p, "proj", attentionRef(q, k, v, 3, 5, 8, 2), 3, 8);
  assertClose(toHost(ca.apply(refParams(p), { queries: qa.ref, context: ctx.ref })), expected, 1e-7, 1e-6, "cross");
  const r = randn(rng, [1, 3, 4]).arr;
  gradCheck((pp: AttentionParams, xx: np.Array) => weightedSum(ca.apply(pp, { queries: xx, context: ctx.ref }), r.ref), p, qa, rng, {
    what: "cross",
    samples: 2,
  });
  r.dispose();
  ctx.dispose();
  assert.throws(() => ca.apply(ca.init(rng), { queries: np.zeros([1, 3, 4]), context: np.zeros([1, 5, 5]) }), /fuse\.cma\.context/);
});

test("bilinear resize (align_corners = false) matches PyTorch's formula up and down, as matrices and as taps", () => {
  const rng = new Rng("resize");
  const xs = [1, 5, 6, 2];
  const { arr: x, host: xh } = randn(rng, xs);
  for (const [Ho, Wo] of [[10, 12], [3, 4], [20, 24], [2, 1]]) {
    for (const mode of ["matrix", "taps", "auto", "phases"] as const) {
      if (mode === "phases" && (Ho % 5 !== 0 || Wo % 6 !== 0 || Ho <= 5)) continue;
      const y = resizeBilinear(x.ref, Ho, Wo, mode);
      assert.deepEqual(y.shape, [1, Ho, Wo, 2]);
      assertClose(toHost(y), bilinearRef(xh, xs, Ho, Wo), 1e-7, 1e-6, `bilinear ${Ho}×${Wo} ${mode}`);
    }
  }
  const r = randn(rng, [1, 10, 12, 2]).arr;
  const r2 = randn(rng, [1, 20, 24, 2]).arr;
  gradCheck((_p: ParamTree, xx: np.Array) => weightedSum(resizeBilinear(xx, 10, 12, "matrix"), r.ref), {}, x.ref, rng, { what: "resize matrix" });
  gradCheck((_p: ParamTree, xx: np.Array) => weightedSum(resizeBilinear(xx, 20, 24, "taps"), r2.ref), {}, x.ref, rng, { what: "resize taps" });
  gradCheck((_p: ParamTree, xx: np.Array) => weightedSum(resizeBilinear(xx, 20, 24, "phases"), r2.ref), {}, x.ref, rng, { what: "resize phases" });
  // Mixed: an integer factor on one axis (phases), a non-integer one on the other (taps), as lite's 8 → 60 rows.
  const { arr: x2, host: x2h } = randn(rng, [1, 3, 2, 3]);
  assertClose(toHost(resizeBilinear(x2, 17, 16)), bilinearRef(x2h, [1, 3, 2, 3], 17, 16), 1e-7, 1e-6, "bilinear mixed");
  assert.throws(() => resizeBilinear(x.ref, 7, 12, "phases"), /integer up-sampling factor/);
  x.dispose();
  r.dispose();
  r2.dispose();
});

test("nearest resize of labels on the host and on the device agree with floor(i·in/out)", () => {
  const labels = Uint16Array.from({ length: 12 }, (_, i) => i);
  const out = resizeLabelsNearest(labels, 4, 3, 8, 6);
  assert.equal(out[0], 0);
  assert.equal(out[1], 0);
  assert.equal(out[2], 1);
  assert.equal(out[8 * 2 + 7], 7);
  assert.deepEqual([...resizeLabelsNearest(labels, 4, 3, 2, 1)], [0, 2]);
  const dev = resizeNearest(np.array(Int32Array.from(labels)).reshape([1, 3, 4, 1]), 6, 8);
  assert.deepEqual([...(dev.dataSync() as Int32Array)], [...out]);
});

test("channel shuffle interleaves groups; concat and split are inverse", () => {
  const a = np.array([[0, 1, 2]]);
  const b = np.array([[10, 11, 12]]);
  const cat = concatChannels([a, b]);
  assert.deepEqual(channelShuffle(cat.ref, 2).js(), [[0, 10, 1, 11, 2, 12]]);
  const [p1, p2] = splitChannels(cat, [2, 4]);
  assert.deepEqual(p1.js(), [[0, 1]]);
  assert.deepEqual(p2.js(), [[2, 10, 11, 12]]);
});

test("dropout and DropPath are seeded, scale survivors, keep gradients, and are identity in eval", () => {
  const x = np.ones([64, 64]);
  const d1 = toHost(dropout(x.ref, 0.25, random.key(7), true));
  const d2 = toHost(dropout(x.ref, 0.25, random.key(7), true));
  assert.deepEqual(d1, d2);
  const kept = d1.filter((v) => v !== 0);
  assert.ok(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6));
  assert.ok(Math.abs(kept.length / d1.length - 0.75) < 0.03, `keep fraction ${kept.length / d1.length}`);
  assert.deepEqual(toHost(dropout(x.ref, 0.25, random.key(7), false)), toHost(x.ref));
  const dp = toHost(dropPath(np.ones([200, 3, 2]), 0.5, random.key(3), true));
  let dropped = 0;
  for (let s = 0; s < 200; s++) {
    const row = dp.subarray(s * 6, s * 6 + 6);
    assert.ok(row.every((v) => v === row[0]), "a sample is kept or dropped as a whole");
    if (row[0] === 0) dropped++;
    else assert.ok(Math.abs(row[0] - 2) < 1e-6);
  }
  assert.ok(dropped > 60 && dropped < 140, `dropped ${dropped} of 200`);
  const rng = new Rng("drop");
  const r = randn(rng, [64, 64]).arr;
  gradCheck((_p: ParamTree, xx: np.Array) => weightedSum(dropout(xx, 0.25, random.key(9), true), r.ref), {}, x.astype(np.float64), rng, {
    what: "dropout",
    samples: 8,
    jit: false,
  });
  r.dispose();
  const rp = randn(rng, [6, 3, 2]).arr;
  gradCheck((_p: ParamTree, xx: np.Array) => weightedSum(dropPath(xx, 0.5, random.key(4), true), rp.ref), {}, randn(rng, [6, 3, 2]).arr, rng, {
    what: "dropPath",
    samples: 8,
    jit: false,
  });
  rp.dispose();
});
