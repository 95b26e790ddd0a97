/**
 * `rtgs2 pretrain --data DIR --out CKPT`: stage 1, contrastive pre-training of the Gaussian encoder
 * (src/train/pretrain/run.ts; METHOD.md §3, §10 decisions 14–16). Defaults are the paper's: AdamW lr 1e-3,
 * weight decay 1e-5, clip 1, 0.05 m subsampling, ≤ 4096 correspondences, τ 0.07, 100 epochs of one pair per step.
 *
 * Files: `CKPT` is the best checkpoint by held-out pair loss, `CKPT` with `.last` before `.safetensors` the
 * resumable training state, and `CKPT` with `.jsonl` instead of `.safetensors` the JSONL log unless `--log` says.
 * jax-js is imported only when the command runs, so other commands start fast.
 */
import type { Command } from "commander";
import { ConfigError, parseChoice } from "../../core/errors.ts";
import { createProgress } from "../../core/progress.ts";
import { parseIntFlag, printJson, say } from "../options.ts";
import { parsePairCapMode } from "../../train/pretrain/pair-cap.ts";
import { ROTATION_AXES } from "../../train/pretrain/augment.ts";


interface PretrainFlags {
  data: string;
  out: string;
  resume?: boolean;
  config: string;
  steps?: string;
  minutes?: string;
  lr: string;
  weightDecay: string;
  clip: string;
  voxel: string;
  maxPairs: string;
  maxPoints?: string;
  pairCap: string;
  rotationAxis: string;
  tau: string;
  checkpointEvery: string;
  valPairs: string;
  seed: string;
  log?: string;
  jit?: boolean;
  json?: boolean;
}

/** A finite number flag within (min, max] (or [min, max] with `inclusiveMin`). */
export function parseNumberFlag(text: string, flag: string, min: number, max = Infinity, inclusiveMin = false): number {
  const v = Number(text);
  const ok = text.trim() !== "" && Number.isFinite(v) && (inclusiveMin ? v >= min : v > min) && v <= max;
  if (!ok) throw new ConfigError(flag, `expected a number in ${inclusiveMin ? "[" : "("}${min}, ${max}], got "${text}"`);
  return v;
}

/** The default JSONL log next to a checkpoint: `x.safetensors` → `x.jsonl`. */
export function logPathOf(out: string): string {
  return `${out.endsWith(".safetensors") ? out.slice(0, -".safetensors".length) : out}.jsonl`;
}

