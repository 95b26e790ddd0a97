import { test } from "node:test";
import assert from "node:assert/strict";
import { numpy as np } from "../../src/nn/jax.ts";
import { Rng } from "../../src/core/rng.ts";
import { ShapeError } from "../../src/core/errors.ts";
import { Conv2d, DepthwiseConv2d, Linear, type ConvParams, type DepthwiseParams, type LinearParams } from "../../src/nn/layers/index.ts";
import { refParams } from "../../src/nn/params.ts";
import { assertClose, gradCheck, randn, toF64, toHost, weightedSum } from "./helpers.ts";
import { convRef, depthwiseRef, linearRef } from "./reference.ts";

const host = (a: np.Array): Float64Array => toHost(a.ref);

test("Linear forward matches a naive loop, on tokens and NHWC maps, and its gradient matches finite differences", () => {
  const rng = new Rng(11);
  const lin = new Linear("head.fc", 5, 3);
  const p = toF64(lin.init(rng));
  p.bias = randn(rng, [3]).arr;
  const { arr: x, host: xh } = randn(rng, [2, 4, 5]);
  const y = lin.apply(refParams(p), x.ref);
  assert.deepEqual(y.shape, [2, 4, 3]);
  assertClose(toHost(y), linearRef(xh, 8, 5, host(p.weight), 3, host(p.bias as np.Array)), 1e-12, 0, "linear");
  const r = randn(rng, [2, 4, 3]).arr;
  gradCheck((q: LinearParams, xx: np.Array) => weightedSum(lin.apply(q, xx), r.ref), p, x, rng, { what: "linear" });
  r.dispose();
});

const convCases: { name: string; k: number; s: number; p: number; H: number; W: number; C: number; O: number }[] = [
  { name: "1×1", k: 1, s: 1, p: 0, H: 5, W: 4, C: 3, O: 4 },
  { name: "3×3 stride 1", k: 3, s: 1, p: 1, H: 6, W: 5, C: 3, O: 4 },
  { name: "7×7 stride 1", k: 7, s: 1, p: 3, H: 8, W: 9, C: 2, O: 3 },
  { name: "3×3 stride 2 pad 1 (odd size)", k: 3, s: 2, p: 1, H: 7, W: 6, C: 3, O: 2 },
  { name: "4×4 stride 4 patch embed", k: 4, s: 4, p: 0, H: 8, W: 12, C: 3, O: 5 },
  { name: "7×7 stride 4 pad 3 patch embed", k: 7, s: 4, p: 3, H: 10, W: 9, C: 2, O: 3 },
  { name: "3×3 stride 1, wide input (one matmul per tap)", k: 3, s: 1, p: 1, H: 4, W: 5, C: 90, O: 2 },
  { name: "8×8 stride 8 (SRA reduction, floor)", k: 8, s: 8, p: 0, H: 12, W: 17, C: 2, O: 2 },
];

for (const c of convCases) {
  test(`Conv2d ${c.name}: forward matches a naive loop; gradient matches finite differences`, () => {
    const rng = new Rng(`conv ${c.name}`);
    const conv = new Conv2d(`enc.conv`, c.C, c.O, c.k, { stride: c.s, padding: c.p });
    const p = toF64(conv.init(rng));
    p.bias = randn(rng, [c.O]).arr;
    const xs = [2, c.H, c.W, c.C];
    const { arr: x, host: xh } = randn(rng, xs);
    const ref = convRef(xh, xs, host(p.weight), c.O, c.k, c.s, c.p, host(p.bias as np.Array));
    const y = conv.apply(refParams(p), x.ref);
    assert.deepEqual(y.shape, ref.shape);
    assert.deepEqual(conv.outShape(xs), ref.shape);
    assertClose(toHost(y), ref.y, 1e-11, 0, c.name);
    const r = randn(rng, ref.shape).arr;
    gradCheck((q: ConvParams, xx: np.Array) => weightedSum(conv.apply(q, xx), r.ref), p, x, rng, { what: c.name });
    r.dispose();
  });
}

for (const k of [3, 7]) {
  test(`DepthwiseConv2d ${k}×${k}: forward matches a naive loop; gradient matches finite differences`, () => {
    const rng = new Rng(`dw${k}`);
    const dw = new DepthwiseConv2d("vd.stages.0.blocks.1.dw", 3, k);
    const p = toF64(dw.init(rng));
    p.bias = randn(rng, [3]).arr;
    const xs = [2, 6, 9, 3];
    const { arr: x, host: xh } = randn(rng, xs);
    const y = dw.apply(refParams(p), x.ref);
    assertClose(toHost(y), depthwiseRef(xh, xs, host(p.weight), k, host(p.bias as np.Array)), 1e-12, 0, "dw");
    const r = randn(rng, xs).arr;
    gradCheck((q: DepthwiseParams, xx: np.Array) => weightedSum(dw.apply(q, xx), r.ref), p, x, rng, { what: `dw${k}` });
    r.dispose();
  });
}

test("a wrong channel count raises a ShapeError naming the layer path and both shapes", () => {
  const rng = new Rng(3);
  const conv = new Conv2d("vd.stages.2.blocks.1.pw", 8, 4, 3);
  const p = conv.init(rng);
  assert.throws(
    () => conv.apply(p, np.zeros([1, 5, 5, 6])),
    (err: unknown) =>
      err instanceof ShapeError &&
      err.message.includes("vd.stages.2.blocks.1.pw") &&
      err.message.includes("[?, ?, ?, 8]") &&
      err.message.includes("[1, 5, 5, 6]"),
  );
  const lin = new Linear("head.fc", 4, 2);
  assert.throws(() => lin.apply(lin.init(rng), np.zeros([3, 5])), /head\.fc: expected shape \[3, 4\], got \[3, 5\]/);
  const dw = new DepthwiseConv2d("vd.dw", 4, 7);
  assert.throws(() => dw.apply(dw.init(rng), np.zeros([1, 4, 4, 3])), /vd\.dw: expected shape \[\?, \?, \?, 4\], got \[1, 4, 4, 3\]/);
});
