import { test } from "node:test";
import assert from "node:assert/strict";
import { numpy as np } from "../../src/nn/jax.ts";
import {
  AdamW,
  clipByGlobalNorm,
  constantSchedule,
  cosineSchedule,
  globalNorm,
  polySchedule,
  withWarmup,
} from "../../src/nn/optim.ts";
import { concatLeaves, splitLeaves, countParams, flattenParams, getSubtree, isFrozen, refParams, stopGradientWhere } from "../../src/nn/params.ts";
import { FlopCounter } from "../../src/nn/flops.ts";
import { Conv2d, Linear } from "../../src/nn/layers/index.ts";
import { grad } from "../../src/nn/jax.ts";
import { Rng } from "../../src/core/rng.ts";
import { assertClose, toHost } from "./helpers.ts";

type P = { w: np.Array; b: np.Array; frozen: { k: np.Array } };

function adamwByHand(
  p: number[],
  grads: number[][],
  lrs: number[],
  decayMask: boolean[],
  o: { b1: number; b2: number; eps: number; wd: number; clip: number },
): number[] {
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const x = p.slice();
  grads.forEach((g0, s) => {
    const t = s + 1;
    const norm = Math.sqrt(g0.reduce((a, g) => a + g * g, 0));
    const f = Math.min(1, o.clip / (norm + 1e-6));
    const g = g0.map((gi) => gi * f);
    for (let i = 0; i < x.length; i++) {
      m[i] = o.b1 * m[i] + (1 - o.b1) * g[i];
      v[i] = o.b2 * v[i] + (1 - o.b2) * g[i] * g[i];
      if (decayMask[i]) x[i] -= lrs[s] * o.wd * x[i];
      const mh = m[i] / (1 - o.b1 ** t);
      const vh = v[i] / (1 - o.b2 ** t);
      x[i] -= (lrs[s] * mh) / (Math.sqrt(vh) + o.eps);
    }
  });
  return x;
}

test("AdamW with decoupled decay, bias correction and global-norm clipping matches hand-computed steps", () => {
  const opt = new AdamW({ beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.1, maxGradNorm: 1.5, frozen: ["frozen"] });
  let params: P = {
    w: np.array(new Float64Array([0.5, -1, 2, 0.25])).reshape([2, 2]),
    b: np.array(new Float64Array([0.3, -0.2])),
    frozen: { k: np.array(new Float64Array([7])) },
  };
  let state = opt.init(params);
  const gradSeq = [
    [0.4, -0.3, 1.2, 0.9, -0.5, 0.25, 3],
    [-0.1, 0.2, 0.05, -0.7, 0.3, 0.1, 3],
    [2.0, -1.0, 0.5, 0.5, 0.1, -0.4, 3],
  ];
  const lrs = [1e-2, 5e-3, 2e-2];
  const norms: number[] = [];
  for (let s = 0; s < 3; s++) {
    const g = gradSeq[s];
    const grads: P = {
      w: np.array(new Float64Array(g.slice(0, 4))).reshape([2, 2]),
      b: np.array(new Float64Array(g.slice(4, 6))),
      frozen: { k: np.array(new Float64Array([g[6]])) },
    };
    const r = opt.step(params, concatLeaves(grads), state, lrs[s]);
    params = r.params;
    state = r.state;
    norms.push(r.gradNorm.item());
  }
  // Frozen leaves are excluded from the clipping norm and never updated.
  const opt2 = { b1: 0.8, b2: 0.95, eps: 1e-6, wd: 0.1, clip: 1.5 };
  void opt2;
  assert.equal(state.step, 3);
  assertClose(toHost(params.frozen.k), [7], 0, 0, "frozen leaf unchanged");
  const got = [...toHost(params.w), ...toHost(params.b)];
  const hand = adamwByHand(
    [0.5, -1, 2, 0.25, 0.3, -0.2],
    gradSeq.map((g) => g.slice(0, 6)),
    lrs,
    [true, true, true, true, false, false],
    opt2,
  );
  // jax-js rounds scalar literals (β, 1 − β, ε) to float32 even in float64 graphs, hence a 1e-6 tolerance.
  assertClose(got, hand, 1e-9, 1e-6, "adamw");
  assertClose(norms, gradSeq.map((g) => Math.sqrt(g.slice(0, 6).reduce((a, x) => a + x * x, 0))), 1e-12, 1e-9, "grad norms");
  opt.dispose();
});

