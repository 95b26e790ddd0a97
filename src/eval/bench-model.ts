/**
 * `rtgs2 bench model` / `bench/model.ts`: VDVI network speed at batch 1 (ARCHITECTURE.md §5): jitted eval
 * forward, one training step (loss + gradient + AdamW update), the same run's 1024² matmul rate, and a per-part
 * breakdown (RGB branch, feature branch, fusion, decoder), each part jitted and timed on its own inputs.
 *
 * FLOP rates count 2 FLOPs per multiply-add of `macsAll` (what actually executes: conv, linear, attention
 * products, norms, resizes), as `bench nn` does; `gflopsPerSecondConvLinear` uses `macs` only. Threads are fixed
 * per process, so the CLI runs this module in a child process with `RTGS2_THREADS`.
 */
import { numpy as np, jit, random, blockUntilReady, type OwnedFunction } from "../nn/jax.ts";
import { initEngine, engineInfo } from "../nn/engine/index.ts";
import { benchMatmul, timeCall } from "../nn/bench.ts";
import { Rng } from "../core/rng.ts";
import { parseSize } from "../core/image-size.ts";
import { refParams, type ParamTree } from "../nn/params.ts";
import { AdamW } from "../nn/optim.ts";
import { GradStep, type Batch } from "../nn/train.ts";
import { vdviConfig, type VdviConfig } from "../models/configs.ts";
import {
  ForwardContext,
  VdviNet,
  type BnStates,
  type ConvNextStageParams,
  type DecoderParams,
  type MitStageParams,
  type SccParams,
  type VdviParams,
} from "../models/vdvi/index.ts";

/** Milliseconds per part of the forward pass. */
export interface ModelBreakdown {
  rgbBranch: number;
  featureBranch: number;
  fusion: number;
  decoder: number;
}

/** The `--json` object; the first fields are ARCHITECTURE.md §5's. */
export interface ModelBenchResult {
  config: string;
  width: number;
  height: number;
  forwardMs: number;
  /** null when the training step was skipped (`--no-train`). */
  trainStepMs: number | null;
  trainImagesPerSecond: number | null;
  gflopsPerSecond: number;
  matmulGflopsPerSecond: number;
  /** gflopsPerSecond / matmulGflopsPerSecond (a fraction). */
  matmulRatio: number;
  breakdown: ModelBreakdown;
  /** Rate of each part (2 × macsAll / time) as a fraction of the matmul rate: which parts hold the ratio back. */
  breakdownMatmulRatio: ModelBreakdown;
  gflopsPerSecondConvLinear: number;
  fps: number;
  gmacs: number;
  gmacsAll: number;
  threads: number;
  device: string;
  date: string;
}

/** Options of a model benchmark run. */
export interface ModelBenchOptions {
  /** A preset name, or a whole config (to compare shapes before making one a preset). */
  config: string | VdviConfig;
  width?: number;
  height?: number;
  train?: boolean;
  /** Timing rounds (best of) and minimum milliseconds per round. */
  rounds?: number;
  roundMs?: number;
}

function uniform(rng: Rng, shape: number[], lo = 0, hi = 1): np.Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return np.array(rng.fillUniform(new Float32Array(n), lo, hi)).reshape(shape);
}

function states(net: VdviNet): BnStates {
  return net.initState();
}

