/** The tiny VDVI network over-fits one synthetic frame to ≥ 95 % pixel accuracy (issue 12, correctness). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { numpy as np } from "../../src/nn/jax.ts";
import { Rng } from "../../src/core/rng.ts";
import { refParams } from "../../src/nn/params.ts";
import { AdamW } from "../../src/nn/optim.ts";
import { GradStep } from "../../src/nn/train.ts";
import { vdviConfig } from "../../src/models/configs.ts";
import { VdviNet, type VdviParams } from "../../src/models/vdvi/index.ts";
import { disposeState, lossFor, syntheticFrame, toBatch } from "./vdvi-helpers.ts";

test("tiny over-fits one synthetic frame to ≥ 95 % pixel accuracy", () => {
  const net = new VdviNet(vdviConfig("tiny"));
  let params = net.init(new Rng(3));
  const frame = syntheticFrame(5);
  const step = new GradStep<VdviParams>(lossFor(net));
  const opt = new AdamW({ weightDecay: 0, maxGradNorm: 5 });
  let state = opt.init(params);
  // Accuracy in training mode (batch statistics): the loss never updates BatchNorm's running statistics.
  const accuracy = (): number => {
    const b = toBatch(frame);
    b.labels.dispose();
    const out = net.apply(refParams(params), net.initState(), { rgb: b.rgb, features: b.features }, { train: true });
    out.z.dispose();
    disposeState(out.state);
    const pred = np.argmax(out.logits, -1).dataSync() as Int32Array;
    let ok = 0;
    for (let i = 0; i < pred.length; i++) if (pred[i] === frame.labels[i]) ok++;
    return ok / pred.length;
  };
  let acc = 0;
  let steps = 0;
  for (; steps < 300 && acc < 0.97; steps += 20) {
    for (let t = 0; t < 20; t++) {
      const { grads } = step.run(refParams(params), toBatch(frame));
      const r = opt.step(params, grads, state, 1e-2);
      params = r.params;
      state = r.state;
    }
    acc = accuracy();
  }
  step.dispose();
  opt.dispose();
  assert.ok(acc >= 0.95, `pixel accuracy ${acc} after ${steps} steps`);
});