export function registerPretrain(program: Command): void {
  program
    .command("pretrain")
    .description("stage 1: contrastive (InfoNCE) pre-training of the Gaussian encoder on a dataset's train scenes")
    .requiredOption("--data <dir>", "project-layout dataset folder (dataset.json; `rtgs2 synth` writes one)")
    .requiredOption("--out <ckpt>", "best checkpoint (by held-out pair loss); the resumable state goes to <ckpt>.last.safetensors")
    .option("--resume", "continue bit-identically from <ckpt>.last.safetensors with the same settings (starts afresh when it does not exist)")
    .option("--config <name>", "encoder config: lite, paper or tiny", "lite")
    .option("--steps <n>", "total steps, one view pair each (default: 100 epochs of the train pairs)")
    .option("--minutes <m>", "stop cleanly, with a checkpoint, after this many minutes of training (counted once the scenes are loaded)")
    .option("--lr <x>", "AdamW learning rate", "1e-3")
    .option("--weight-decay <x>", "AdamW weight decay", "1e-5")
    .option("--clip <x>", "gradient-norm clip", "1")
    .option("--voxel <m>", "subsampling voxel in metres", "0.05")
    .option("--max-pairs <n>", "most correspondences per pair in the InfoNCE loss", "4096")
    .option("--max-points <n>", "most encoder rows per pair (both views), thinning the subsampled scene to fit; a memory bound, not in the paper (default: no cap)")
    .option("--pair-cap <mode>", "how --max-points is met: thin (a uniform subset of the subsampled scene) or crop (a ball of it at full density)", "thin")
    .option("--rotation-axis <axis>", "axis of the augmentation's random rotation: random (the paper's) or x, y, z (a world axis: the scene's up keeps gravity; y in rtgs2 synth rooms)", "random")
    .option("--tau <x>", "InfoNCE temperature", "0.07")
    .option("--checkpoint-every <n>", "checkpoint and held-out evaluation every N steps", "100")
    .option("--val-pairs <k>", "held-out view pairs per evaluation (from the splits.val frames)", "8")
    .option("--seed <s>", "seed of pairs, subsampling, augmentation and initialization", "0")
    .option("--log <file>", "JSONL log of per-step losses and held-out losses (default: <ckpt> with .jsonl)")
    .option("--no-jit", "run each step op by op instead of as one compiled jax-js function (slower; more heap)")
    .option("--json", "print one JSON object")
    .action(async (flags: PretrainFlags) => {
      const { encoderConfig } = await import("../../models/gaussian-encoder/config.ts");
      const config = encoderConfig(flags.config);
      const steps = flags.steps === undefined ? undefined : parseIntFlag(flags.steps, "--steps", 0);
      const minutes = flags.minutes === undefined ? undefined : parseNumberFlag(flags.minutes, "--minutes", 0);
      const options = {
        config,
        steps,
        out: flags.out,
        resume: flags.resume === true,
        lr: parseNumberFlag(flags.lr, "--lr", 0),
        weightDecay: parseNumberFlag(flags.weightDecay, "--weight-decay", 0, Infinity, true),
        clip: parseNumberFlag(flags.clip, "--clip", 0),
        subsampleVoxel: parseNumberFlag(flags.voxel, "--voxel", 0),
        maxPairs: parseIntFlag(flags.maxPairs, "--max-pairs", 1),
        maxPoints: flags.maxPoints === undefined ? undefined : parseIntFlag(flags.maxPoints, "--max-points", 2),
        pairCap: parsePairCapMode(flags.pairCap, "--pair-cap"),
        rotationAxis: parseChoice(ROTATION_AXES, flags.rotationAxis, "--rotation-axis"),
        tau: parseNumberFlag(flags.tau, "--tau", 0),
        checkpointEvery: parseIntFlag(flags.checkpointEvery, "--checkpoint-every", 1),
        valPairs: parseIntFlag(flags.valPairs, "--val-pairs", 0),
        seed: parseIntFlag(flags.seed, "--seed", 0),
        log: flags.log ?? logPathOf(flags.out),
        jit: flags.jit !== false,
        timeBudgetMs: minutes === undefined ? undefined : minutes * 60_000,
      };
      const { pretrainScenesFromDataset } = await import("../../train/pretrain/data.ts");
      const { runPretrain } = await import("../../train/pretrain/run.ts");
      const scenes = pretrainScenesFromDataset(flags.data);
      let bar = createProgress("pretrain", 1, { quiet: true });
      const result = await runPretrain(scenes, {
        ...options,
        onStart: ({ steps: total, startStep }) => {
          bar = createProgress("pretrain", total);
          bar.update(startStep);
        },
        onStep: (step) => bar.update(step),
      });
      bar.done();
      const valLoss = result.val.length > 0 ? result.val[result.val.length - 1].loss : null;
      if (flags.json) {
        return printJson({
          steps: result.steps,
          loss: result.loss,
          valLoss,
          bestStep: result.bestStep,
          bestLoss: result.bestLoss,
          targetSteps: result.targetSteps,
          stoppedEarly: result.stoppedEarly,
          resumed: result.resumedFrom !== null,
          secondsPerStep: result.secondsPerStep,
          out: result.out,
          last: result.lastPath,
          log: options.log,
        });
      }
      say(
        false,
        `${result.stoppedEarly ? "stopped at" : "trained to"} step ${result.steps} of ${result.targetSteps} ` +
          `(${result.stepsThisRun} this run, ${result.secondsPerStep.toFixed(2)} s/step), loss ${result.loss.toFixed(4)}` +
          (valLoss === null ? "" : `, held-out ${valLoss.toFixed(4)}, best ${result.bestLoss?.toFixed(4)} at step ${result.bestStep}`) +
          ` → ${result.out} (state: ${result.lastPath})`,
      );
    });
}
