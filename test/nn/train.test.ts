import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { numpy as np, random } from "../../src/nn/jax.ts";
import { Rng } from "../../src/core/rng.ts";
import { Conv2d, dropout, relu, type ConvParams } from "../../src/nn/layers/index.ts";
import { AdamW, polySchedule, withWarmup, type AdamWState } from "../../src/nn/optim.ts";
import { GradStep, JsonlLogger, Prefetcher, workerProducer, type Batch } from "../../src/nn/train.ts";
import { loadCheckpoint, saveCheckpoint } from "../../src/nn/checkpoint.ts";
import { flattenParams, refParams } from "../../src/nn/params.ts";
import { toHost } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "rtgs2-nn-train-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

type Net = { c1: ConvParams; c2: ConvParams };
const conv1 = new Conv2d("c1", 1, 8, 3);
const conv2 = new Conv2d("c2", 8, 2, 3);

/**
 * Toy segmentation task: binary 8×8 noise; a pixel is class 1 when it is on and has an on neighbour to its
 * left or right. Needs a 3×3 receptive field and a non-linearity: a 2-layer CNN can fit it exactly.
 */
function toyBatch(rng: Rng, n: number): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(n * 64);
  const y = new Int32Array(n * 64);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform() < 0.5 ? 1 : 0;
  for (let b = 0; b < n; b++)
    for (let r = 0; r < 8; r++)
      for (let c = 0; c < 8; c++) {
        const i = b * 64 + r * 8 + c;
        const left = c > 0 && x[i - 1] === 1;
        const right = c < 7 && x[i + 1] === 1;
        y[i] = x[i] === 1 && (left || right) ? 1 : 0;
      }
  return { x, y };
}

function toDevice(b: { x: Float32Array; y: Int32Array }, n: number): Batch {
  return { x: np.array(b.x).reshape([n, 8, 8, 1]), y: np.array(b.y, { dtype: np.int32 }).reshape([n, 8, 8]) };
}

/** Pixel-mean cross-entropy of the 2-layer CNN; `key` (when present) drives dropout between the layers. */
function loss(p: Net, batch: Batch): np.Array {
  let h = relu(conv1.apply(p.c1, batch.x));
  if (batch.key !== undefined) h = dropout(h, 0.1, batch.key, true);
  const logits = conv2.apply(p.c2, h);
  const logp = logits.ref.sub(np.log(np.sum(np.exp(logits), -1, { keepdims: true })));
  const onehot = np.equal(batch.y.reshape([...batch.y.shape, 1]), np.arange(2).astype(np.int32)).astype(np.float32);
  return np.mean(np.sum(logp.mul(onehot), -1)).neg();
}

test("a 2-layer CNN trains on a toy segmentation task to near-zero loss", () => {
  const rng = new Rng("toy");
  let params: Net = { c1: conv1.init(rng), c2: conv2.init(rng) };
  const data = toyBatch(rng, 16);
  const step = new GradStep<Net>(loss);
  const opt = new AdamW({ weightDecay: 0, maxGradNorm: 5 });
  let state = opt.init(params);
  const sched = withWarmup(polySchedule(3e-2, 400), 10);
  let last = Infinity;
  const first = step.run(refParams(params), toDevice(data, 16));
  first.grads.dispose();
  for (let t = 0; t < 400 && last > 0.01; t++) {
    const { loss: l, grads } = step.run(refParams(params), toDevice(data, 16));
    const r = opt.step(params, grads, state, sched(t));
    r.gradNorm.dispose();
    params = r.params;
    state = r.state;
    last = l;
  }
  assert.ok(first.loss > 0.4, `initial loss ${first.loss}`);
  assert.ok(last < 0.01, `final loss ${last}`);
  assert.equal(step.compiledBuckets, 1);
  step.dispose();
  opt.dispose();
});

test("gradient accumulation over micro-batches equals the gradient of their union; buckets compile once per shape", () => {
  const rng = new Rng("accum");
  const params: Net = { c1: conv1.init(rng), c2: conv2.init(rng) };
  const a = toyBatch(rng, 2);
  const b = toyBatch(rng, 2);
  const both = { x: new Float32Array([...a.x, ...b.x]), y: new Int32Array([...a.y, ...b.y]) };
  const step = new GradStep<Net>(loss);
  const acc = step.accumulate(refParams(params), [toDevice(a, 2), toDevice(b, 2)]);
  const full = step.run(refParams(params), toDevice(both, 4));
  assert.equal(step.compiledBuckets, 2);
  assert.ok(Math.abs(acc.loss - full.loss) < 1e-6);
  const fa = new Map(flattenParams(acc.grads));
  for (const [path, g] of flattenParams(full.grads)) {
    const x = toHost(g);
    const y = toHost(fa.get(path) as np.Array);
    x.forEach((v, i) => assert.ok(Math.abs(v - y[i]) < 1e-6 + 1e-4 * Math.abs(v), `${path}[${i}] ${v} vs ${y[i]}`));
  }
  step.dispose();
});

interface Run {
  params: Net;
  state: AdamWState;
  rng: Rng;
  step: number;
}