test("global-norm clipping scales only when the norm exceeds the limit", () => {
  const g = { a: np.array(new Float64Array([3, 0])), b: np.array(new Float64Array([4])) };
  assert.ok(Math.abs(globalNorm(g).item() - 5) < 1e-12);
  const { grads, norm } = clipByGlobalNorm(refParams(g), 1);
  assert.ok(Math.abs(norm.item() - 5) < 1e-12);
  assertClose([...toHost(grads.a), ...toHost(grads.b)], [3 / (5 + 1e-6), 0, 4 / (5 + 1e-6)], 1e-12, 0, "clipped");
  const small = clipByGlobalNorm(g, 10);
  assertClose([...toHost(small.grads.a), ...toHost(small.grads.b)], [3, 0, 4], 0, 0, "unclipped");
  small.norm.dispose();
});

test("schedules: linear warm-up 1e-3 → 1, poly 0.9, cosine, against hand values", () => {
  const poly = polySchedule(6e-5, 100, 0.9);
  assert.equal(poly(0), 6e-5);
  assert.ok(Math.abs(poly(50) - 6e-5 * Math.pow(0.5, 0.9)) < 1e-18);
  assert.equal(poly(100), 0);
  assert.equal(poly(150), 0);
  const cos = cosineSchedule(1, 10, 0.1);
  assert.equal(cos(0), 1);
  assert.ok(Math.abs(cos(5) - 0.55) < 1e-12);
  assert.ok(Math.abs(cos(10) - 0.1) < 1e-12);
  const warm = withWarmup(constantSchedule(2), 10);
  assert.ok(Math.abs(warm(0) - 2e-3) < 1e-15);
  assert.ok(Math.abs(warm(5) - 2 * (1e-3 + 0.999 * 0.5)) < 1e-12);
  assert.equal(warm(10), 2);
  const wp = withWarmup(polySchedule(1, 100), 10);
  assert.ok(Math.abs(wp(4) - Math.pow(0.96, 0.9) * (1e-3 + 0.999 * 0.4)) < 1e-12);
});

test("parameter trees: dotted paths, counting, subtrees and freezing by prefix", () => {
  const rng = new Rng(1);
  const tree = {
    vd: { stages: [{ blocks: [new Linear("a", 2, 3).init(rng), new Linear("b", 3, 4, { bias: false }).init(rng)] }] },
    head: new Conv2d("h", 4, 2, 3).init(rng),
  };
  assert.deepEqual(
    flattenParams(tree).map(([k]) => k),
    ["vd.stages.0.blocks.0.weight", "vd.stages.0.blocks.0.bias", "vd.stages.0.blocks.1.weight", "head.weight", "head.bias"],
  );
  assert.equal(countParams(tree), 6 + 3 + 12 + 2 * 9 * 4 + 2);
  assert.deepEqual((getSubtree(tree, "vd.stages.0.blocks.1.weight") as np.Array).shape, [4, 3]);
  assert.throws(() => getSubtree(tree, "vd.stages.3"), /vd\.stages\.3/);
  assert.ok(isFrozen("vd.stages.0.blocks.0.bias", ["vd"]));
  assert.ok(!isFrozen("vdx.weight", ["vd"]));
  const x = np.ones([1, 2]);
  const g = grad((p: typeof tree, xx: np.Array) => {
    const q = stopGradientWhere(p, ["vd.stages.0.blocks.0"]);
    const h = np.matmul(xx, q.vd.stages[0].blocks[0].weight.transpose()).add(q.vd.stages[0].blocks[0].bias as np.Array);
    const y = np.matmul(h, q.vd.stages[0].blocks[1].weight.transpose());
    q.head.weight.dispose();
    q.head.bias?.dispose();
    return np.sum(y);
  })(refParams(tree), x);
  assert.ok(toHost(g.vd.stages[0].blocks[0].weight).every((v) => v === 0), "frozen subtree has zero gradient");
  assert.ok(toHost(g.vd.stages[0].blocks[1].weight).some((v) => v !== 0), "trainable subtree has a gradient");
});

