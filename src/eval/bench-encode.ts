/**
 * `rtgs2 bench encode` / this module as a script: Gaussian-encoder speed (ARCHITECTURE.md §5). The forward is
 * `encodeCloud` over a procedural room of `--gaussians` Gaussians, timed cold, as `rtgs2 encode` meets a scene:
 * chunk planning, the one kernel compile of the scene's capacities, every chunk. The training step is one
 * contrastive pre-training step as `rtgs2 pretrain` takes it (two overlapping 60 % slabs of the room, 0.05 m
 * subsampled, thinned to about `--train-gaussians` rows in all (default 8 000) and augmented; bucketed plan;
 * InfoNCE loss and gradient as one jitted program read asynchronously; AdamW update), timed warm (the second step
 * on the same shapes), with the first step's time reported as `train.firstSeconds`. Threads are fixed per process, so the CLI runs this module
 * in a child process with `RTGS2_THREADS`.
 */
import { random } from "../nn/jax.ts";
import { initEngine } from "../nn/engine/index.ts";
import { Rng } from "../core/rng.ts";
import { ConfigError, Rtgs2Error } from "../core/errors.ts";
import { refParams } from "../nn/params.ts";
import { AdamW } from "../nn/optim.ts";
import { syntheticRoomCloud } from "../splat/synthetic.ts";
import { encoderConfig } from "../models/gaussian-encoder/config.ts";
import { GaussianEncoder } from "../models/gaussian-encoder/encoder.ts";
import { encodeCloud, planChunks } from "../models/gaussian-encoder/encode.ts";
import { voxelSubsample } from "../train/pretrain/augment.ts";
import { makePairSample } from "../train/pretrain/pair.ts";
import { disposePair, pairLossAndGradAsync, preparePair } from "../train/pretrain/step.ts";

/** The `--json` object; the first fields are ARCHITECTURE.md §5's. */
export interface EncodeBenchResult {
  gaussians: number;
  /** Cold encode of the whole room (planning, compile, every chunk). */
  seconds: number;
  gaussiansPerSecond: number;
  train: { gaussians: number; seconds: number; gaussiansPerSecond: number; firstSeconds: number; loss: number } | null;
  config: string;
  threads: number;
  chunks: number;
  chunkPoints: number;
  /** Padded rows per encoder stage, shared by every chunk. */
  capacities: number[];
  planSeconds: number;
}

/** Options of `runEncodeBench`. */
export interface EncodeBenchOptions {
  config: string;
  gaussians: number;
  chunkPoints?: number;
  train?: boolean;
  /** Rows (both views) of the training step's pair, about (default 8 000). */
  trainGaussians?: number;
  seed?: number;
}

