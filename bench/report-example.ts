/**
 * A sample report to eyeball the layout: ground truth of synthetic test rooms with a seeded noise model standing
 * in for a model's prediction (blobs relabelled per frame, so they flicker between views, and desk → table in
 * half the frames). Nothing here is a model result, and the report says so. Usage:
 *
 *   node --import tsx bench/report-example.ts [--data DIR] [--scenes 2] [--views 3] [--seed 1]
 *        [--out report-example] [--log train.jsonl] [--screenshot docs/report-screenshot.png]
 *
 * Without --data it generates two small rooms (seed 4242) in a temp folder. The speed section times only the
 * CPU rasterizer (network parts are 0: no network runs here). --screenshot saves a full-page PNG through
 * headless Chromium (playwright-core, /usr/bin/chromium or RTGS2_CHROMIUM).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { IGNORE_LABEL } from "../src/core/image.ts";
import { Rng } from "../src/core/rng.ts";
import { loadDepth, loadLabels } from "../src/datasets/frames.ts";
import { readProjectDataset } from "../src/datasets/project.ts";
import { frustumIoU, viewVisibility } from "../src/datasets/view-pairs.ts";
import { ConfusionMatrix, segmentationMetrics } from "../src/metrics/segmentation.ts";
import { viewConsistency, type ConsistencyView } from "../src/metrics/view-consistency.ts";
import { closeRenderWorkers, render } from "../src/render/render.ts";
import { writeReport, type ReportData, type SampleView } from "../src/report/index.ts";
import { synthesizeDataset } from "../src/scenes/dataset.ts";
import { featureChannelCount, SH_C0 } from "../src/splat/cloud.ts";

const { values: args } = parseArgs({
  options: {
    data: { type: "string" },
    scenes: { type: "string", default: "2" },
    views: { type: "string", default: "3" },
    seed: { type: "string", default: "1" },
    out: { type: "string", default: "report-example" },
    log: { type: "string" },
    screenshot: { type: "string" },
  },
});
const seed = Number(args.seed);
const t0 = performance.now();

let tmp: string | undefined;
let dataDir = args.data;
if (!dataDir) {
  tmp = mkdtempSync(join(tmpdir(), "rtgs2-report-example-"));
  dataDir = tmp;
  console.error("generating 2 synthetic rooms (seed 4242) …");
  await synthesizeDataset({ outDir: tmp, scenes: 2, frames: 16, width: 320, height: 240, seed: 4242, gaussians: 60_000, testScenes: 2, quiet: true });
}

const project = readProjectDataset(dataDir);
const classes = project.dataset.classes.map((c) => ({ id: c.id, name: c.name, color: c.color }));
const K = classes.length;
const desk = classes.findIndex((c) => c.name === "desk");
const table = classes.findIndex((c) => c.name === "table");

/** GT with seeded noise: relabelled ellipses (view-inconsistent) and desk → table in half the frames. */
function noisy(gt: Uint16Array, w: number, h: number, rng: Rng): Uint16Array {
  const pred = gt.slice();
  const present = [...new Set(gt)].filter((c) => c !== IGNORE_LABEL);
  if (desk >= 0 && table >= 0 && rng.bernoulli(0.5)) for (let i = 0; i < pred.length; i++) if (pred[i] === desk) pred[i] = table;
  for (let b = 0; b < 6; b++) {
    const cx = rng.uniform(0, w), cy = rng.uniform(0, h);
    const rx = rng.uniform(4, 22), ry = rng.uniform(4, 22);
    const cls = present[rng.int(present.length)];
    for (let y = Math.max(0, Math.floor(cy - ry)); y < Math.min(h, Math.ceil(cy + ry)); y++) {
      for (let x = Math.max(0, Math.floor(cx - rx)); x < Math.min(w, Math.ceil(cx + rx)); x++) {
        if (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1) pred[y * w + x] = cls;
      }
    }
  }
  return pred;
}

const cm = new ConfusionMatrix(K);
const samples: SampleView[] = [];
const consistency: { scene: string; perView: number; gtCeiling: number }[] = [];
const renderMs: number[] = [];
let counted = 0, predAgree = 0, gtAgree = 0;
const nScenes = Math.min(Number(args.scenes), project.test.length);
const nViews = Number(args.views);
const rng = new Rng(seed);

