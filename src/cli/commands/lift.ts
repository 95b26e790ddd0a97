import type { Command } from "commander";
import { existsSync } from "node:fs";
import { ConfigError, MissingFileError } from "../../core/errors.ts";
import { readScene } from "../../datasets/detect.ts";
import { liftScene, segmenterSource, type LabelNoise } from "../../pipeline/lift-scene.ts";
import type { LabelRenderMode } from "../../pipeline/lift.ts";
import { parseIntFlag, parseThreads, printJson, say } from "../options.ts";

interface LiftFlags {
  model?: string;
  out: string;
  labels?: string;
  noiseSeed?: string;
  recolor: boolean;
  gaussianGt?: boolean;
  holdout?: boolean;
  previews?: string;
  render: string;
  threads?: string;
  json?: boolean;
}

const SOURCES = ["gt", "noisy-gt"] as const;
const MODES: readonly LabelRenderMode[] = ["onehot", "confidence", "soft"];

export function registerLift(program: Command): void {
  program
    .command("lift")
    .description("lift per-view labels onto the Gaussians (α·T-weighted evidence, per-Gaussian argmax) and write a labelled ply")
    .argument("<scene>", "a scene folder of a known layout, with label images and a class table")
    .option("--model <ckpt>", "lift the network's per-view probabilities from this checkpoint (default: checkpoints/vdvi-lite.safetensors)")
    .requiredOption("--out <file.ply>", "the lifted ply: label, label_confidence, gt_label, class-coloured SH-DC")
    .option("--labels <source>", `lift these per-view labels instead of the network's: ${SOURCES.join(" | ")} (ground truth with seeded wrong-class blobs and flicker)`)
    .option("--noise-seed <n>", "seed of the noisy-gt source", "0")
    .option("--no-recolor", "keep the input's SH colours instead of colouring by class")
    .option("--gaussian-gt", "also render the ply's per-Gaussian ground-truth labels and score them (gaussianGt)")
    .option("--holdout", "lift from the train views only (index % 8 != 0) and also score the held-out novel views (heldOut)")
    .option("--previews <dir>", "write class-colour PNGs of every 8th view: ground truth, per-view source labels, lifted")
    .option("--render <mode>", `what the scored lifted-label renders splat: ${MODES.join(" | ")} (soft: each Gaussian's whole evidence share)`, "onehot")
    .option("--threads <n>", "worker threads (default: all cores; never changes the result)")
    .option("--json", "print one JSON object")
    .action(async (scene: string, flags: LiftFlags) => {
      if (!flags.out.toLowerCase().endsWith(".ply")) throw new ConfigError("--out", `must name a .ply file, got "${flags.out}"`);
      if (flags.labels !== undefined && !(SOURCES as readonly string[]).includes(flags.labels)) {
        throw new ConfigError("--labels", `expected one of ${SOURCES.join(", ")}, got "${flags.labels}"`);
      }
      if (!(MODES as readonly string[]).includes(flags.render)) throw new ConfigError("--render", `expected one of ${MODES.join(", ")}, got "${flags.render}"`);
      if (flags.labels !== undefined && flags.model !== undefined) throw new ConfigError("lift", "give either --model or --labels, not both");
      const threads = parseThreads(flags.threads);
      const noise: LabelNoise = { seed: parseIntFlag(flags.noiseSeed ?? "0", "--noise-seed", 0) };
      if (!existsSync(scene)) throw new MissingFileError(scene, "no such scene folder");
      const sceneData = readScene(scene);
      const model = flags.labels === undefined ? await segmenterSource(sceneData, flags.model, threads) : undefined;
      const source = model ?? (flags.labels === "gt" ? "gt" : noise);
      const r = await liftScene(sceneData, source, {
        threads,
        out: flags.out,
        recolor: flags.recolor,
        gaussianGtRenders: flags.gaussianGt,
        previewDir: flags.previews,
        render: flags.render as LabelRenderMode,
        liftViews: flags.holdout ? sceneData.split.train : undefined,
        progress: !flags.json,
      });
      const { gaussians, viewConsistency, gtCeiling, mIoU, gaussianAccuracy, ...rest } = r;
      const json = { gaussians, viewConsistency, gtCeiling, mIoU, gaussianAccuracy, ...rest, source: flags.labels ?? "model" };
      if (flags.json) return printJson(json);
      const pct = (v: number) => `${v.toFixed(1)}%`;
      say(false, `lifted ${r.views} views of ${r.scene} onto ${r.gaussians.toLocaleString("en-US")} Gaussians (${pct(100 * r.seenRatio)} seen) → ${flags.out}`);
      say(false, `  lifted:   mIoU ${pct(r.mIoU)}, view consistency ${r.viewConsistency.toFixed(4)} (GT ceiling ${r.gtCeiling.toFixed(4)})`);
      say(false, `  per view: mIoU ${pct(r.perView.mIoU)}, view consistency ${r.perView.viewConsistency.toFixed(4)}`);
      if (r.heldOut) say(false, `  ${r.heldOut.views} held-out views: lifted mIoU ${pct(r.heldOut.mIoU)}, per view ${pct(r.heldOut.perViewMIoU)}`);
      say(false, `  per-Gaussian accuracy ${pct(r.gaussianAccuracy)} (weighted by α·T ${pct(r.gaussianAccuracyWeighted)}, unseen as wrong ${pct(r.gaussianAccuracyAll)})`);
      say(false, `  ${(r.accumulateSecondsPerView * 1000).toFixed(0)} ms per view to accumulate, ${r.seconds.toFixed(1)} s in all`);
    });
}