test("the FLOP counter sums layer multiply-adds from shapes", () => {
  const fc = new FlopCounter();
  const conv = new Conv2d("vi.embed", 32, 16, 4, { stride: 4 });
  fc.add(conv.path, conv.macs([1, 240, 320, 32]));
  const lin = new Linear("head.fc", 64, 10);
  fc.add(lin.path, lin.macs([1, 60, 80, 64]));
  assert.equal(fc.macs, 60 * 80 * 16 * 16 * 32 + 60 * 80 * 64 * 10);
  assert.equal(fc.flops, 2 * fc.macs);
  assert.deepEqual(fc.byPrefix(["vi"]).vi.macs, 60 * 80 * 16 * 16 * 32);
});

test("concatLeaves and splitLeaves round-trip a tree in flattenParams order; a vector of the wrong length is refused", () => {
  const tree = { b: [np.array(new Float32Array([1, 2, 3])), np.array(new Float32Array([4, 5, 6, 7])).reshape([2, 2])], a: np.array(new Float32Array([8])) };
  const flat = concatLeaves(refParams(tree));
  // Key order, not alphabetical: b.0, b.1, a (the order checkpoints and the optimizer's masks rely on).
  assert.deepEqual([...toHost(flat.ref)], [1, 2, 3, 4, 5, 6, 7, 8]);
  const back = splitLeaves(flat, tree);
  assert.deepEqual(back.b[1].shape, [2, 2]);
  assert.deepEqual([...toHost(back.b[1])], [4, 5, 6, 7]);
  assert.deepEqual([...toHost(back.a)], [8]);
  assert.throws(() => splitLeaves(np.zeros([7]), tree), /7 values|does not fit a tree of 8/);
  // Odd leaf counts pair up in rounds (5 leaves: 3 rounds), order kept.
  const five = [1, 2, 3, 4, 5].map((v) => np.array(new Float32Array([v, -v])));
  assert.deepEqual([...toHost(concatLeaves(five))], [1, -1, 2, -2, 3, -3, 4, -4, 5, -5]);
});

test("after an asynchronous AdamW step's ready(), every parameter reads synchronously and equals the synchronous step's", async () => {
  // Large enough that the update's kernels go to the worker threads, where its outputs finish in any order.
  const rng = new Rng("adamw-ready");
  const host = [400 * 500, 300_000, 100_000].map((n) => Float32Array.from({ length: n }, () => rng.normal()));
  const grads = Float32Array.from({ length: 600_000 }, () => rng.normal());
  const run = async (asynchronous: boolean): Promise<number[][]> => {
    let params = { a: np.array(host[0]).reshape([400, 500]), b: np.array(host[1]), c: { d: np.array(host[2]) } };
    const opt = new AdamW({ weightDecay: 0.01, maxGradNorm: 1 });
    let state = opt.init(params);
    for (let t = 0; t < 3; t++) {
      const r = opt.step(params, np.array(grads), state, 1e-2);
      if (asynchronous) await r.ready();
      r.gradNorm.dispose();
      params = r.params;
      state = r.state;
      // A synchronous read straight after ready() threw "cannot read synchronously from a slot with async work"
      // when ready() waited on the moments only.
      if (asynchronous) for (const [, a] of flattenParams(params)) a.ref.dataSync();
    }
    const out = flattenParams(params).map(([, a]) => Array.from(toHost(a)));
    state.m.dispose();
    state.v.dispose();
    opt.dispose();
    return out;
  };
  assert.deepEqual(await run(true), await run(false));
});
