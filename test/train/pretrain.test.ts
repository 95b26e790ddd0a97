import { test } from "node:test";
import assert from "node:assert/strict";
import { numpy as np, grad, random } from "../../src/nn/jax.ts";
import { AdamW } from "../../src/nn/optim.ts";
import { disposeParams, refParams, type ParamTree } from "../../src/nn/params.ts";
import { GaussianEncoder } from "../../src/models/gaussian-encoder/encoder.ts";
import { TINY_ENCODER } from "../../src/models/gaussian-encoder/config.ts";
import { makePairSample } from "../../src/train/pretrain/pair.ts";
import { scenePairs } from "../../src/train/pretrain/pairs.ts";
import { lookAtCamera } from "../../src/core/camera.ts";
import { disposePair, pairLoss, pairLossAndGrad, pairLossAndGradAsync, preparePair } from "../../src/train/pretrain/step.ts";
import { Rng } from "../../src/core/rng.ts";
import { augmentView, voxelSubsample } from "../../src/train/pretrain/augment.ts";
import { axisAngleMatrix } from "../../src/core/math.ts";
import { infoNCE, l2Normalize, sampleCorrespondences } from "../../src/train/pretrain/infonce.ts";
import { encodeInput, INPUT_CHANNELS } from "../../src/models/gaussian-encoder/input.ts";
import { gridCoords } from "../../src/models/gaussian-encoder/serialization.ts";
import { randomCloud } from "../helpers/clouds.ts";
import { assertClose, gradCheck, randn, toHost } from "../nn/helpers.ts";

test("voxelSubsample: exactly one Gaussian per occupied 0.05 m voxel, seeded", () => {
  const cloud = randomCloud(1, 3000, 0);
  const keep = voxelSubsample(cloud.positions, 0.05, new Rng(4));
  const { grid } = gridCoords(cloud.positions, 0.05);
  const key = (i: number): string => `${grid[i * 3]},${grid[i * 3 + 1]},${grid[i * 3 + 2]}`;
  const all = new Set(Array.from({ length: 3000 }, (_, i) => key(i)));
  const kept = [...keep].map(key);
  assert.equal(new Set(kept).size, kept.length, "one per voxel");
  assert.equal(kept.length, all.size, "every voxel kept");
  for (let i = 1; i < keep.length; i++) assert.ok(keep[i] > keep[i - 1]);
  assert.deepEqual([...voxelSubsample(cloud.positions, 0.05, new Rng(4))], [...keep]);
  // A coarse voxel with many members: different seeds pick different members.
  const a = voxelSubsample(cloud.positions, 10, new Rng(1));
  const b = voxelSubsample(cloud.positions, 10, new Rng(2));
  assert.equal(a.length, 1);
  assert.notEqual(a[0], b[0]);
});

test("augmentView with a world rotation axis: heights along that axis only scaled and centred, any angle about it", () => {
  const cloud = randomCloud(2, 500, 0);
  const before = encodeInput(cloud);
  const C = INPUT_CHANNELS;
  const meanY = Array.from({ length: 500 }, (_, i) => before[i * C + 1]).reduce((a, b) => a + b, 0) / 500;
  const angles = new Set<string>();
  for (let seed = 0; seed < 4; seed++) {
    const rows = before.slice();
    const rec = augmentView(rows, new Rng(seed), { rotationAxis: "y", jitter: 0 });
    // R·e_y = e_y: the y row and column of the rotation are those of the identity.
    assertClose([rec.rotation[1], rec.rotation[3], rec.rotation[4], rec.rotation[5], rec.rotation[7]], [0, 0, 1, 0, 0], 1e-12, 0, "about y");
    for (let i = 0; i < 500; i += 37) assert.ok(Math.abs(rows[i * C + 1] - rec.scale * (before[i * C + 1] - meanY)) < 1e-4);
    angles.add(Math.atan2(rec.rotation[2], rec.rotation[0]).toFixed(3));
  }
  assert.equal(angles.size, 4, "a different angle per draw");
});

test("axisAngleMatrix: orthonormal, det 1, rotates about the axis", () => {
  const R = axisAngleMatrix([0, 0, 2], Math.PI / 2);
  assertClose(R, [0, -1, 0, 1, 0, 0, 0, 0, 1], 1e-12, 0, "90° about z");
  const Q = axisAngleMatrix([0.3, -0.2, 0.4], 1.1);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      const dot = Q[i * 3] * Q[j * 3] + Q[i * 3 + 1] * Q[j * 3 + 1] + Q[i * 3 + 2] * Q[j * 3 + 2];
      assert.ok(Math.abs(dot - (i === j ? 1 : 0)) < 1e-12);
    }
  const det =
    Q[0] * (Q[4] * Q[8] - Q[5] * Q[7]) - Q[1] * (Q[3] * Q[8] - Q[5] * Q[6]) + Q[2] * (Q[3] * Q[7] - Q[4] * Q[6]);
  assert.ok(Math.abs(det - 1) < 1e-12);
});

