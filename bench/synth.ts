/**
 * The synthetic dataset figures of issue 4: generation time for 16 + 4 scenes × 48 frames at 320×240 with 150k
 * Gaussians each, the splat-vs-mesh PSNR from ground-truth cameras, and the colour-only baseline mIoU (nearest
 * class-mean RGB per pixel, fitted on the train scenes, scored on the test scenes). Usage:
 *   node --import tsx bench/synth.ts [--out DIR] [--scenes N] [--frames F] [--gaussians K] [--sheet FILE.png]
 * `--sheet` also writes a contact sheet (RGB, depth, class, instance) of the first test scene.
 */
import { availableParallelism, cpus, tmpdir } from "node:os";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readInriaCameras } from "../src/core/camera-convert.ts";
import { readLabelPng, readPng } from "../src/core/image.ts";
import { psnr } from "../src/metrics/image.ts";
import { evaluateSegmentation } from "../src/metrics/segmentation.ts";
import { closeRenderWorkers, render } from "../src/render/render.ts";
import { readSplatSync } from "../src/splat/io/index.ts";
import { SYNTH_CLASSES } from "../src/scenes/classes.ts";
import { synthesizeDataset } from "../src/scenes/dataset.ts";
import { writeContactSheet } from "../src/scenes/contact-sheet.ts";

const { values } = parseArgs({
  options: {
    out: { type: "string" },
    scenes: { type: "string", default: "20" },
    frames: { type: "string", default: "48" },
    gaussians: { type: "string", default: "150000" },
    sheet: { type: "string" },
  },
});
const outDir = values.out ?? mkdtempSync(join(tmpdir(), "rtgs2-bench-synth-"));
const scenes = Number(values.scenes), frames = Number(values.frames), gaussians = Number(values.gaussians);
const C = SYNTH_CLASSES.length;

const gen = await synthesizeDataset({ outDir, scenes, frames, width: 320, height: 240, seed: 2024, gaussians });

// Splat renders against the mesh ground truth, on the novel-view frames (index % 8 == 0) of every scene.
const psnrs: number[] = [];
const depthErrors: number[] = [];
for (const name of [...gen.train, ...gen.test]) {
  const dir = join(outDir, name);
  const { cloud } = readSplatSync(join(dir, "point_cloud.ply"));
  const cams = readInriaCameras(join(dir, "cameras.json"));
  for (let f = 0; f < cams.length; f += 8) {
    const file = `${String(f).padStart(6, "0")}.png`;
    const gt = readPng(join(dir, "rgb", file));
    const gtDepth = readLabelPng(join(dir, "depth", file)).labels;
    const r = await render(cloud, cams[f], { normalizeDepth: true });
    psnrs.push(psnr({ width: r.width, height: r.height, channels: 3, data: r.rgb }, gt));
    for (let p = 0; p < gtDepth.length; p += 7) {
      if (gtDepth[p] > 0 && r.alpha[p] > 0.9) depthErrors.push(Math.abs(r.depth[p] - gtDepth[p] / 1000) / (gtDepth[p] / 1000));
    }
  }
}
await closeRenderWorkers();
depthErrors.sort((a, b) => a - b);

// Colour-only baseline: class-mean RGB from the train scenes, nearest mean per test pixel.
const sums = new Float64Array(C * 3), counts = new Float64Array(C);
for (const name of gen.train) {
  for (let f = 0; f < frames; f += 2) {
    const file = `${String(f).padStart(6, "0")}.png`;
    const rgb = readPng(join(outDir, name, "rgb", file)).data;
    const sem = readLabelPng(join(outDir, name, "semantic", file)).labels;
    for (let p = 0; p < sem.length; p++) {
      const c = sem[p];
      if (c >= C) continue;
      counts[c]++;
      for (let k = 0; k < 3; k++) sums[c * 3 + k] += rgb[p * 3 + k];
    }
  }
}
const fitted = [...counts.keys()].filter((c) => counts[c] > 0);
const means = fitted.map((c) => [0, 1, 2].map((k) => sums[c * 3 + k] / counts[c]));
function* testViews(): Generator<{ pred: Uint16Array; gt: Uint16Array }> {
  for (const name of gen.test) {
    for (let f = 0; f < frames; f++) {
      const file = `${String(f).padStart(6, "0")}.png`;
      const rgb = readPng(join(outDir, name, "rgb", file)).data;
      const gt = readLabelPng(join(outDir, name, "semantic", file)).labels;
      const pred = new Uint16Array(gt.length);
      for (let p = 0; p < gt.length; p++) {
        let best = 0, bestD = Infinity;
        for (let m = 0; m < means.length; m++) {
          const d = (rgb[p * 3] - means[m][0]) ** 2 + (rgb[p * 3 + 1] - means[m][1]) ** 2 + (rgb[p * 3 + 2] - means[m][2]) ** 2;
          if (d < bestD) [best, bestD] = [m, d];
        }
        pred[p] = fitted[best];
      }
      yield { pred, gt };
    }
  }
}
const seg = evaluateSegmentation(testViews(), C);

const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
const result = {
  machine: `${cpus()[0]?.model ?? "unknown CPU"}, ${availableParallelism()} threads, Node ${process.version}`,
  scenes: gen.scenes,
  train: gen.train.length,
  test: gen.test.length,
  frames: gen.frames,
  size: "320x240",
  gaussiansPerScene: gaussians,
  generationSeconds: Number(gen.seconds.toFixed(1)),
  splatPsnr: { mean: Number(mean(psnrs).toFixed(2)), min: Number(Math.min(...psnrs).toFixed(2)), frames: psnrs.length },
  splatDepthMedianRelativeError: Number(depthErrors[depthErrors.length >> 1].toFixed(4)),
  colourBaseline: { mIoU: Number(seg.mIoU.toFixed(1)), mAcc: Number(seg.mAcc.toFixed(1)), oAcc: Number(seg.oAcc.toFixed(1)), classes: seg.perClass.length },
};
console.log(JSON.stringify(result, null, 2));
console.log(
  `| ${result.scenes} scenes (${result.train} + ${result.test}) × ${frames} frames, 320×240, ${gaussians.toLocaleString("en-US")} Gaussians | ` +
    `${result.generationSeconds} s | PSNR ${result.splatPsnr.mean} dB | colour-only mIoU ${result.colourBaseline.mIoU} |`,
);
if (values.sheet) {
  const f = Math.floor(frames / 4);
  writeContactSheet(join(outDir, gen.test[0] ?? gen.train[0]), [0, f, 2 * f, 3 * f], values.sheet);
}
if (values.out === undefined) rmSync(outDir, { recursive: true, force: true });
