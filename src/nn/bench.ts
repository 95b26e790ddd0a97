/**
 * `rtgs2 bench nn` / `bench/nn.ts`: each layer kind's speed at the lite model's shapes (METHOD.md §5, 320×240
 * input, batch 1), as a ratio to a 1024² matmul measured in the same run, forward and forward + backward.
 *
 * The matmul reference is `A·Bᵀ`, the faster form on jax-js (the layers use `x·Wᵀ` too), so a ratio never
 * flatters a layer. The machine is shared with other work, so each layer's rounds alternate with rounds of the
 * reference and its ratios divide the best of each: load that comes and goes hits both alike. FLOPs are 2 per
 * multiply-add of `macsAll` (conv, linear, attention products, norms, and resize matrices as executed); a
 * training step (forward + vjp for an upstream cotangent) counts 3× the forward FLOPs.
 *
 * Threads are fixed per process (jax-js sizes its worker pool at import), so the one-thread matmul for
 * `threadSpeedup` runs in a child process with `RTGS2_THREADS=1`.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { numpy as np, jit, vjp, blockUntilReady, type OwnedFunction } from "./jax.ts";
import { engineInfo, initEngine, THREADS_ENV } from "./engine/index.ts";
import { Rng } from "../core/rng.ts";
import { mapParams, type ParamTree } from "./params.ts";
import {
  Conv2d,
  DepthwiseConv2d,
  LayerNorm,
  Linear,
  MultiHeadAttention,
  SpatialReductionAttention,
  gelu,
  resizeBilinear,
  type MacCount,
} from "./layers/index.ts";

/** One layer line of the benchmark. */
export interface LayerBench {
  name: string;
  /** What was measured, in words (shapes). */
  shape: string;
  /** Forward GFLOP of one call. */
  gflop: number;
  forwardMs: number;
  trainMs: number;
  forwardGflopsPerSecond: number;
  trainGflopsPerSecond: number;
  /** Forward GFLOP/s over the same run's matmul GFLOP/s. */
  forwardRatio: number;
  /** Forward + backward GFLOP/s over the same run's matmul GFLOP/s. */
  trainRatio: number;
  /** The 1024² matmul rate measured in rounds interleaved with this layer's (the ratios' denominator). */
  matmulGflopsPerSecond: number;
}

/** The `--json` object (ARCHITECTURE.md §5 names the first four fields). */
export interface NnBenchResult {
  matmulGflopsPerSecond: number;
  threads: number;
  threadSpeedup: number;
  layers: LayerBench[];
  /**
   * 1024² `A·B` and `A·Bᵀ` rates (the reference is the larger), the one-thread rate, and a bare matmul at the
   * linear layer's GEMM shape (4800×32 by 32×128): the ceiling jax-js reaches on a GEMM that small.
   */
  matmul: { ab: number; abT: number; singleThread: number; smallGemm: number; smallGemmRatio: number };
  /** A lite ConvNeXt stage-1 block (80×60×32) and the share of its time spent in depthwise conv + LayerNorm. */
  convnextBlock: { forwardMs: number; trainMs: number; dwNormForwardFraction: number; dwNormTrainFraction: number };
  device: string;
  date: string;
}

type Outputs = np.Array | np.Array[] | ParamTree | [np.Array, ParamTree];

async function settle(out: Outputs): Promise<void> {
  await blockUntilReady(out);
  const leaves: np.Array[] = [];
  const walk = (v: unknown): void => {
    if (v instanceof np.Array) leaves.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(out);
  for (const l of leaves) l.dispose();
}

/** Per-call milliseconds of one round of repeated calls lasting at least `roundMs`. */
async function timeRound(fn: () => Outputs, roundMs: number): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  while (n === 0 || performance.now() - t0 < roundMs) {
    await settle(fn());
    n++;
  }
  return (performance.now() - t0) / n;
}

