import { test } from "node:test";
import assert from "node:assert/strict";
import { numpy as np, random } from "../../../src/nn/jax.ts";
import { Rng } from "../../../src/core/rng.ts";
import { flattenParams, refParams } from "../../../src/nn/params.ts";
import { encoderConfig } from "../../../src/models/gaussian-encoder/config.ts";
import { GaussianEncoder } from "../../../src/models/gaussian-encoder/encoder.ts";
import { voxelSubsample } from "../../../src/train/pretrain/augment.ts";
import { makePairSample } from "../../../src/train/pretrain/pair.ts";
import { disposePair, pairLossAndGrad, preparePair } from "../../../src/train/pretrain/step.ts";
import { randomCloud } from "../../helpers/clouds.ts";
import { ConfigError } from "../../../src/core/errors.ts";
import type { PlanCapacities } from "../../../src/models/gaussian-encoder/levels.ts";
import type { DevicePair } from "../../../src/train/pretrain/step.ts";

/** The capacities a prepared pair was padded to, read back from its device plan. */
function planCapacitiesOf(pair: DevicePair): PlanCapacities {
  return {
    points: pair.plan.stages.map((st) => st.points),
    voxels: pair.plan.stages.map((st, s) => (s === 0 ? st.geometry.voxels : st.points)),
    patches: pair.plan.stages.map((st) => Object.fromEntries([...st.patches].map(([K, list]) => [K, list[0].patches]))),
  };
}
import { assertClose, toHost } from "../../nn/helpers.ts";

test("pair step: bucketed and exact plans, eager and jitted, give the same loss, gradients and BN statistics", () => {
  const encoder = new GaussianEncoder(encoderConfig("tiny", { dropPath: 0 }));
  const params = encoder.init(new Rng(3));
  const state = encoder.initState();
  for (const seed of [8]) {
    const cloud = randomCloud(seed, 500, 0);
    const n = cloud.count;
    const kept = voxelSubsample(cloud.positions, 0.05, new Rng(1));
    const all = Uint32Array.from({ length: n }, (_, i) => i);
    const sample = makePairSample(cloud, kept, all.subarray(0, Math.round(0.7 * n)), all.subarray(Math.round(0.3 * n)), new Rng(2), { maxPairs: 64 });
    const exact = preparePair(encoder, sample, new Rng(5), { bucket: false });
    const bucketed = preparePair(encoder, sample, new Rng(5));
    assert.equal(exact.plan.points, sample.n1 + sample.n2);
    assert.ok(bucketed.plan.points > exact.plan.points && bucketed.plan.points % 64 === 0);
    const runs = [
      pairLossAndGrad(encoder, refParams(params), refParams(state), exact, { train: true, key: random.key(1) }),
      pairLossAndGrad(encoder, refParams(params), refParams(state), bucketed, { train: true, key: random.key(1) }),
      pairLossAndGrad(encoder, refParams(params), refParams(state), bucketed, { train: true, key: random.key(1), jit: true }),
    ];
    const [ref, ...others] = runs;
    assert.ok(Number.isFinite(ref.loss));
    const refGrads = flattenParams(ref.grads).map(([p, g]) => [p, toHost(g)] as const);
    const refState = Object.entries(ref.state).map(([p, s]) => [p, toHost(s.runningMean), toHost(s.runningVar)] as const);
    // Float32 noise scales with the largest gradient anywhere, not with each tensor's own.
    const top = Math.max(...refGrads.map(([, w]) => Math.max(...Array.from(w, Math.abs))));
    for (const [k, r] of others.entries()) {
      assert.ok(Math.abs(r.loss - ref.loss) < 1e-4 * Math.max(1, ref.loss), `run ${k + 1}: loss ${r.loss} vs ${ref.loss}`);
      const g = new Map(flattenParams(r.grads));
      for (const [path, want] of refGrads) {
        assertClose(toHost(g.get(path) as np.Array), want, 1e-5 * top, 2e-3, `run ${k + 1} grad ${path}`);
      }
      for (const [path, mean, variance] of refState) {
        assertClose(toHost(r.state[path].runningMean), mean, 1e-6, 1e-4, `run ${k + 1} ${path} mean`);
        assertClose(toHost(r.state[path].runningVar), variance, 1e-6, 1e-4, `run ${k + 1} ${path} var`);
      }
    }
    // Fixed capacities: the bucketed ones serve again; ones too small for the pair are refused by name.
    const caps = planCapacitiesOf(bucketed);
    const fixed = preparePair(encoder, sample, new Rng(5), { capacities: caps });
    assert.equal(fixed.plan.points, bucketed.plan.points);
    disposePair(fixed);
    const small = { ...caps, points: caps.points.map((p, s) => (s === 1 ? 8 : p)), voxels: caps.voxels.map((v, s) => (s === 1 ? 8 : v)) };
    assert.throws(() => preparePair(encoder, sample, new Rng(5), { capacities: small }), (e: unknown) => e instanceof ConfigError && /capacit/.test(e.message));
    disposePair(exact);
    disposePair(bucketed);
  }
});
