/**
 * `rtgs2 demo`: the whole pipeline on synthetic rooms no checkpoint has seen, ending in the HTML report.
 *
 *   1. generate the rooms (a fixed seed that no training run uses);
 *   2. give every Gaussian its 32-d feature with the encoder the segmentation checkpoint was trained on;
 *   3. segment and evaluate every view (metrics, view consistency, FPS);
 *   4. lift the per-view predictions onto the Gaussians and write labelled plys;
 *   5. segment a few sample views for the pictures;
 *   6. write `report.html`.
 *
 * It lives here rather than in pipeline/ because it ends in the report, the last library layer.
 */
import { basename, join } from "node:path";
import { ConfigError } from "../core/errors.ts";
import { loadLabels } from "../datasets/frames.ts";
import { readProjectDataset } from "../datasets/project.ts";
import type { Scene } from "../datasets/scene.ts";
import { evaluate, type EvalResult } from "../eval/evaluate.ts";
import { defaultEncoderPath, encodeScene, loadEncoder } from "../pipeline/encode.ts";
import { liftScene, segmenterSource, type LiftSceneResult } from "../pipeline/lift-scene.ts";
import { resizeLabels, Segmenter } from "../pipeline/segment.ts";
import { synthesizeDataset } from "../scenes/dataset.ts";
import { loadSceneFeatures } from "../train/semantic/features.ts";
import { machineDescription, reportFromEval } from "./from-eval.ts";
import { writeReport } from "./report.ts";
import type { SampleView } from "./types.ts";

/** Dataset seed of the demo rooms; the training data uses seed 0 (README, "Results"). */
export const DEMO_SEED = 7001;

export interface DemoOptions {
  out: string;
  /** VDVI checkpoint (default: the committed lite checkpoint). */
  model?: string;
  seed?: number;
  scenes?: number;
  frames?: number;
  width?: number;
  height?: number;
  gaussians?: number;
  threads?: number;
  /** Sample views shown in the report (from the first room). */
  samples?: number;
  /** One line per step (the CLI prints them to stderr unless --json). */
  log?: (line: string) => void;
}

export interface DemoStep {
  name: string;
  seconds: number;
}