/** Best per-call milliseconds over `rounds` rounds of at least `roundMs` each, after two warm-up calls. */
export async function timeCall(fn: () => Outputs, rounds = 5, roundMs = 120): Promise<number> {
  await settle(fn());
  await settle(fn());
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    const t0 = performance.now();
    while (n === 0 || performance.now() - t0 < roundMs) {
      await settle(fn());
      n++;
    }
    best = Math.min(best, (performance.now() - t0) / n);
  }
  return best;
}

function randn(rng: Rng, shape: number[], std = 1): np.Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const buf = new Float32Array(n);
  rng.fillNormal(buf, 0, std);
  return np.array(buf).reshape(shape);
}

/** 1024² fp32 matmul rates (GFLOP/s) for `A·B` and `A·Bᵀ`. */
export async function benchMatmul(n = 1024): Promise<{ ab: number; abT: number }> {
  const rng = new Rng("bench-matmul");
  const a = randn(rng, [n, n]);
  const b = randn(rng, [n, n]);
  const ab = jit((x: np.Array, y: np.Array) => np.matmul(x, y));
  const abT = jit((x: np.Array, y: np.Array) => np.matmul(x, y.transpose()));
  const flop = 2 * n ** 3;
  const tAb = await timeCall(() => ab(a.ref, b.ref), 4, 300);
  const tAbT = await timeCall(() => abT(a.ref, b.ref), 4, 300);
  ab.dispose();
  abT.dispose();
  a.dispose();
  b.dispose();
  return { ab: flop / tAb / 1e6, abT: flop / tAbT / 1e6 };
}

/** A bare `x·Wᵀ` at the linear layer's shape: how fast jax-js multiplies matrices this small. */
async function benchSmallGemm(): Promise<number> {
  const rng = new Rng("bench-small-gemm");
  const x = randn(rng, [4800, 32]);
  const w = randn(rng, [128, 32]);
  const f = jit((a: np.Array, b: np.Array) => np.matmul(a, b.transpose()));
  const ms = await timeCall(() => f(x.ref, w.ref), 4, 200);
  f.dispose();
  x.dispose();
  w.dispose();
  return (2 * 4800 * 32 * 128) / ms / 1e6;
}

/** The 1024² `A·Bᵀ` reference, kept compiled so it can be timed between a layer's rounds. */
class MatmulProbe {
  readonly #a: np.Array;
  readonly #b: np.Array;
  readonly #f = jit((x: np.Array, y: np.Array) => np.matmul(x, y.transpose()));
  /** Best rate seen over the whole run (GFLOP/s). */
  best = 0;
  constructor() {
    const rng = new Rng("bench-probe");
    this.#a = randn(rng, [1024, 1024]);
    this.#b = randn(rng, [1024, 1024]);
  }
  call = (): Outputs => this.#f(this.#a.ref, this.#b.ref);
  /** Record a per-call time; returns the rate in GFLOP/s. */
  rate(ms: number): number {
    const g = (2 * 1024 ** 3) / ms / 1e6;
    this.best = Math.max(this.best, g);
    return g;
  }
}

interface Case<P extends ParamTree> {
  name: string;
  shape: string;
  params: P;
  input: np.Array;
  macs: MacCount;
  fn: (p: P, x: np.Array) => np.Array;
}

/**
 * Time a layer's forward and training step with rounds of the matmul reference interleaved between them, so a
 * change of load on this shared machine hits the layer and its reference alike; ratios use the best of each.
 */
