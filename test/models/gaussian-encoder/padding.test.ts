import { test } from "node:test";
import assert from "node:assert/strict";
import { numpy as np, random, grad } from "../../../src/nn/jax.ts";
import { Rng } from "../../../src/core/rng.ts";
import { flattenParams, refParams } from "../../../src/nn/params.ts";
import { encoderConfig } from "../../../src/models/gaussian-encoder/config.ts";
import { GaussianEncoder, type GaussianEncoderParams } from "../../../src/models/gaussian-encoder/encoder.ts";
import {
  bucketCapacities,
  disposeDevicePlan,
  maxCapacities,
  planCapacities,
  planEncoder,
  toDevicePlan,
  type PlanCapacities,
} from "../../../src/models/gaussian-encoder/levels.ts";
import { encodeInput, INPUT_CHANNELS } from "../../../src/models/gaussian-encoder/input.ts";
import { randomCloud } from "../../helpers/clouds.ts";
import { assertClose, toHost } from "../../nn/helpers.ts";

/** Capacities strictly above the plan's own sizes at every level. */
function roomy(caps: PlanCapacities): PlanCapacities {
  const b = bucketCapacities(caps, { growth: 1.25, multiple: 8, clouds: 2 });
  return {
    points: b.points.map((n) => n + 13),
    voxels: b.voxels.map((v, s) => (s === 0 ? v + 7 : b.points[s] + 13)),
    patches: b.patches.map((rec) => Object.fromEntries(Object.entries(rec).map(([K, p]) => [K, p + 2]))),
  };
}

test("padded plan: the real rows of eval and train outputs, BN statistics and gradients equal the unpadded ones; padding stays finite", () => {
  // Two clouds (as a training pair), no drop-path so train mode is deterministic.
  const enc = new GaussianEncoder(encoderConfig("tiny", { dropPath: 0 }));
  const a = randomCloud(31, 180, 0);
  const b = randomCloud(32, 150, 0);
  const n = a.count + b.count;
  const positions = new Float32Array(n * 3);
  positions.set(a.positions);
  positions.set(b.positions, a.count * 3);
  const batch = new Int32Array(n).fill(1, a.count);
  const x = new Float32Array(n * INPUT_CHANNELS);
  x.set(encodeInput(a));
  x.set(encodeInput(b), a.count * INPUT_CHANNELS);
  const plan = planEncoder(positions, enc.config, { batch, rng: new Rng(4) });
  const exact = planCapacities(plan);
  const caps = roomy(exact);
  assert.ok(caps.points.every((c, s) => c > exact.points[s]));
  const dev = toDevicePlan(plan, enc.config);
  const padded = toDevicePlan(plan, enc.config, np.float32, caps);
  assert.equal(padded.points, caps.points[0]);
  assert.equal(padded.realPoints, n);
  const N = caps.points[0];
  // Padding rows hold large junk: nothing of it may reach a real row.
  const xp = new Float32Array(N * INPUT_CHANNELS);
  xp.set(x);
  const junk = new Rng(9);
  for (let i = n * INPUT_CHANNELS; i < xp.length; i++) xp[i] = junk.uniform(-100, 100);
  const params = enc.init(new Rng(2));
  const state = enc.initState();
  const input = (): np.Array => np.array(x).reshape([n, INPUT_CHANNELS]);
  const inputP = (): np.Array => np.array(xp).reshape([N, INPUT_CHANNELS]);
  for (const train of [false, true]) {
    const ref = enc.apply(refParams(params), input(), dev, { train, state: refParams(state), key: random.key(1) });
    const got = enc.apply(refParams(params), inputP(), padded, { train, state: refParams(state), key: random.key(1) });
    const yr = toHost(ref.y);
    const yp = toHost(got.y);
    assert.equal(yp.length, N * 32);
    assert.ok(yp.every(Number.isFinite), "padding rows finite");
    assertClose(yp.subarray(0, n * 32), yr, 2e-5, 1e-4, `train=${train} outputs`);
    for (const [path, s] of Object.entries(ref.state)) {
      const q = got.state[path];
      assertClose(toHost(q.runningMean), toHost(s.runningMean), 1e-6, 1e-4, `${path} mean`);
      assertClose(toHost(q.runningVar), toHost(s.runningVar), 1e-6, 1e-4, `${path} var`);
    }
  }
  // Gradients of a loss on the real rows (train mode, masked BN statistics).
  const r = Float32Array.from({ length: n * 32 }, (_, i) => Math.sin(0.37 * i));
  const rp = new Float32Array(N * 32);
  rp.set(r);
  const loss = (rows: Float32Array, p: GaussianEncoderParams, xx: np.Array, d: typeof dev): np.Array =>
    np.sum(enc.apply(p, xx, d, { train: true, state: refParams(state) }).y.mul(np.array(rows).reshape([-1, 32])));
  const gRef = grad((p: GaussianEncoderParams) => loss(r, p, input(), dev))(refParams(params)) as GaussianEncoderParams;
  const gPad = grad((p: GaussianEncoderParams) => loss(rp, p, inputP(), padded))(refParams(params)) as GaussianEncoderParams;
  const other = new Map(flattenParams(gPad));
  for (const [path, g] of flattenParams(gRef)) {
    const want = toHost(g);
    const have = toHost(other.get(path) as np.Array);
    const scale = Math.max(1e-3, ...Array.from(want, Math.abs));
    assertClose(have, want, 1e-4 * scale, 1e-3, `grad ${path}`);
  }
  disposeDevicePlan(dev);
  disposeDevicePlan(padded);
});

test("capacities: maxCapacities covers every plan; bucketCapacities is on the ladder and covers the patches", () => {
  const enc = new GaussianEncoder(encoderConfig("tiny"));
  const caps = [100, 260].map((count, i) => planCapacities(planEncoder(randomCloud(40 + i, count, 0).positions, enc.config)));
  const m = maxCapacities(caps, 16);
  for (const c of caps) {
    c.points.forEach((v, s) => assert.ok(m.points[s] >= v && m.points[s] % 16 === 0));
    assert.ok(m.voxels[0] >= c.voxels[0]);
    c.patches.forEach((rec, s) => Object.entries(rec).forEach(([K, p]) => assert.ok(m.patches[s][Number(K)] >= p)));
  }
  assert.ok(caps[1].voxels[0] <= caps[1].points[0]);
  const b = bucketCapacities(caps[1], { multiple: 64, clouds: 1 });
  b.points.forEach((v, s) => {
    assert.ok(v >= caps[1].points[s] && v % 64 === 0);
    for (const [K, p] of Object.entries(b.patches[s])) assert.ok(p * Number(K) >= v, "patches hold every point");
  });
});