export interface DemoResult {
  report: string;
  mIoU: number;
  seconds: number;
  steps: DemoStep[];
  eval: EvalResult;
  lifted: LiftSceneResult[];
  encoder: string;
  model: string;
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const t0 = performance.now();
  const log = options.log ?? (() => {});
  const steps: DemoStep[] = [];
  const total = 6;
  async function step<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
    log(`[${steps.length + 1}/${total}] ${name}…`);
    const t = performance.now();
    const out = await fn();
    const seconds = (performance.now() - t) / 1000;
    steps.push({ name, seconds });
    log(`      done in ${seconds.toFixed(1)} s`);
    return out;
  }

  // The checkpoint says which encoder its features came from; the demo encodes with exactly that one.
  const probe = Segmenter.load(options.model);
  const model = probe.path;
  if (probe.task !== "semantic") {
    probe.dispose();
    throw new ConfigError("--model", `${model} is a ${probe.task} checkpoint; the demo needs a semantic one`);
  }
  const encoderName = probe.featureSource === "encoded" ? defaultEncoderPath() : probe.featureSource;
  const wantedEncoder = probe.encoder;
  probe.dispose();

  const data = join(options.out, "data");
  const seed = options.seed ?? DEMO_SEED;
  const n = options.scenes ?? 2;
  await step(`generate ${n} unseen synthetic rooms (seed ${seed})`, () =>
    synthesizeDataset({
      outDir: data,
      scenes: n,
      testScenes: n,
      frames: options.frames ?? 24,
      width: options.width ?? 320,
      height: options.height ?? 240,
      gaussians: options.gaussians ?? 150_000,
      seed,
      threads: options.threads,
      quiet: true,
    }),
  );
  const dataset = readProjectDataset(data);
  const scenes = dataset.test;

  const encoder = await step(`encode the Gaussians (${encoderName})`, () => {
    const loaded = loadEncoder(encoderName);
    if (loaded.id !== wantedEncoder) {
      throw new ConfigError("--model", `${model} was trained on features of encoder ${wantedEncoder}, but ${encoderName} is encoder ${loaded.id}`);
    }
    for (const scene of scenes) encodeScene(loaded, scene);
    return loaded.id;
  });

  const result = await step("segment and evaluate every view", () => evaluate({ model, data, split: "test", threads: options.threads }));
  if (result.mIoU === null) throw new ConfigError("--model", `${model} is a ${result.task} checkpoint; the demo needs a semantic one`);

  const lifted = await step("lift the predictions onto the Gaussians", async () => {
    const out: LiftSceneResult[] = [];
    for (const scene of scenes) {
      const source = await segmenterSource(scene, model, options.threads);
      try {
        out.push(await liftScene(scene, source, { out: join(options.out, `${scene.name}.lifted.ply`), threads: options.threads, progress: false }));
      } finally {
        source.dispose();
      }
    }
    return out;
  });

  const samples = await step("segment sample views for the pictures", () => sampleViews(scenes[0], model, options.samples ?? 3, options.threads));

  const report = await step("write the report", async () => {
    const base = reportFromEval(result, {
      classes: dataset.dataset.classes,
      datasetName: `synthetic rooms, seed ${seed} (unseen)`,
      label: `rtgs2 ${result.model.endsWith("vdvi-lite.safetensors") ? "lite" : basename(result.model)} (this demo)`,
      lifted: new Map(lifted.filter((l) => Number.isFinite(l.viewConsistency)).map((l) => [l.scene, l.viewConsistency])),
    });
    const written = await writeReport(options.out, {
      ...base,
      title: "rtgs2 demo",
      notice: controlNotice(encoder),
      samples,
      provenance: {
        checkpoint: model,
        encoder,
        dataset: `rtgs2 synth, ${n} rooms, ${options.frames ?? 24} frames each, seed ${seed}`,
        seed,
        machine: machineDescription(),
        date: new Date().toISOString(),
        command: "rtgs2 demo",
        extra: Object.fromEntries(lifted.map((l) => [`lifted ${l.scene}`, `mIoU ${l.mIoU.toFixed(1)}, per-Gaussian accuracy ${l.gaussianAccuracy.toFixed(1)} %`])),
      },
    });
    return written.html;
  });

  return { report, mIoU: result.mIoU, seconds: (performance.now() - t0) / 1000, steps, eval: result, lifted, encoder, model };
}

/** A checkpoint trained on an untrained encoder's features is the paper's control, and the page says so. */
function controlNotice(encoder: string): string | undefined {
  if (!encoder.startsWith("random:")) return undefined;
  return `This checkpoint was trained on the features of an untrained, seeded encoder (${encoder}): the paper's no-pre-training control, not the method. See the README's Results for how it was made.`;
}

/** Evenly spaced views of one scene: the render the network saw, ground truth, prediction, features and depth. */
async function sampleViews(scene: Scene, model: string, count: number, threads?: number): Promise<SampleView[]> {
  const seg = Segmenter.load(model);
  try {
    const sf = await loadSceneFeatures(scene.splatPath, scene.root, seg.featureSource, scene.name);
    const n = Math.min(count, scene.cameras.length);
    const views = Array.from({ length: n }, (_, i) => Math.floor((i * scene.cameras.length) / Math.max(1, n)));
    const out: SampleView[] = [];
    for (const v of views) {
      const cam = scene.cameras[v];
      const r = await seg.segment(sf.cloud, cam, { features: { values: sf.features, channels: sf.channels }, threads });
      const gt = resizeLabels(loadLabels(scene, v), cam.width, cam.height, r.width, r.height);
      out.push({
        name: `${scene.name} · frame ${v}`,
        width: r.width,
        height: r.height,
        rgb: { width: r.width, height: r.height, channels: 3, data: r.rgb },
        gt,
        pred: r.labels,
        features: { features: r.features, channels: r.featureChannels, alpha: r.alpha },
        depth: r.depth,
      });
    }
    return out;
  } finally {
    seg.dispose();
  }
}
