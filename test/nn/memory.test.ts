import { wasmBytes } from "./wasm-memory-probe.ts";
import { test } from "node:test";
import assert from "node:assert/strict";
import { numpy as np } from "../../src/nn/jax.ts";
import { Rng } from "../../src/core/rng.ts";
import { Conv2d, LayerNorm, gelu, relu, type ConvParams, type NormParams } from "../../src/nn/layers/index.ts";
import { AdamW } from "../../src/nn/optim.ts";
import { GradStep, type Batch } from "../../src/nn/train.ts";
import { refParams } from "../../src/nn/params.ts";

type Net = { c1: ConvParams; ln: NormParams; c2: ConvParams };

test("training with GradStep and AdamW at fixed shapes keeps the jax-js heap flat (no leaked arrays)", () => {
  const c1 = new Conv2d("c1", 3, 16, 3);
  const ln = new LayerNorm("ln", 16);
  const c2 = new Conv2d("c2", 16, 4, 3);
  const loss = (p: Net, b: Batch): np.Array =>
    np.mean(np.square(c2.apply(p.c2, gelu(ln.apply(p.ln, relu(c1.apply(p.c1, b.x))))).sub(b.y)));
  const rng = new Rng("memory");
  let params: Net = { c1: c1.init(rng), ln: ln.init(rng), c2: c2.init(rng) };
  const opt = new AdamW({ maxGradNorm: 1 });
  let state = opt.init(params);
  const gs = new GradStep<Net>(loss);
  const x = rng.fillNormal(new Float32Array(2 * 32 * 32 * 3));
  const y = rng.fillNormal(new Float32Array(2 * 32 * 32 * 4));
  let after20 = 0;
  for (let t = 0; t < 150; t++) {
    const { grads } = gs.run(refParams(params), { x: np.array(x).reshape([2, 32, 32, 3]), y: np.array(y).reshape([2, 32, 32, 4]) });
    const r = opt.step(params, grads, state, 1e-3);
    r.gradNorm.dispose();
    params = r.params;
    state = r.state;
    if (t === 20) after20 = wasmBytes();
  }
  assert.ok(after20 > 0, "the probe saw jax-js's memory");
  // A leak of one batch per step would add ~8 MB over 130 steps; the heap must not grow at all once warm.
  assert.equal(wasmBytes(), after20);
  gs.dispose();
  opt.dispose();
});