test("augmentView: centred, distances scaled by s, log-scales + ln s, colour/opacity jittered within [0, 1]", () => {
  const cloud = randomCloud(2, 2000, 0);
  const before = encodeInput(cloud);
  const rows = before.slice();
  const rec = augmentView(rows, new Rng(9));
  const C = INPUT_CHANNELS;
  assert.ok(rec.scale >= 0.6 && rec.scale < 1.2);
  const mean = [0, 0, 0];
  for (let i = 0; i < 2000; i++) for (let k = 0; k < 3; k++) mean[k] += rows[i * C + k] / 2000;
  assertClose(mean, [0, 0, 0], 1e-5, 0, "centroid");
  const dist = (a: Float32Array, i: number, j: number): number =>
    Math.hypot(a[i * C] - a[j * C], a[i * C + 1] - a[j * C + 1], a[i * C + 2] - a[j * C + 2]);
  for (const [i, j] of [[0, 1], [5, 900], [1999, 3]]) {
    assert.ok(Math.abs(dist(rows, i, j) - rec.scale * dist(before, i, j)) < 1e-4);
  }
  let sq = 0;
  let count = 0;
  for (let i = 0; i < 2000; i++) {
    for (let k = 7; k < 10; k++) assert.ok(Math.abs(rows[i * C + k] - before[i * C + k] - Math.log(rec.scale)) < 1e-5);
    for (let k = 3; k < 7; k++) {
      assert.ok(rows[i * C + k] >= 0 && rows[i * C + k] <= 1);
      const d = rows[i * C + k] - before[i * C + k];
      if (before[i * C + k] > 0.1 && before[i * C + k] < 0.9) {
        sq += d * d;
        count++;
      }
    }
  }
  const std = Math.sqrt(sq / count);
  assert.ok(std > 0.018 && std < 0.022, `jitter std ${std}`);
  // Seeded: the same generator state gives the same view.
  const again = before.slice();
  augmentView(again, new Rng(9));
  assert.deepEqual([...again], [...rows]);
});

test("sampleCorrespondences: all pairs when few, else max distinct pairs", () => {
  const pairs = Uint32Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? i / 2 : 100 + (i - 1) / 2));
  assert.deepEqual([...sampleCorrespondences(pairs, 16, new Rng(1))], [...pairs]);
  const s = sampleCorrespondences(pairs, 4, new Rng(1));
  assert.equal(s.length, 8);
  const firsts = new Set<number>();
  for (let i = 0; i < 4; i++) {
    assert.equal(s[i * 2 + 1], 100 + s[i * 2]);
    firsts.add(s[i * 2]);
  }
  assert.equal(firsts.size, 4);
});