async function benchCase<P extends ParamTree>(c: Case<P>, probe: MatmulProbe, rng: Rng, rounds = 5, roundMs = 100): Promise<LayerBench> {
  type Fn = (p: P, x: np.Array) => Outputs;
  const fwdJit = jit(c.fn);
  const fwd = fwdJit as unknown as Fn;
  const sample = fwd(mapParams(c.params, (a) => a.ref), c.input.ref) as np.Array;
  const r = randn(rng, sample.shape);
  sample.dispose();
  // A training step of the layer inside a network: forward, then the vector-Jacobian product for an upstream
  // cotangent, giving gradients for the parameters and the input.
  const layerVjp = vjp as unknown as (f: (p: P, x: np.Array) => np.Array, primals: [P, np.Array]) => [np.Array, OwnedFunction<(ct: np.Array) => [P, np.Array]>];
  const trainJit = jit((p: P, x: np.Array, ct: np.Array) => {
    const [y, back] = layerVjp(c.fn, [p, x]);
    const grads = back(ct);
    back.dispose();
    return [y, grads];
  });
  const train = trainJit as unknown as (p: P, x: np.Array, ct: np.Array) => Outputs;
  const runFwd = (): Outputs => fwd(mapParams(c.params, (a) => a.ref), c.input.ref);
  const runTrain = (): Outputs => train(mapParams(c.params, (a) => a.ref), c.input.ref, r.ref);
  for (const f of [runFwd, runFwd, runTrain, runTrain, probe.call]) await settle(f());
  let forwardMs = Infinity;
  let trainMs = Infinity;
  let mmMs = Infinity;
  for (let i = 0; i < rounds; i++) {
    mmMs = Math.min(mmMs, await timeRound(probe.call, roundMs));
    forwardMs = Math.min(forwardMs, await timeRound(runFwd, roundMs));
    mmMs = Math.min(mmMs, await timeRound(probe.call, roundMs));
    trainMs = Math.min(trainMs, await timeRound(runTrain, roundMs));
  }
  const ref = probe.rate(mmMs);
  fwdJit.dispose();
  trainJit.dispose();
  r.dispose();
  const gflop = (2 * c.macs.macsAll) / 1e9;
  const fg = gflop / (forwardMs / 1e3);
  const tg = (3 * gflop) / (trainMs / 1e3);
  return {
    name: c.name,
    shape: c.shape,
    gflop,
    forwardMs,
    trainMs,
    forwardGflopsPerSecond: fg,
    trainGflopsPerSecond: tg,
    forwardRatio: fg / ref,
    trainRatio: tg / ref,
    matmulGflopsPerSecond: ref,
  };
}

/** One-thread matmul reference, measured in a child process (threads are fixed per process). */
function singleThreadMatmul(): number {
  const self = fileURLToPath(import.meta.url);
  const tsx = import.meta.resolve("tsx");
  const child = spawnSync(process.execPath, ["--import", tsx, self, "--matmul-only"], {
    env: { ...process.env, [THREADS_ENV]: "1" },
    encoding: "utf8",
  });
  if (child.status !== 0) throw new Error(`one-thread matmul run failed: ${child.stderr}`);
  const m = JSON.parse(child.stdout) as { ab: number; abT: number };
  return Math.max(m.ab, m.abT);
}

