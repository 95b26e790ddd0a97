/**
 * The two ways the engine shim hands a kernel chunk to a worker thread, compared in one process (the VM's speed
 * drifts by ±15 % between runs, so separate processes cannot show a 5–20 % difference):
 *
 *   RTGS2_THREADS=2 node --import tsx bench/thread-handoff.ts [--train] [--rounds 6] [--json]
 *
 * Alternates `atomics` (shared memory, `src/nn/engine/kernel-thread.ts`) and `message` (jax-js's worker code)
 * round by round on lite's jitted eval forward (8 calls a round) or, with `--train`, its training step (loss,
 * gradient and AdamW, 2 a round), and prints each mode's median and best milliseconds. Both modes run with the
 * inline bound given by `RTGS2_INLINE_US` (default: each mode's own).
 */
import { parseArgs } from "node:util";
import { numpy as np, jit, random, blockUntilReady } from "../src/nn/jax.ts";
import { initEngine, engineInfo } from "../src/nn/engine/index.ts";
import { setThreadHandoff } from "../src/nn/engine/shim.ts";
import { Rng } from "../src/core/rng.ts";
import { refParams } from "../src/nn/params.ts";
import { AdamW } from "../src/nn/optim.ts";
import { GradStep, type Batch } from "../src/nn/train.ts";
import { vdviConfig } from "../src/models/configs.ts";
import { VdviNet, type BnStates, type VdviParams } from "../src/models/vdvi/index.ts";

const { values } = parseArgs({
  options: { train: { type: "boolean", default: false }, rounds: { type: "string", default: "6" }, json: { type: "boolean", default: false } },
});
await initEngine();
if (engineInfo().threads < 2) {
  process.stderr.write("usage: RTGS2_THREADS=2 node --import tsx bench/thread-handoff.ts [--train] [--rounds N] [--json] (needs ≥ 2 threads)\n");
  process.exit(2);
}
const cfg = vdviConfig("lite");
const net = new VdviNet(cfg);
const rng = new Rng("bench-thread-handoff");
const params0 = net.init(rng);
const state = net.initState();
const { height: H, width: W, numClasses: K } = cfg;
const uniform = (shape: number[], lo: number, hi: number): np.Array => np.array(rng.fillUniform(new Float32Array(shape.reduce((a, b) => a * b, 1)), lo, hi)).reshape(shape);
const rgb = uniform([1, H, W, 3], 0, 1);
const feats = uniform([1, H, W, cfg.feat.inChannels], -1, 1);

function forwardCall(): () => Promise<void> {
  const f = jit((p: VdviParams, s: BnStates, x: np.Array, ft: np.Array) => {
    const o = net.apply(p, s, { rgb: x, features: ft }, { train: false });
    o.z.dispose();
    for (const v of Object.values(o.state)) {
      v.runningMean.dispose();
      v.runningVar.dispose();
    }
    return o.logits;
  });
  return async () => (await blockUntilReady(f(refParams(params0), refParams(state), rgb.ref, feats.ref))).dispose();
}

function trainCall(): () => Promise<void> {
  const labels = new Int32Array(H * W);
  for (let i = 0; i < labels.length; i++) labels[i] = rng.int(K);
  const y = np.array(labels, { dtype: np.int32 }).reshape([1, H, W]);
  const step = new GradStep<VdviParams>((p: VdviParams, b: Batch) => {
    const out = net.apply(p, net.initState(), { rgb: b.rgb, features: b.features }, { train: true, key: b.key });
    out.z.dispose();
    for (const v of Object.values(out.state)) {
      v.runningMean.dispose();
      v.runningVar.dispose();
    }
    const logp = out.logits.ref.sub(np.log(np.sum(np.exp(out.logits), -1, { keepdims: true })));
    const onehot = np.equal(b.labels.reshape([1, H, W, 1]), np.arange(K).astype(np.int32)).astype(np.float32);
    return np.mean(np.sum(logp.mul(onehot), -1)).neg();
  });
  const opt = new AdamW({ weightDecay: 0.01, maxGradNorm: 1 });
  let params = refParams(params0);
  let optState = opt.init(params);
  let seed = 0;
  return async () => {
    const { grads } = await step.runAsync(refParams(params), { rgb: rgb.ref, features: feats.ref, labels: y.ref, key: random.key(seed++) });
    const r = opt.step(params, grads, optState, 1e-4);
    r.gradNorm.dispose();
    await r.ready();
    params = r.params;
    optState = r.state;
    await blockUntilReady(params);
  };
}

const run = values.train ? trainCall() : forwardCall();
const perRound = values.train ? 2 : 8;
const modes = ["message", "atomics"] as const;
const times: Record<(typeof modes)[number], number[]> = { message: [], atomics: [] };
for (let i = 0; i < 3; i++) await run();
for (let r = 0; r < Number(values.rounds); r++) {
  for (const mode of modes) {
    setThreadHandoff(mode);
    await run(); // the first call after a switch settles the per-kernel inline decisions
    const t0 = performance.now();
    for (let i = 0; i < perRound; i++) await run();
    times[mode].push((performance.now() - t0) / perRound);
  }
}
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1];
const summary = Object.fromEntries(modes.map((m) => [m, { medianMs: median(times[m]), bestMs: Math.min(...times[m]), roundsMs: times[m] }]));
if (values.json) process.stdout.write(`${JSON.stringify({ pass: values.train ? "train step" : "forward", threads: engineInfo().threads, ...summary })}\n`);
else for (const m of modes) console.log(`${m.padEnd(8)} ${values.train ? "train step" : "forward"}: median ${summary[m].medianMs.toFixed(1)} ms, best ${summary[m].bestMs.toFixed(1)} ms`);
process.exit(0);