/** Run the benchmark. `log` receives progress lines (human output). */
export async function runModelBench(opts: ModelBenchOptions, log: (line: string) => void = () => {}): Promise<ModelBenchResult> {
  const info = await initEngine();
  const cfg = typeof opts.config === "string" ? vdviConfig(opts.config) : opts.config;
  const width = opts.width ?? cfg.width;
  const height = opts.height ?? cfg.height;
  const rounds = opts.rounds ?? 4;
  const roundMs = opts.roundMs ?? 300;
  const net = new VdviNet(cfg);
  const rng = new Rng("bench-model");
  const params = net.init(rng);
  const state = net.initState();
  const { flops, shapes } = net.analyze(1, height, width);
  const rgb = uniform(rng, [1, height, width, 3]);
  const feats = uniform(rng, [1, height, width, cfg.feat.inChannels], -1, 1);

  const mm0 = await benchMatmul();
  log(`matmul 1024²: ${Math.max(mm0.ab, mm0.abT).toFixed(1)} GFLOP/s, ${engineInfo().threads} thread(s)`);

  const forward = jitEvalForward(net);
  const t0 = performance.now();
  await blockUntilReady(forward(refParams(params), refParams(state), rgb.ref, feats.ref)).then((y) => y.dispose());
  log(`forward compile + first call: ${(performance.now() - t0).toFixed(0)} ms`);
  const forwardMs = await timeCall(() => forward(refParams(params), refParams(state), rgb.ref, feats.ref), rounds, roundMs);
  forward.dispose();
  log(`forward ${forwardMs.toFixed(1)} ms (${(1000 / forwardMs).toFixed(1)} FPS)`);

  const breakdown = await benchParts(net, params, state, shapes, rng, rounds, roundMs);
  log(`breakdown (ms): ${Object.entries(breakdown).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", ")}`);

  let trainStepMs: number | null = null;
  if (opts.train ?? true) {
    trainStepMs = await benchTrain(net, params, rgb, feats, cfg.numClasses, rng, Math.max(2, rounds - 1));
    log(`training step ${trainStepMs.toFixed(1)} ms (${(1000 / trainStepMs).toFixed(2)} images/s)`);
  }
  const mm1 = await benchMatmul();
  const matmul = Math.max(mm0.ab, mm0.abT, mm1.ab, mm1.abT);
  const gflopsPerSecond = (2 * flops.macsAll) / forwardMs / 1e6;
  const parts = flops.byPrefix(["rgb", "feat", "scc", "adapt", "decoder"]);
  const partRate = (macs: number, ms: number): number => (ms > 0 ? (2 * macs) / ms / 1e6 / matmul : 0);
  return {
    config: cfg.name,
    width,
    height,
    forwardMs,
    trainStepMs,
    trainImagesPerSecond: trainStepMs === null ? null : 1000 / trainStepMs,
    gflopsPerSecond,
    matmulGflopsPerSecond: matmul,
    matmulRatio: gflopsPerSecond / matmul,
    breakdown,
    breakdownMatmulRatio: {
      rgbBranch: partRate(parts.rgb.macsAll, breakdown.rgbBranch),
      featureBranch: partRate(parts.feat.macsAll, breakdown.featureBranch),
      fusion: partRate(parts.scc.macsAll + parts.adapt.macsAll, breakdown.fusion),
      decoder: partRate(parts.decoder.macsAll, breakdown.decoder),
    },
    gflopsPerSecondConvLinear: (2 * flops.macs) / forwardMs / 1e6,
    fps: 1000 / forwardMs,
    gmacs: flops.macs / 1e9,
    gmacsAll: flops.macsAll / 1e9,
    threads: engineInfo().threads,
    device: info.device,
    date: new Date().toISOString(),
  };
}

/**
 * Each part of the eval forward, jitted alone on inputs of the shapes the full network gives it: the ConvNeXt
 * stages chained, the MiT stages chained, the three SCCs on (d_k, r_k), and the decoder on four stage maps.
 */