for (const scene of project.test.slice(0, nScenes)) {
  console.error(`${scene.name}: ${scene.cameras.length} frames`);
  const cloud = scene.loadGaussians();
  const encoded = featureChannelCount(cloud) > 0;
  // Stand-in features when the scene was not encoded: position and base colour per Gaussian (6 channels).
  const stand = new Float32Array(cloud.count * 6);
  if (!encoded) {
    for (let g = 0; g < cloud.count; g++) {
      for (let c = 0; c < 3; c++) {
        stand[g * 6 + c] = cloud.positions[g * 3 + c];
        stand[g * 6 + 3 + c] = 0.5 + SH_C0 * cloud.shDc[g * 3 + c];
      }
    }
  }
  // One untimed render first: worker start-up and kernel loading are not per-frame costs.
  await render(cloud, scene.cameras[0], { features: encoded ? "f_pc_" : { values: stand, channels: 6 } });
  const views: ConsistencyView[] = [];
  const frameRng = rng.fork(scene.name);
  const picks = new Set(samples.length < nViews ? [0, 1, 2, 3].map((q) => Math.floor((q * scene.cameras.length) / 4)).slice(0, nViews - samples.length) : []);
  for (let i = 0; i < scene.cameras.length; i++) {
    const cam = scene.cameras[i];
    const gt = loadLabels(scene, i);
    const depth = loadDepth(scene, i);
    const pred = noisy(gt, cam.width, cam.height, frameRng);
    cm.add(pred, gt);
    views.push({ camera: cam, depth, gt, pred });
    if (picks.has(i)) {
      const t = performance.now();
      const r = await render(cloud, cam, { features: encoded ? "f_pc_" : { values: stand, channels: 6 }, normalizeDepth: true });
      renderMs.push(performance.now() - t);
      samples.push({
        name: `${scene.name} · frame ${i}`,
        width: cam.width,
        height: cam.height,
        rgb: { width: cam.width, height: cam.height, channels: 3, data: r.rgb },
        gt,
        pred,
        features: { features: r.features as Float32Array, channels: r.featureChannels, alpha: r.alpha },
        depth: r.depth,
        captions: {
          pred: "prediction (GT + noise)",
          ...(encoded ? {} : { features: "PCA of stand-in features (xyz + colour)" }),
        },
      });
    }
  }
  const vis = viewVisibility(cloud.positions, scene.cameras);
  const vc = viewConsistency(views, { frustumIoU: (a, b) => frustumIoU(vis, a, b) });
  counted += vc.counted;
  predAgree += vc.predAgree;
  gtAgree += vc.gtAgree;
  consistency.push({ scene: scene.name, perView: vc.viewConsistency, gtCeiling: vc.gtCeiling });
}
await closeRenderWorkers();

const m = segmentationMetrics(cm, { classNames: classes.map((c) => c.name) });
const ms = renderMs.reduce((s, v) => s + v, 0) / Math.max(1, renderMs.length);
const machine = `${cpus().length}× ${cpus()[0]?.model ?? "CPU"}, Node ${process.versions.node}`;
const W = samples[0]?.width ?? 0, H = samples[0]?.height ?? 0;
const data: ReportData = {
  title: "rtgs2 report — example",
  notice: "Example: the \"prediction\" is the ground truth with seeded noise (relabelled blobs, desk → table in half the frames), not a model's output. It shows the layout only.",
  dataset: { name: project.dataset.name, classes },
  headline: {
    mIoU: m.mIoU,
    mAcc: m.mAcc,
    oAcc: m.oAcc,
    top: { k: m.topK, mIoU: m.top.mIoU, mAcc: m.top.mAcc, oAcc: m.top.oAcc },
    fps: 1000 / ms,
    viewConsistency: predAgree / counted,
    gtCeiling: gtAgree / counted,
    evaluated: `test split: ${nScenes} scene(s), every frame; FPS = rasterizer only (no network in this example)`,
  },
  samples,
  perClass: m.perClass,
  confusion: cm,
  consistency: { scenes: consistency },
  fps: {
    entries: [{ label: `render only ${W}×${H}`, fps: 1000 / ms, breakdown: { render: ms, rgbBranch: 0, featureBranch: 0, fusion: 0, decoder: 0 } }],
    machine,
  },
  comparison: { ours: [{ setting: "generalization", label: "example (GT + noise, not a model)", mIoU: m.mIoU, mAcc: m.mAcc, oAcc: m.oAcc }] },
  ...(args.log ? { training: { log: args.log } } : {}),
  provenance: {
    dataset: `${project.dataset.name} (${dataDir})`,
    seed,
    machine,
    command: `bench/report-example.ts ${process.argv.slice(2).join(" ")}`.trim(),
    extra: { "noise model": "6 relabelled ellipses per frame; desk → table with p = 0.5 per frame" },
  },
};
const result = await writeReport(args.out, data);
console.error(`wrote ${result.files.length} files in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

if (args.screenshot) {
  const { chromium } = await import("playwright-core");
  const exe = process.env.RTGS2_CHROMIUM ?? "/usr/bin/chromium";
  if (!existsSync(exe)) throw new Error(`Chromium executable not found at ${exe} (Debian package \`chromium\`)`);
  const browser = await chromium.launch({ executablePath: exe, args: ["--no-sandbox"] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(pathToFileURL(result.html).href, { waitUntil: "load" });
  await page.screenshot({ path: args.screenshot, fullPage: true });
  await browser.close();
  console.error(`screenshot ${args.screenshot}`);
}
if (tmp) rmSync(tmp, { recursive: true, force: true });
console.log(result.html);
