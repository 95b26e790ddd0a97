/** `rtgs2 train`: stage-3 training of the VDVI network (thin: flags → `trainSemantic`). */
import type { Command } from "commander";
import { ConfigError } from "../../core/errors.ts";
import { ABLATIONS, trainSemantic, type TrainAblation } from "../../train/semantic/train.ts";
import { parseFeatureSource } from "../../train/semantic/features.ts";
import { parseIntFlag, parseSize, parseThreads, printJson, say } from "../options.ts";

interface TrainFlags {
  data: string;
  out: string;
  config: string;
  finetune?: string;
  from?: string;
  task: string;
  ablate?: string;
  features: string;
  epochs?: string;
  steps?: string;
  minutes?: string;
  batch: string;
  lr: string;
  size?: string;
  seed: string;
  resume?: boolean;
  log?: string;
  cache?: string;
  threads?: string;
  valViews?: string;
  json?: boolean;
}

function positiveNumber(text: string, flag: string): number {
  const v = Number(text);
  if (!Number.isFinite(v) || v <= 0) throw new ConfigError(flag, `expected a positive number, got "${text}"`);
  return v;
}

/** `rtgs2 train --data DIR --out CKPT …` (ARCHITECTURE.md §5). */
export function registerTrain(program: Command): void {
  program
    .command("train")
    .description("stage 3: train the VDVI network on rendered views (generalization, --finetune SCENE, --task depth, ablations)")
    .requiredOption("--data <dir>", "project-layout dataset (dataset.json + scenes with f_pc_* features)")
    .requiredOption("--out <ckpt>", "checkpoint to write (last state; the best validation epoch goes to <ckpt>.best.safetensors)")
    .option("--config <name>", "network preset: lite, tiny or paper", "lite")
    .option("--finetune <scene>", "fine-tune on one scene's train views (index % 8 != 0), starting from --from")
    .option("--from <ckpt>", "generalization checkpoint to fine-tune")
    .option("--task <task>", "semantic or depth", "semantic")
    .option("--ablate <what>", `one of ${ABLATIONS.join(", ")}`)
    .option("--features <src>", "encoded (the scenes' f_pc_*) or random[:seed] (an untrained encoder's, a control)", "encoded")
    .option("--epochs <e>", "epochs of the schedule (default 100; fine-tuning: 1000 steps)")
    .option("--steps <n>", "total steps instead of epochs")
    .option("--minutes <m>", "stop cleanly with a checkpoint after M minutes (resume with --resume)")
    .option("--batch <n>", "images per step", "4")
    .option("--lr <lr>", "peak learning rate", "1e-4")
    .option("--size <WxH>", "training size (default: the config's)")
    .option("--seed <s>", "seed of initialization, order, augmentation and dropout", "0")
    .option("--resume", "continue from --out if it exists")
    .option("--log <file>", "JSONL log (step, loss terms, lr, img/s; val per epoch)")
    .option("--cache <dir>", "render cache folder (default DATA/.cache/render)")
    .option("--threads <n>", "render threads for the cache (default: all cores)")
    .option("--val-views <n>", "validate on at most N held-out views per epoch (default: all)")
    .option("--json", "print one JSON object")
    .action(async (flags: TrainFlags) => {
      if (!["semantic", "depth"].includes(flags.task)) throw new ConfigError("--task", `expected semantic or depth, got "${flags.task}"`);
      if (flags.ablate !== undefined && !(ABLATIONS as readonly string[]).includes(flags.ablate)) {
        throw new ConfigError("--ablate", `expected one of ${ABLATIONS.join(", ")}, got "${flags.ablate}"`);
      }
      if (flags.epochs !== undefined && flags.steps !== undefined) throw new ConfigError("--steps", "give --epochs or --steps, not both");
      const size = flags.size !== undefined ? parseSize(flags.size) : undefined;
      const r = await trainSemantic({
        data: flags.data,
        out: flags.out,
        config: flags.config,
        finetune: flags.finetune,
        from: flags.from,
        task: flags.task as "semantic" | "depth",
        ablate: flags.ablate as TrainAblation | undefined,
        features: parseFeatureSource(flags.features),
        epochs: flags.epochs !== undefined ? parseIntFlag(flags.epochs, "--epochs", 1) : undefined,
        steps: flags.steps !== undefined ? parseIntFlag(flags.steps, "--steps", 1) : undefined,
        minutes: flags.minutes !== undefined ? positiveNumber(flags.minutes, "--minutes") : undefined,
        batch: parseIntFlag(flags.batch, "--batch", 1, 256),
        lr: positiveNumber(flags.lr, "--lr"),
        width: size?.width,
        height: size?.height,
        seed: parseIntFlag(flags.seed, "--seed", 0),
        resume: flags.resume === true,
        log: flags.log,
        cacheDir: flags.cache,
        threads: parseThreads(flags.threads),
        maxValViews: flags.valViews !== undefined ? parseIntFlag(flags.valViews, "--val-views", 1) : undefined,
      });
      if (flags.json) return printJson(r);
      const val = r.val.mIoU !== undefined ? `val mIoU ${r.val.mIoU.toFixed(2)}` : r.val.absRel !== undefined ? `val AbsRel ${r.val.absRel.toFixed(4)}` : "no validation views";
      say(false, `${r.stopped === "done" ? "trained" : `stopped (${r.stopped}) at`} step ${r.steps}/${r.totalSteps}, loss ${r.loss.toFixed(4)}, ${val}, ${r.imagesPerSecond.toFixed(2)} img/s, ${r.seconds.toFixed(0)} s → ${r.out}`);
    });
}