/** Train the toy net with shuffled mini-batches, dropout keys drawn from `rng`, and an AdamW + warm-up schedule. */
function trainSteps(run: Run, until: number, data: { x: Float32Array; y: Int32Array }, opt: AdamW, gs: GradStep<Net>, logger: JsonlLogger): Run {
  const sched = withWarmup(polySchedule(1e-2, 12), 3);
  let { params, state } = run;
  for (let t = run.step; t < until; t++) {
    const order = run.rng.shuffle(Int32Array.from({ length: 8 }, (_, i) => i)).subarray(0, 4);
    const x = new Float32Array(4 * 64);
    const y = new Int32Array(4 * 64);
    order.forEach((src, j) => {
      x.set(data.x.subarray(src * 64, src * 64 + 64), j * 64);
      y.set(data.y.subarray(src * 64, src * 64 + 64), j * 64);
    });
    const batch = toDevice({ x, y }, 4);
    batch.key = random.key(run.rng.next());
    const { loss: l, grads } = gs.run(refParams(params), batch);
    const r = opt.step(params, grads, state, sched(t));
    r.gradNorm.dispose();
    params = r.params;
    state = r.state;
    logger.log({ step: t + 1, loss: l, lr: sched(t) });
  }
  return { params, state, rng: run.rng, step: until };
}

test("resuming from a checkpoint continues bit-identically to an uninterrupted run, log included", () => {
  const data = toyBatch(new Rng("resume-data"), 8);
  const fresh = (): Run => {
    const rng = new Rng("resume");
    const params = { c1: conv1.init(rng), c2: conv2.init(rng) };
    return { params, state: new AdamW().init(params), rng, step: 0 };
  };
  const opt = new AdamW({ maxGradNorm: 1 });
  const gs = new GradStep<Net>(loss);
  const logA = new JsonlLogger(join(dir, "a.jsonl"));
  const straight = trainSteps(fresh(), 8, data, opt, gs, logA);

  const logB = new JsonlLogger(join(dir, "b.jsonl"));
  const half = trainSteps(fresh(), 5, data, opt, gs, logB);
  const ckpt = join(dir, "resume.safetensors");
  saveCheckpoint(ckpt, { params: half.params, optimizer: half.state, step: half.step, rng: half.rng.getState(), config: { toy: true } });
  // Steps 6–7 happen and are logged, then the run "crashes" before its next checkpoint.
  trainSteps(half, 7, data, opt, gs, logB);
  const template = fresh().params;
  const loaded = loadCheckpoint(ckpt, template, { optimizer: true });
  assert.ok(loaded.optimizer !== undefined && loaded.rng !== undefined && loaded.step === 5);
  const resumed = trainSteps(
    { params: loaded.params, state: loaded.optimizer, rng: Rng.fromState(loaded.rng), step: loaded.step },
    8,
    data,
    opt,
    gs,
    new JsonlLogger(join(dir, "b.jsonl"), { resumeStep: loaded.step }),
  );
  const a = new Map(flattenParams(straight.params));
  for (const [path, arr] of flattenParams(resumed.params)) {
    assert.deepEqual(toHost(arr), toHost(a.get(path) as np.Array), `${path} differs after resume`);
  }
  assert.deepEqual(toHost(resumed.state.v), toHost(straight.state.v));
  assert.deepEqual(logB.read(), logA.read());
  assert.equal(logA.read().length, 8);
  gs.dispose();
  opt.dispose();
});

test("the prefetcher prepares the next batch in a worker while the current one is in use", async () => {
  const worker = workerProducer<{ index: number; started: number; data: Float32Array }>(new URL("./batch-worker.ts", import.meta.url));
  const pre = new Prefetcher(worker.produce, 4, 1);
  const seen: number[] = [];
  const started: number[] = [];
  const finished: number[] = [];
  for await (const item of pre) {
    seen.push(item.index);
    started.push(item.started);
    assert.deepEqual([...item.data], [0, 1, 2, 3].map((i) => item.index * 10 + i));
    // Simulate a training step; the worker is meanwhile building the next batch.
    await new Promise((r) => setTimeout(r, 120));
    finished.push(Date.now());
  }
  assert.deepEqual(seen, [0, 1, 2, 3]);
  for (let i = 0; i < 3; i++) assert.ok(started[i + 1] < finished[i], `batch ${i + 1} started only after step ${i} ended`);
  await worker.close();
});

test("asynchronous steps (runAsync, then the update's ready()) give the synchronous steps' losses and parameters bit for bit", async () => {
  const run = async (asynchronous: boolean): Promise<{ losses: number[]; params: number[][]; norms: number[] }> => {
    const rng = new Rng("async-sync");
    let params: Net = { c1: conv1.init(rng), c2: conv2.init(rng) };
    const data = toyBatch(rng, 4);
    const step = new GradStep<Net>(loss);
    const opt = new AdamW({ weightDecay: 0.01, maxGradNorm: 1 });
    let state = opt.init(params);
    const losses: number[] = [];
    const norms: number[] = [];
    for (let t = 0; t < 5; t++) {
      const g = asynchronous ? await step.runAsync(refParams(params), toDevice(data, 4)) : step.run(refParams(params), toDevice(data, 4));
      const r = opt.step(params, g.grads, state, 1e-2);
      if (asynchronous) await r.ready();
      norms.push(asynchronous ? (await r.gradNorm.data())[0] : r.gradNorm.item());
      params = r.params;
      state = r.state;
      losses.push(g.loss);
    }
    const out = flattenParams(params).map(([, a]) => Array.from(toHost(a.ref)));
    step.dispose();
    opt.dispose();
    return { losses, params: out, norms };
  };
  const sync = await run(false);
  const asynchronous = await run(true);
  assert.ok(sync.losses[4] < sync.losses[0], `the loss falls: ${sync.losses.join(", ")}`);
  assert.deepEqual(asynchronous, sync);
});