/** Plain-JS InfoNCE reference (float64). */
function infoNCERef(q: number[][], k: number[][], tau: number): number {
  const norm = (v: number[]): number[] => {
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
  const qn = q.map(norm);
  const kn = k.map(norm);
  let loss = 0;
  for (let i = 0; i < qn.length; i++) {
    const logits = kn.map((kj) => kj.reduce((a, x, d) => a + x * qn[i][d], 0) / tau);
    loss += Math.log(logits.reduce((a, l) => a + Math.exp(l), 0)) - logits[i];
  }
  return loss / qn.length;
}

test("infoNCE: hand-computed case, reference agreement, scale invariance and a gradient check", () => {
  const idx = (a: number[]): np.Array => np.array(Int32Array.from(a), { dtype: np.int32 });
  // Orthogonal unit features at τ = 1: each row's logits are (1, 0) → log(1 + e) − 1.
  const eye = np.array(new Float64Array([1, 0, 0, 1])).reshape([2, 2]);
  const l1 = infoNCE(eye.ref, eye, idx([0, 1]), idx([0, 1]), 1).item();
  // jax-js's wasm exp/log are accurate to about 1e-7 relative even in float64.
  assert.ok(Math.abs(l1 - (Math.log(1 + Math.E) - 1)) < 1e-6, `${l1}`);
  // Random features through correspondences, τ = 0.07, against the reference; scaling a view changes nothing.
  const rng = new Rng(5);
  const a = randn(rng, [6, 4]);
  const b = randn(rng, [5, 4]);
  const i1 = [0, 2, 5, 3];
  const i2 = [4, 1, 0, 2];
  const rows = (h: Float64Array, ids: number[]): number[][] => ids.map((r) => Array.from(h.subarray(r * 4, r * 4 + 4)));
  const want = infoNCERef(rows(a.host, i1), rows(b.host, i2), 0.07);
  const got = infoNCE(a.arr.ref, b.arr.ref, idx(i1), idx(i2)).item();
  assert.ok(Math.abs(got - want) < 1e-6 * Math.max(1, want), `${got} vs ${want}`);
  const scaled = infoNCE(a.arr.ref.mul(7), b.arr.ref, idx(i1), idx(i2)).item();
  assert.ok(Math.abs(scaled - want) < 1e-6 * Math.max(1, want));
  assertClose(toHost(np.sum(np.square(l2Normalize(a.arr.ref)), -1)), new Array(6).fill(1), 1e-12, 0, "unit rows");
  gradCheck((_p, x) => infoNCE(x, b.arr.ref, idx(i1), idx(i2), 0.5), {}, a.arr, rng, { samples: 6, eps: 1e-3, atol: 1e-5, rtol: 2e-3, what: "infoNCE (exp/log are float32-accurate)" });
  b.arr.dispose();
});

test("infoNCE with padded correspondences: loss and gradient equal the unpadded pairs", () => {
  const rng = new Rng("pad");
  const f1 = rng.fillNormal(new Float32Array(12 * 4));
  const f2 = rng.fillNormal(new Float32Array(10 * 4));
  const real1 = [0, 3, 5, 7, 11];
  const real2 = [1, 2, 9, 4, 6];
  const loss = (x: np.Array, padded: boolean): np.Array => {
    const [a, b] = padded ? [[...real1, 0, 0, 0], [...real2, 0, 0, 0]] : [real1, real2];
    const valid = padded ? np.array(new Float32Array([1, 1, 1, 1, 1, 0, 0, 0])) : undefined;
    const y2 = np.array(f2).reshape([10, 4]);
    return infoNCE(x, y2, np.array(Int32Array.from(a), { dtype: np.int32 }), np.array(Int32Array.from(b), { dtype: np.int32 }), 0.07, valid);
  };
  const x = (): np.Array => np.array(f1).reshape([12, 4]);
  assertClose([loss(x(), true).item()], [loss(x(), false).item()], 1e-5, 1e-6, "loss");
  const g = (padded: boolean): number[] => Array.from(toHost(grad((xx: np.Array) => loss(xx, padded))(x())));
  assertClose(g(true), g(false), 1e-5, 1e-5, "gradient");
});

test("makePairSample: rows, batch and correspondences index the same Gaussians", () => {
  const cloud = randomCloud(3, 500, 0);
  const kept = Uint32Array.from({ length: 250 }, (_, i) => i * 2);
  const vis1 = Uint32Array.from({ length: 300 }, (_, i) => i);
  const vis2 = Uint32Array.from({ length: 300 }, (_, i) => i + 200);
  const s = makePairSample(cloud, kept, vis1, vis2, new Rng(1), { maxPairs: 20 });
  assert.equal(s.n1, 150);
  assert.equal(s.n2, 150);
  assert.equal(s.batch.length, 300);
  assert.equal(s.batch[149], 0);
  assert.equal(s.batch[150], 1);
  assert.equal(s.pairs.length, 40);
  for (let k = 0; k < 20; k++) {
    const r1 = s.pairs[k * 2];
    const r2 = s.pairs[k * 2 + 1];
    assert.ok(r1 < 150 && r2 >= 150);
    assert.equal(s.gaussians[0][r1], s.gaussians[1][r2 - 150]);
    // Opacity survives augmentation up to the jitter, so matched rows agree closely.
    assert.ok(Math.abs(s.input[r1 * 10 + 6] - s.input[r2 * 10 + 6]) < 0.2);
  }
  assert.deepEqual([...s.positions.subarray(0, 3)], [...s.input.subarray(0, 3)]);
});

/** A tiny encoder and one prepared pair of two overlapping views of a random cloud (400 Gaussians). */
function tinyEncoderPair(): { encoder: GaussianEncoder; pair: ReturnType<typeof preparePair> } {
  const cloud = randomCloud(8, 400, 0);
  const encoder = new GaussianEncoder(TINY_ENCODER);
  const kept = voxelSubsample(cloud.positions, 0.05, new Rng(1));
  const all = Uint32Array.from({ length: 400 }, (_, i) => i);
  const sample = makePairSample(cloud, kept, all.subarray(0, 300), all.subarray(100), new Rng(2), { maxPairs: 64 });
  return { encoder, pair: preparePair(encoder, sample) };
}

test("a tiny pre-training run on one pair: the InfoNCE loss decreases", () => {
  const { encoder, pair } = tinyEncoderPair();
  let params = encoder.init(new Rng(3));
  let state = encoder.initState();
  const opt = new AdamW({ weightDecay: 1e-5, maxGradNorm: 1 });
  let optState = opt.init(params);
  const losses: number[] = [];
  for (let step = 0; step < 8; step++) {
    const r = pairLossAndGrad(encoder, refParams(params), state, pair, { train: true, key: random.key(step) });
    state = r.state;
    losses.push(r.loss);
    const next = opt.step(params, r.grads, optState, 3e-3);
    next.gradNorm.dispose();
    params = next.params;
    optState = next.state;
  }
  assert.ok(losses.every(Number.isFinite));
  // Random-init features can start above chance (log 64 ≈ 4.16): each view is rotated differently and xyz is an
  // input channel, so a Gaussian's two inputs differ more than neighbours' do.
  assert.ok(losses[0] > 2, `first loss ${losses[0]}`);
  const head = (losses[0] + losses[1]) / 2;
  const tail = (losses[6] + losses[7]) / 2;
  assert.ok(tail < head - 0.2, `losses ${losses.map((l) => l.toFixed(3)).join(", ")}`);
  opt.dispose();
  disposePair(pair);
});

test("the jitted step (sync and async reads) and the forward-only loss agree with the op-by-op step", async () => {
  const { encoder, pair } = tinyEncoderPair();
  const params = encoder.init(new Rng(3));
  const state = encoder.initState();
  const run = async (mode: "eager" | "jit" | "async"): Promise<{ loss: number; grads: number[] }> => {
    const o = { train: false, jit: mode !== "eager" };
    const r =
      mode === "async"
        ? await pairLossAndGradAsync(encoder, refParams(params), refParams(state), pair, o)
        : pairLossAndGrad(encoder, refParams(params), refParams(state), pair, o);
    // Read asynchronously: after an asynchronous step the gradient may still be computing.
    const grads = Array.from((await r.grads.data()) as Float32Array);
    disposeParams(r.state as ParamTree);
    return { loss: r.loss, grads };
  };
  const eager = await run("eager");
  for (const mode of ["jit", "async"] as const) {
    const r = await run(mode);
    assert.ok(Math.abs(r.loss - eager.loss) <= 1e-5 * eager.loss, `${mode} loss ${r.loss} vs ${eager.loss}`);
    assertClose(r.grads, eager.grads, 1e-4, 1e-4, `${mode} gradient`);
  }
  for (const jit of [false, true]) {
    const loss = await pairLoss(encoder, refParams(params), refParams(state), pair, { train: false, jit });
    assert.ok(Math.abs(loss - eager.loss) <= 1e-5 * eager.loss, `forward-only (jit ${jit}) ${loss} vs ${eager.loss}`);
  }
  disposeParams(params);
  disposeParams(state as ParamTree);
  disposePair(pair);
});

test("scenePairs: IoU-band pairs, at most maxPairs drawn with the seed, visible lists attached", () => {
  // Cameras on a circle looking at the centre of a ring of points: neighbours overlap, opposite views less.
  const rng = new Rng(12);
  const n = 3000;
  const positions = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const t = rng.uniform(0, 2 * Math.PI);
    positions.set([3 * Math.cos(t), rng.uniform(-0.5, 0.5), 3 * Math.sin(t)], i * 3);
  }
  const cameras = Array.from({ length: 16 }, (_, v) => {
    const t = (2 * Math.PI * v) / 16;
    return lookAtCamera([0, 0, 0], [Math.cos(t), 0, Math.sin(t)], [0, -1, 0], { width: 64, height: 64, fx: 32 });
  });
  const all = scenePairs(positions, cameras, new Rng(1), { maxPairs: 1000 });
  assert.ok(all.length > 5, `${all.length} pairs`);
  for (const p of all) {
    assert.ok(p.a < p.b && p.iou > 0.3 && p.iou < 0.8);
    const b = new Set(p.visibleB);
    const shared = [...p.visibleA].filter((g) => b.has(g)).length;
    const union = p.visibleA.length + p.visibleB.length - shared;
    assert.ok(Math.abs(shared / union - p.iou) < 1e-12);
  }
  const few = scenePairs(positions, cameras, new Rng(1), { maxPairs: 4 });
  assert.equal(few.length, 4);
  assert.deepEqual(few, scenePairs(positions, cameras, new Rng(1), { maxPairs: 4 }));
  for (const p of few) assert.ok(all.some((q) => q.a === p.a && q.b === p.b));
  // A view subset (held-out frames) keeps camera indices.
  const odd = scenePairs(positions, cameras, new Rng(1), { views: [1, 3, 5, 7, 9, 11, 13, 15] });
  assert.ok(odd.length > 0);
  for (const p of odd) assert.ok(p.a % 2 === 1 && p.b % 2 === 1);
});
