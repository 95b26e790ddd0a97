/**
 * Training behaviour of the VDVI network (tiny config): every parameter receives a nonzero gradient; dropout
 * and drop-path are a pure function of the PRNG key; BatchNorm running statistics update in training and not in
 * eval.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { grad, random } from "../../src/nn/jax.ts";
import { Rng } from "../../src/core/rng.ts";
import { flattenParams, refParams } from "../../src/nn/params.ts";
import { vdviConfig, type VdviConfig } from "../../src/models/configs.ts";
import { VdviNet, type BnStates } from "../../src/models/vdvi/index.ts";
import { disposeState, lossFor, syntheticFrame, toBatch } from "./vdvi-helpers.ts";

test("every parameter of the tiny network gets a nonzero gradient (full and both ablations)", () => {
  for (const ablation of ["none", "no-vi", "no-rgb"] as const) {
    const net = new VdviNet(vdviConfig("tiny", { ablation }));
    // Seed 8: LAFS's bias-free FC(C→C/16) → ReLU on the pooled vector has only 4 units at tiny's stage 2 and,
    // as in AsymFormer, can start all-negative for every sample (seed 7 does); then y_s gets no gradient.
    const params = net.init(new Rng(8));
    // Two 64×64 frames: BatchNorm over the 2×2 stage-4 maps of both has 8 samples per channel. (With one 1×2
    // map it would see 2 and output ±γ + β whatever the magnitudes, leaving exact-zero gradients upstream.)
    const g = grad(lossFor(net))(params, toBatch(syntheticFrame(1, 64, 64), syntheticFrame(2, 64, 64)));
    const zero: string[] = [];
    let leaves = 0;
    for (const [path, a] of flattenParams(g)) {
      leaves++;
      const host = a.dataSync() as Float32Array;
      if (!host.some((v) => v !== 0 && Number.isFinite(v))) zero.push(path);
    }
    assert.ok(leaves > 40, `${ablation}: ${leaves} leaves`);
    assert.deepEqual(zero, [], `${ablation}: parameters without gradient`);
  }
});

test("dropout and drop-path are a pure function of the key; BatchNorm statistics move only in training", () => {
  const cfg: VdviConfig = { ...vdviConfig("tiny"), cmaDropout: 0.2, decoderDropout: 0.1 };
  cfg.rgb.dropPath = 0.3;
  cfg.feat.dropPath = 0.1;
  const net = new VdviNet(cfg);
  const params = net.init(new Rng(1));
  const f = syntheticFrame(2);
  const run = (train: boolean, seed: number): { logits: Float32Array; state: BnStates } => {
    const b = toBatch(f);
    b.labels.dispose();
    const out = net.apply(refParams(params), net.initState(), { rgb: b.rgb, features: b.features }, { train, key: train ? random.key(seed) : undefined });
    out.z.dispose();
    return { logits: out.logits.dataSync() as Float32Array, state: out.state };
  };
  const a = run(true, 11);
  const b = run(true, 11);
  const c = run(true, 12);
  assert.deepEqual(a.logits, b.logits);
  assert.notDeepEqual(a.logits, c.logits);
  const mean = (s: BnStates): Float32Array => s["decoder.bn"].runningMean.ref.dataSync() as Float32Array;
  assert.ok(mean(a.state).some((v) => v !== 0), "training updates the running mean");
  const e1 = run(false, 0);
  const e2 = run(false, 0);
  assert.deepEqual(e1.logits, e2.logits);
  assert.ok(mean(e1.state).every((v) => v === 0), "eval leaves the running mean");
  for (const s of [a, b, c, e1, e2]) disposeState(s.state);
});