/** Run the benchmark; `log` receives progress lines. */
export async function runEncodeBench(o: EncodeBenchOptions, log: (line: string) => void = () => {}): Promise<EncodeBenchResult> {
  const info = await initEngine();
  const config = encoderConfig(o.config);
  const encoder = new GaussianEncoder(config);
  const rng = new Rng(o.seed ?? 0);
  let params = encoder.init(rng);
  let state = encoder.initState();
  const cloud = syntheticRoomCloud(o.gaussians, o.seed ?? 1);
  const chunkPoints = o.chunkPoints ?? 60_000;
  let t0 = performance.now();
  const { chunks, capacities } = planChunks(config, cloud, { chunkPoints });
  const planSeconds = (performance.now() - t0) / 1000;
  log(`${o.config}: ${o.gaussians} Gaussians in ${chunks.length} chunk(s) of ≤ ${chunkPoints}, capacities ${capacities.points.join("/")}`);
  t0 = performance.now();
  encodeCloud(encoder, params, state, cloud, { chunkPoints, onChunk: (d, t) => log(`  chunk ${d}/${t} at ${((performance.now() - t0) / 1000).toFixed(1)} s`) });
  const seconds = (performance.now() - t0) / 1000;
  log(`encode: ${seconds.toFixed(1)} s`);
  let train: EncodeBenchResult["train"] = null;
  if (o.train !== false) {
    // Two overlapping views: the lower 60 % and the upper 60 % of the room along x.
    const n = cloud.count;
    const xs = Float32Array.from({ length: n }, (_, i) => cloud.positions[i * 3]).sort();
    const lo = xs[Math.floor(0.4 * (n - 1))];
    const hi = xs[Math.floor(0.6 * (n - 1))];
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < n; i++) {
      const x = cloud.positions[i * 3];
      if (x <= hi) a.push(i);
      if (x >= lo) b.push(i);
    }
    const opt = new AdamW({ weightDecay: 1e-5, maxGradNorm: 1 });
    let optState = opt.init(params);
    const times: number[] = [];
    let loss = NaN;
    let rows = 0;
    const srng = new Rng(7);
    let kept = voxelSubsample(cloud.positions, 0.05, srng);
    // Keep the pair near `trainGaussians` rows (a pair of two frustum crops; the whole room would not be one).
    const rowsPer = (a.length + b.length) / n;
    const want = Math.floor((o.trainGaussians ?? 8_000) / rowsPer);
    if (kept.length > want) {
      const pick = Uint32Array.from(kept);
      for (let i = 0; i < want; i++) {
        const j = i + srng.int(pick.length - i);
        [pick[i], pick[j]] = [pick[j], pick[i]];
      }
      kept = pick.subarray(0, want).sort();
    }
    for (let step = 0; step < 2; step++) {
      // The same sample both times, so the second step reuses the first step's shapes.
      const sample = makePairSample(cloud, kept, Uint32Array.from(a), Uint32Array.from(b), new Rng(11));
      rows = sample.n1 + sample.n2;
      const ts = performance.now();
      const dp = preparePair(encoder, sample, new Rng(13));
      // As `rtgs2 pretrain` runs it: jitted, read asynchronously (both cores), the update awaited.
      const g = await pairLossAndGradAsync(encoder, refParams(params), state, dp, { train: true, key: random.key(step), jit: true });
      disposePair(dp);
      state = g.state;
      const next = opt.step(params, g.grads, optState, 1e-3);
      next.gradNorm.dispose();
      await next.ready();
      params = next.params;
      optState = next.state;
      loss = g.loss;
      times.push((performance.now() - ts) / 1000);
      log(`train step ${step + 1}: ${times[step].toFixed(1)} s, ${rows} Gaussians, loss ${loss.toFixed(3)}`);
    }
    opt.dispose();
    train = { gaussians: rows, seconds: times[1], gaussiansPerSecond: rows / times[1], firstSeconds: times[0], loss };
  }
  return {
    gaussians: o.gaussians,
    seconds,
    gaussiansPerSecond: o.gaussians / seconds,
    train,
    config: o.config,
    threads: info.threads,
    chunks: chunks.length,
    chunkPoints,
    capacities: capacities.points,
    planSeconds,
  };
}

/** Entry point: `--config lite|paper|tiny [--gaussians N] [--chunk N] [--train-gaussians N] [--no-train] [--json]`. */
export async function main(argv: string[]): Promise<void> {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const int = (flag: string, fallback: number): number => {
    const text = get(flag);
    if (text === undefined) return fallback;
    const v = Number(text);
    if (!Number.isInteger(v) || v < 1000) throw new ConfigError(flag, `expected an integer ≥ 1000, got "${text}"`);
    return v;
  };
  const json = argv.includes("--json");
  const result = await runEncodeBench(
    { config: get("--config") ?? "lite", gaussians: int("--gaussians", 150_000), chunkPoints: int("--chunk", 60_000), trainGaussians: int("--train-gaussians", 8_000), train: !argv.includes("--no-train") },
    json ? () => {} : (l) => process.stderr.write(`${l}\n`),
  );
  if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    const tr = result.train;
    process.stdout.write(
      `${result.config}: encode ${result.gaussians} Gaussians in ${result.seconds.toFixed(1)} s (${Math.round(result.gaussiansPerSecond)}/s)` +
        (tr === null ? "" : `; training step ${tr.gaussians} Gaussians in ${tr.seconds.toFixed(1)} s (first ${tr.firstSeconds.toFixed(1)} s)`) +
        "\n",
    );
  }
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  try {
    await main(process.argv.slice(2));
  } catch (e) {
    if (e instanceof Rtgs2Error) {
      process.stderr.write(`rtgs2: ${e.message}\n`);
      process.exit(e.exitCode);
    }
    throw e;
  }
}