async function benchParts(
  net: VdviNet,
  params: VdviParams,
  state: BnStates,
  shapes: Record<string, number[]>,
  rng: Rng,
  rounds: number,
  roundMs: number,
): Promise<ModelBreakdown> {
  const { width: W, height: H } = { width: shapes.logits[2], height: shapes.logits[1] };
  const ctxFor = (s: BnStates): ForwardContext => new ForwardContext(s, { train: false });
  const time = async <A extends ParamTree[]>(fn: (...args: A) => np.Array, args: () => [...A]): Promise<number> => {
    const f = jit(fn);
    const call = f as unknown as (...a: A) => np.Array;
    const ms = await timeCall(() => call(...args()), rounds, roundMs);
    f.dispose();
    return ms;
  };
  const out: ModelBreakdown = { rgbBranch: 0, featureBranch: 0, fusion: 0, decoder: 0 };
  if (net.rgb !== null && params.rgb !== undefined) {
    const cnx = net.rgb;
    const rp = params.rgb;
    const x = uniform(rng, [1, H, W, 3]);
    out.rgbBranch = await time(
      (p: ConvNextStageParams[], img: np.Array) => {
        const ctx = ctxFor({});
        let r = img;
        const outs: np.Array[] = [];
        for (let s = 0; s < 4; s++) {
          r = cnx.applyStage(s, p[s], r, ctx);
          outs.push(r.ref);
        }
        r.dispose();
        return np.concatenate(outs.map((o) => o.reshape([-1])), 0);
      },
      () => [refParams(rp), x.ref],
    );
  }
  if (net.feat !== null && params.feat !== undefined) {
    const mit = net.feat;
    const fp = params.feat;
    const x = uniform(rng, [1, H, W, net.config.feat.inChannels]);
    out.featureBranch = await time(
      (p: MitStageParams[], f: np.Array) => {
        const ctx = ctxFor({});
        let m = f;
        const outs: np.Array[] = [];
        for (let s = 0; s < 4; s++) {
          m = mit.applyStage(s, p[s], m, ctx);
          outs.push(m.ref);
        }
        m.dispose();
        return np.concatenate(outs.map((o) => o.reshape([-1])), 0);
      },
      () => [refParams(fp), x.ref],
    );
  }
  if (net.scc.length > 0 && params.scc !== undefined) {
    const sp = params.scc;
    const ds = [1, 2, 3].map((k) => uniform(rng, shapes[`feat.${k + 1}`], -1, 1));
    const rs = [1, 2, 3].map((k) => uniform(rng, shapes[`rgb.${k + 1}`], -1, 1));
    out.fusion = await time(
      (p: SccParams[], s: BnStates, d: np.Array[], r: np.Array[]) => {
        const ctx = ctxFor(s);
        const outs = net.scc.map((scc, i) => scc.apply(p[i], d[i], r[i], ctx).reshape([-1]));
        for (const v of Object.values(ctx.finish())) {
          v.runningMean.dispose();
          v.runningVar.dispose();
        }
        return np.concatenate(outs, 0);
      },
      () => [refParams(sp), refParams(state), ds.map((d) => d.ref), rs.map((r) => r.ref)],
    );
  } else if (net.adapt.length > 0 && params.adapt !== undefined) {
    const ap = params.adapt;
    const rs = [0, 1, 2, 3].map((k) => uniform(rng, shapes[`rgb.${k + 1}`], -1, 1));
    out.fusion = await time(
      (p: typeof ap, r: np.Array[]) => np.concatenate(net.adapt.map((a, i) => a.apply(p[i], r[i]).reshape([-1])), 0),
      () => [refParams(ap), rs.map((r) => r.ref)],
    );
  }
  const dims = net.config.feat.dims;
  const maps = [0, 1, 2, 3].map((k) => {
    const s = shapes[`feat.${k + 1}`] ?? shapes[`adapt.${k + 1}`];
    return uniform(rng, [s[0], s[1], s[2], dims[k]], -1, 1);
  });
  out.decoder = await time(
    (p: DecoderParams, s: BnStates, m: np.Array[]) => {
      const ctx = ctxFor(s);
      const o = net.decoder.apply(p, m, H, W, ctx);
      o.z.dispose();
      for (const v of Object.values(ctx.finish())) {
        v.runningMean.dispose();
        v.runningVar.dispose();
      }
      return o.logits;
    },
    () => [refParams(params.decoder), refParams(states(net)), maps.map((m) => m.ref)],
  );
  return out;
}