/** Run the whole benchmark in this process (its thread count is `RTGS2_THREADS`, default all cores). */
export async function runNnBench(log: (line: string) => void = () => {}): Promise<NnBenchResult> {
  const info = await initEngine();
  const threads = engineInfo().threads;
  const single = threads === 1 ? null : singleThreadMatmul();
  const mm = await benchMatmul();
  const probe = new MatmulProbe();
  log(`matmul 1024²: A·B ${mm.ab.toFixed(1)} GFLOP/s, A·Bᵀ ${mm.abT.toFixed(1)} GFLOP/s, ${threads} thread(s)`);
  log("ratios are against 1024² A·Bᵀ rounds interleaved with each layer's rounds (shown as 'ref')");
  const rng = new Rng("bench-nn");
  const H = 60;
  const W = 80;
  const layers: LayerBench[] = [];
  const run = async <P extends ParamTree>(c: Case<P>): Promise<void> => {
    const b = await benchCase(c, probe, rng);
    layers.push(b);
    log(`${b.name.padEnd(11)} ${b.shape.padEnd(46)} fwd ${b.forwardMs.toFixed(2).padStart(7)} ms ${b.forwardGflopsPerSecond.toFixed(1).padStart(5)} GFLOP/s (${(100 * b.forwardRatio).toFixed(0).padStart(3)} %)  train ${b.trainMs.toFixed(2).padStart(7)} ms ${b.trainGflopsPerSecond.toFixed(1).padStart(5)} GFLOP/s (${(100 * b.trainRatio).toFixed(0).padStart(3)} %)  ref ${b.matmulGflopsPerSecond.toFixed(1)}`);
  };

  const lin = new Linear("linear", 32, 128);
  await run({ name: "linear", shape: `${H * W} tokens, 32→128 (ConvNeXt-1 MLP)`, params: lin.init(rng), input: randn(rng, [1, H, W, 32]), macs: lin.macs([1, H, W, 32]), fn: (p, x) => lin.apply(p, x) });
  const c3 = new Conv2d("conv3x3", 32, 32, 3);
  await run({ name: "conv3x3", shape: `${W}×${H}, 32→32, stride 1`, params: c3.init(rng), input: randn(rng, [1, H, W, 32]), macs: c3.macs([1, H, W, 32]), fn: (p, x) => c3.apply(p, x) });
  const c7 = new Conv2d("conv7x7", 32, 16, 7, { stride: 4, padding: 3 });
  await run({ name: "conv7x7", shape: "320×240, 32→16, stride 4 pad 3 (MiT embed)", params: c7.init(rng), input: randn(rng, [1, 240, 320, 32]), macs: c7.macs([1, 240, 320, 32]), fn: (p, x) => c7.apply(p, x) });
  const dw = new DepthwiseConv2d("dwconv7x7", 32, 7);
  await run({ name: "dwconv7x7", shape: `${W}×${H}×32 (ConvNeXt-1)`, params: dw.init(rng), input: randn(rng, [1, H, W, 32]), macs: dw.macs([1, H, W, 32]), fn: (p, x) => dw.apply(p, x) });
  const sra = new SpatialReductionAttention("sra", 16, 1, 8);
  await run({
    name: "sra",
    shape: `${H * W} tokens, dim 16, 1 head, r = 8 (MiT-1)`,
    params: sra.init(rng),
    input: randn(rng, [1, H * W, 16]),
    macs: sra.macs([1, H * W, 16], H, W),
    fn: (p, x) => sra.apply(p, { tokens: x, height: H, width: W }),
  });
  const att = new MultiHeadAttention("attention", 32, 1);
  await run({ name: "attention", shape: "1200 tokens, dim 32, global (SCC-2)", params: att.init(rng), input: randn(rng, [1, 1200, 32]), macs: att.macs([1, 1200, 32]), fn: (p, x) => att.apply(p, x) });
  const ln = new LayerNorm("layernorm", 32);
  await run({ name: "layernorm", shape: `${W}×${H}×32`, params: ln.init(rng), input: randn(rng, [1, H, W, 32]), macs: ln.macs([1, H, W, 32]), fn: (p, x) => ln.apply(p, x) });
  const upMacs = 60 * 30 * 40 * 64 + 60 * 80 * 40 * 64;
  await run({ name: "upsample", shape: "bilinear 40×30×64 → 80×60 (decoder, matrices)", params: {}, input: randn(rng, [1, 30, 40, 64]), macs: { macs: 0, macsAll: upMacs }, fn: (_p, x) => resizeBilinear(x, 60, 80, "matrix") });

  // A lite ConvNeXt block at stage 1: dw7 → LN → Linear 4C → GELU → Linear → layer scale → residual.
  const C = 32;
  const bDw = new DepthwiseConv2d("b.dw", C, 7);
  const bLn = new LayerNorm("b.ln", C);
  const bFc1 = new Linear("b.fc1", C, 4 * C);
  const bFc2 = new Linear("b.fc2", 4 * C, C);
  type BlockP = { dw: ReturnType<DepthwiseConv2d["init"]>; ln: ReturnType<LayerNorm["init"]>; fc1: ReturnType<Linear["init"]>; fc2: ReturnType<Linear["init"]>; gamma: np.Array };
  const block = (p: BlockP, x: np.Array): np.Array => {
    const h = bFc2.apply(p.fc2, gelu(bFc1.apply(p.fc1, bLn.apply(p.ln, bDw.apply(p.dw, x.ref)))));
    return x.add(h.mul(p.gamma));
  };
  const bp: BlockP = { dw: bDw.init(rng), ln: bLn.init(rng), fc1: bFc1.init(rng), fc2: bFc2.init(rng), gamma: np.full([C], 1e-6) };
  const bMacs = bDw.macs([1, H, W, C]).macsAll + bLn.macs([1, H, W, C]).macsAll + bFc1.macs([1, H, W, C]).macsAll + bFc2.macs([1, H, W, 4 * C]).macsAll;
  const blk = await benchCase({ name: "convnext", shape: "", params: bp, input: randn(rng, [1, H, W, C]), macs: { macs: bMacs, macsAll: bMacs }, fn: block }, probe, rng);
  const dwB = layers.find((l) => l.name === "dwconv7x7") as LayerBench;
  const lnB = layers.find((l) => l.name === "layernorm") as LayerBench;
  // Times measured minutes apart are compared in units of their own interleaved matmul, so load drift cancels.
  const norm = (ms: number, b: LayerBench): number => ms * b.matmulGflopsPerSecond;
  const convnextBlock = {
    forwardMs: blk.forwardMs,
    trainMs: blk.trainMs,
    dwNormForwardFraction: (norm(dwB.forwardMs, dwB) + norm(lnB.forwardMs, lnB)) / norm(blk.forwardMs, blk),
    dwNormTrainFraction: (norm(dwB.trainMs, dwB) + norm(lnB.trainMs, lnB)) / norm(blk.trainMs, blk),
  };
  log(`ConvNeXt block ${W}×${H}×${C}: fwd ${blk.forwardMs.toFixed(2)} ms, train ${blk.trainMs.toFixed(2)} ms; depthwise + LayerNorm share ${(100 * convnextBlock.dwNormForwardFraction).toFixed(0)} % fwd, ${(100 * convnextBlock.dwNormTrainFraction).toFixed(0)} % train`);
  const small = await benchSmallGemm();
  const mm2 = await benchMatmul();
  const ref = Math.max(mm.ab, mm.abT, mm2.ab, mm2.abT, probe.best);
  log(`matmul 1024² again: A·B ${mm2.ab.toFixed(1)}, A·Bᵀ ${mm2.abT.toFixed(1)} GFLOP/s; best of the run ${ref.toFixed(1)} GFLOP/s`);
  // The one-thread rate is the better of two child runs, so a loaded moment cannot inflate the speed-up.
  const singleThread = single === null ? ref : Math.max(single, singleThreadMatmul());
  log(`bare matmul 4800×32 · (128×32)ᵀ: ${small.toFixed(1)} GFLOP/s (${((100 * small) / ref).toFixed(0)} % of the best 1024² rate)`);
  return {
    matmulGflopsPerSecond: ref,
    threads,
    threadSpeedup: ref / singleThread,
    layers,
    matmul: { ab: Math.max(mm.ab, mm2.ab), abT: Math.max(mm.abT, mm2.abT), singleThread, smallGemm: small, smallGemmRatio: small / ref },
    convnextBlock,
    device: info.device,
    date: new Date().toISOString(),
  };
}

/** Entry point: `[--json] [--matmul-only]`; `--threads` is applied by the caller through `RTGS2_THREADS`. */
export async function main(argv: string[]): Promise<void> {
  if (argv.includes("--matmul-only")) {
    await initEngine();
    process.stdout.write(`${JSON.stringify(await benchMatmul())}\n`);
    return;
  }
  const json = argv.includes("--json");
  const result = await runNnBench(json ? () => {} : (line) => process.stdout.write(`${line}\n`));
  if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    process.stdout.write(`thread speed-up (1 → ${result.threads}) on the matmul: ${result.threadSpeedup.toFixed(2)}×\n`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  await main(process.argv.slice(2));
}
