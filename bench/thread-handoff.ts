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
import { numpy as np, blockUntilReady } from "../src/nn/jax.ts";
import { initEngine, engineInfo } from "../src/nn/engine/index.ts";
import { setThreadHandoff } from "../src/nn/engine/shim.ts";
import { Rng } from "../src/core/rng.ts";
import { refParams } from "../src/nn/params.ts";
import { vdviConfig } from "../src/models/configs.ts";
import { VdviNet } from "../src/models/vdvi/index.ts";
import { jitEvalForward, trainStepRunner } from "../src/eval/bench-model.ts";

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
const { height: H, width: W } = cfg;
const uniform = (shape: number[], lo: number, hi: number): np.Array => np.array(rng.fillUniform(new Float32Array(shape.reduce((a, b) => a * b, 1)), lo, hi)).reshape(shape);
const rgb = uniform([1, H, W, 3], 0, 1);
const feats = uniform([1, H, W, cfg.feat.inChannels], -1, 1);

function forwardRun(): () => Promise<void> {
  const forward = jitEvalForward(net);
  return async () => (await blockUntilReady(forward(refParams(params0), refParams(state), rgb.ref, feats.ref))).dispose();
}
const runner = values.train ? trainStepRunner(net, params0, rgb, feats, cfg.numClasses, rng) : null;
const run = runner !== null ? () => runner.step() : forwardRun();
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