/** The jitted eval forward, logits only (the state comes back unchanged and is not an output). */
export function jitEvalForward(net: VdviNet): OwnedFunction<(p: VdviParams, s: BnStates, x: np.Array, f: np.Array) => np.Array> {
  return jit((p: VdviParams, s: BnStates, x: np.Array, f: np.Array) => {
    const out = net.apply(p, s, { rgb: x, features: f }, { train: false });
    out.z.dispose();
    for (const v of Object.values(out.state)) {
      v.runningMean.dispose();
      v.runningVar.dispose();
    }
    return out.logits;
  });
}

/** A benchmark training step on fixed inputs and seeded random labels; `step()` runs one, `dispose()` ends it. */
export interface TrainStepRunner {
  step(): Promise<void>;
  dispose(): void;
}

/**
 * One training step as `rtgs2 bench model` times it: cross-entropy loss + gradient (jitted, read asynchronously)
 * and the AdamW update, batch 1, on `rgb`/`feats` with uniform random labels drawn from `rng`.
 */
export function trainStepRunner(net: VdviNet, params0: VdviParams, rgb: np.Array, feats: np.Array, K: number, rng: Rng): TrainStepRunner {
  const [, H, W] = rgb.shape;
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
    const logits = out.logits;
    const logp = logits.ref.sub(np.log(np.sum(np.exp(logits), -1, { keepdims: true })));
    const onehot = np.equal(b.labels.reshape([1, H, W, 1]), np.arange(K).astype(np.int32)).astype(np.float32);
    return np.mean(np.sum(logp.mul(onehot), -1)).neg();
  });
  const opt = new AdamW({ weightDecay: 0.01, maxGradNorm: 1 });
  let params = refParams(params0);
  let state = opt.init(params);
  let seed = 0;
  return {
    async step(): Promise<void> {
      const batch: Batch = { rgb: rgb.ref, features: feats.ref, labels: y.ref, key: random.key(seed++) };
      const { grads } = await step.runAsync(refParams(params), batch);
      const r = opt.step(params, grads, state, 1e-4);
      r.gradNorm.dispose();
      await r.ready();
      params = r.params;
      state = r.state;
      await blockUntilReady(params);
    },
    dispose(): void {
      step.dispose();
      opt.dispose();
    },
  };
}

/** Best milliseconds of one training step (`trainStepRunner`) over `rounds`, after two untimed ones. */
async function benchTrain(net: VdviNet, params0: VdviParams, rgb: np.Array, feats: np.Array, K: number, rng: Rng, rounds: number): Promise<number> {
  const runner = trainStepRunner(net, params0, rgb, feats, K, rng);
  await runner.step();
  await runner.step();
  let best = Infinity;
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await runner.step();
    best = Math.min(best, performance.now() - t0);
  }
  runner.dispose();
  return best;
}

/** Entry point: `--config lite|paper [--size WxH] [--no-train] [--json]` (threads via `RTGS2_THREADS`). */
export async function main(argv: string[]): Promise<void> {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const config = get("--config") ?? "lite";
  const size = get("--size");
  const { width, height } = size !== undefined ? parseSize(size) : { width: undefined, height: undefined };
  const json = argv.includes("--json");
  const result = await runModelBench({ config, width, height, train: !argv.includes("--no-train") }, json ? () => {} : (l) => process.stdout.write(`${l}\n`));
  if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    process.stdout.write(
      `${result.config} ${result.width}×${result.height}: ${result.fps.toFixed(1)} FPS forward, ${result.gflopsPerSecond.toFixed(1)} GFLOP/s = ${(100 * result.matmulRatio).toFixed(0)} % of the ${result.matmulGflopsPerSecond.toFixed(1)} GFLOP/s matmul\n`,
    );
  }
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  await main(process.argv.slice(2));
}
