import { test } from "node:test";
import assert from "node:assert/strict";
import { numpy as np, random, jit, grad } from "../../../src/nn/jax.ts";
import { Rng } from "../../../src/core/rng.ts";
import { ConfigError } from "../../../src/core/errors.ts";
import { countParams, disposeParams, flattenParams, refParams } from "../../../src/nn/params.ts";
import {
  encoderConfig,
  LITE_ENCODER,
  PAPER_ENCODER,
  TINY_ENCODER,
  type GaussianEncoderConfig,
} from "../../../src/models/gaussian-encoder/config.ts";
import { GaussianEncoder, type GaussianEncoderParams } from "../../../src/models/gaussian-encoder/encoder.ts";
import { disposeDevicePlan, planEncoder, toDevicePlan } from "../../../src/models/gaussian-encoder/levels.ts";
import { encodeInput, INPUT_CHANNELS } from "../../../src/models/gaussian-encoder/input.ts";
import { randomCloud } from "../../helpers/clouds.ts";
import { toHost } from "../../nn/helpers.ts";

/**
 * PTv3's parameter count written out from its structure (not from our layers): per block
 * CPE conv 27C²+C, CPE Linear C²+C, CPE LN 2C, LN 2C, qkv 3C²+3C, proj C²+C, LN 2C, fc1 4C²+4C, fc2 4C²+C;
 * embedding k5 conv without bias + BN; pooling Linear + BN; unpooling two Linear + BN.
 */
function ptv3ParamFormula(c: GaussianEncoderConfig): number {
  const block = (C: number): number => 27 * C * C + C + (C * C + C) + 2 * C + 2 * C + (3 * C * C + 3 * C) + (C * C + C) + 2 * C + (4 * C * C + 4 * C) + (4 * C * C + C);
  const S = c.encDepths.length;
  let n = 125 * c.inChannels * c.encChannels[0] + 2 * c.encChannels[0];
  for (let s = 0; s < S; s++) {
    if (s > 0) n += c.encChannels[s - 1] * c.encChannels[s] + 3 * c.encChannels[s];
    n += c.encDepths[s] * block(c.encChannels[s]);
  }
  const decIn = [...c.decChannels, c.encChannels[S - 1]];
  for (let s = 0; s < S - 1; s++) {
    const D = c.decChannels[s];
    n += decIn[s + 1] * D + 3 * D + c.encChannels[s] * D + 3 * D + c.decDepths[s] * block(D);
  }
  return n;
}

test("parameter counts equal the independent PTv3 formula (paper, lite, tiny)", () => {
  for (const cfg of [PAPER_ENCODER, LITE_ENCODER, TINY_ENCODER]) {
    const enc = new GaussianEncoder(cfg);
    const p = enc.init(new Rng(0));
    assert.equal(countParams(p), ptv3ParamFormula(cfg), cfg.name);
    disposeParams(p);
  }
  // The paper model is about 46 M parameters, most of them in the CPE's 27C² (spconv's SubMConv3d k3).
  assert.ok(ptv3ParamFormula(PAPER_ENCODER) > 4e7 && ptv3ParamFormula(PAPER_ENCODER) < 5e7);
});

test("configs validate: output width 32, heads divide widths, stage counts agree", () => {
  assert.throws(() => encoderConfig("nope"), ConfigError);
  assert.throws(() => encoderConfig("tiny", { decChannels: [16, 16] }), ConfigError);
  assert.throws(() => encoderConfig("tiny", { encHeads: [3, 2, 2] }), ConfigError);
  assert.throws(() => encoderConfig("tiny", { decDepths: [1] }), ConfigError);
  assert.equal(encoderConfig("lite").name, "lite");
});

function tinySetup(n: number, seed: number): { enc: GaussianEncoder; x: Float32Array; positions: Float32Array } {
  const cloud = randomCloud(seed, n, 0);
  const enc = new GaussianEncoder(TINY_ENCODER);
  return { enc, x: encodeInput(cloud), positions: cloud.positions };
}

test("tiny encoder: forward shapes in eval and train, finite outputs, BN statistics updated in training", () => {
  const n = 300;
  const { enc, x, positions } = tinySetup(n, 4);
  const plan = planEncoder(positions, enc.config, { rng: new Rng(1) });
  assert.equal(plan.stages.length, 3);
  assert.ok(plan.stages[1].level.batch.length < n);
  const dev = toDevicePlan(plan, enc.config);
  const params = enc.init(new Rng(2));
  const state = enc.initState();
  const input = np.array(x).reshape([n, INPUT_CHANNELS]);
  const stages: string[] = [];
  const onStage = (name: string, y: np.Array): void => void stages.push(`${name} ${y.shape.join("x")}`);
  const evalOut = enc.apply(refParams(params), input.ref, dev, { train: false, state, onStage });
  assert.deepEqual(evalOut.y.shape, [n, 32]);
  const sizes = plan.stages.map((st) => st.level.batch.length);
  assert.deepEqual(stages, [
    `embed ${n}x8`,
    `enc.0 ${n}x8`,
    `enc.1 ${sizes[1]}x16`,
    `enc.2 ${sizes[2]}x32`,
    `dec.1 ${sizes[1]}x16`,
    `dec.0 ${n}x32`,
  ]);
  const yEval = toHost(evalOut.y);
  assert.ok(yEval.every(Number.isFinite));
  const trainOut = enc.apply(refParams(params), input, dev, { train: true, state, key: random.key(5) });
  assert.deepEqual(trainOut.y.shape, [n, 32]);
  assert.ok(toHost(trainOut.y).every(Number.isFinite));
  const mean = toHost(trainOut.state["embed.norm"].runningMean.ref);
  assert.ok(mean.some((v) => v !== 0), "running mean moved");
  disposeDevicePlan(dev);
});

test("tiny encoder: jit(grad) of a loss through every block, pooling and unpooling equals eager grad", () => {
  const n = 200;
  const { enc, x, positions } = tinySetup(n, 6);
  const dev = toDevicePlan(planEncoder(positions, enc.config), enc.config);
  const params = enc.init(new Rng(3));
  const state = enc.initState();
  const r = np.array(Float32Array.from({ length: n * 32 }, (_, i) => Math.sin(i))).reshape([n, 32]);
  const loss = (p: GaussianEncoderParams, xx: np.Array): np.Array =>
    np.sum(enc.apply(p, xx, dev, { train: false, state }).y.mul(r.ref));
  const input = np.array(x).reshape([n, INPUT_CHANNELS]);
  const eager = grad(loss)(refParams(params), input.ref) as GaussianEncoderParams;
  const gj = jit(grad(loss));
  const viaJit = gj(refParams(params), input) as GaussianEncoderParams;
  gj.dispose();
  const a = flattenParams(eager);
  const b = new Map(flattenParams(viaJit));
  let nonzero = 0;
  for (const [path, g] of a) {
    const ge = toHost(g);
    const gjit = toHost(b.get(path) as np.Array);
    for (let i = 0; i < ge.length; i++) assert.ok(Math.abs(ge[i] - gjit[i]) <= 1e-4 + 1e-3 * Math.abs(ge[i]), `${path}[${i}]`);
    if (ge.some((v) => v !== 0)) nonzero++;
  }
  // Every parameter tensor receives gradient (BN-free paths too: the deepest block, the decoder skips).
  assert.ok(nonzero >= a.length - 2, `${nonzero} of ${a.length} gradients are non-zero`);
  r.dispose();
  disposeDevicePlan(dev);
});
