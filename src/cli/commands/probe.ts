/**
 * `rtgs2 probe --data DIR [--encoder CKPT | --random-encoder | --raw]`: the linear probe of issue 6 §5
 * (src/eval/probe.ts). Without an input flag it reads the scenes' stored `f_pc_*` features (or their
 * `features.safetensors` sidecars), which must all come from one encoder. `--encoder` encodes every scene on the fly with a frozen checkpoint,
 * `--random-encoder` with a randomly initialized `--config` encoder (seeded), `--raw` uses the 10-channel input.
 * jax-js is imported only for the encoder inputs.
 */
import type { Command } from "commander";
import { ConfigError } from "../../core/errors.ts";
import { createProgress } from "../../core/progress.ts";
import { parseIntFlag, printJson, say } from "../options.ts";
import { segmentationJson } from "../../metrics/segmentation.ts";
import type { GaussianEncoder, GaussianEncoderParams } from "../../models/gaussian-encoder/encoder.ts";
import type { EncoderBnStates } from "../../models/gaussian-encoder/block.ts";

interface ProbeFlags {
  data: string;
  encoder?: string;
  randomEncoder?: boolean;
  raw?: boolean;
  config: string;
  samples: string;
  epochs: string;
  seed: string;
  chunkPoints?: string;
  json?: boolean;
}

export function registerProbe(program: Command): void {
  program
    .command("probe")
    .description("linear probe: softmax regression from per-Gaussian inputs to the ground-truth label, trained on the train scenes, scored on the test scenes")
    .requiredOption("--data <dir>", "project-layout dataset with per-Gaussian `label` in its plys")
    .option("--encoder <ckpt>", "encode the scenes with this frozen encoder checkpoint")
    .option("--random-encoder", "encode with a randomly initialized encoder (--config, --seed)")
    .option("--raw", "use the raw 10-channel encoder input (xyz, colour, opacity, log-scales)")
    .option("--config <name>", "encoder config of --random-encoder: lite, paper or tiny", "lite")
    .option("--samples <n>", "class-balanced training Gaussians over all train scenes", "200000")
    .option("--epochs <n>", "passes of the probe's optimizer over its sample", "30")
    .option("--seed <s>", "seed of the sample, the probe and the random encoder", "0")
    .option("--chunk-points <n>", "most Gaussians per encoder chunk (bounds memory; default: whole scene)")
    .option("--json", "print one JSON object")
    .action(async (flags: ProbeFlags) => {
      const picked = [flags.encoder !== undefined, flags.randomEncoder === true, flags.raw === true].filter(Boolean).length;
      if (picked > 1) throw new ConfigError("--encoder/--random-encoder/--raw", "pick at most one input");
      const seed = parseIntFlag(flags.seed, "--seed", 0);
      const samples = parseIntFlag(flags.samples, "--samples", 1);
      const epochs = parseIntFlag(flags.epochs, "--epochs", 1, 10_000);
      const chunkPoints = flags.chunkPoints === undefined ? undefined : parseIntFlag(flags.chunkPoints, "--chunk-points", 1);
      const { probeScenesFromDataset, runLinearProbe } = await import("../../eval/probe.ts");
      const { checkDatasetFolder } = await import("../../train/pretrain/data.ts");
      checkDatasetFolder(flags.data);
      type Input = Parameters<typeof probeScenesFromDataset>[1];
      let input: Input = { kind: "features" };
      let inputName = "features";
      let encoderId: string | undefined;
      if (flags.encoder !== undefined || flags.randomEncoder === true) {
        const { encodeCloud } = await import("../../models/gaussian-encoder/encode.ts");
        const { alignToEncoder } = await import("../../models/gaussian-encoder/orientation.ts");
        let loaded: { encoder: GaussianEncoder; params: GaussianEncoderParams; state: EncoderBnStates; metadata: Record<string, string> };
        if (flags.encoder !== undefined) {
          const { loadEncoderCheckpoint } = await import("../../models/gaussian-encoder/checkpoint.ts");
          const ck = loadEncoderCheckpoint(flags.encoder);
          loaded = ck;
          encoderId = ck.id;
          inputName = "encoder";
        } else {
          const { encoderConfig } = await import("../../models/gaussian-encoder/config.ts");
          const { GaussianEncoder } = await import("../../models/gaussian-encoder/encoder.ts");
          const { Rng } = await import("../../core/rng.ts");
          const encoder = new GaussianEncoder(encoderConfig(flags.config));
          loaded = { encoder, params: encoder.init(new Rng(seed).fork("random-encoder")), state: encoder.initState(), metadata: {} };
          inputName = `random-encoder:${flags.config}`;
        }
        input = {
          kind: "encoder",
          // Turned to the encoder's up as `rtgs2 encode --up auto` does, so both probe the same features.
          encode: (cloud, scene) =>
            encodeCloud(loaded.encoder, loaded.params, loaded.state, alignToEncoder(cloud, loaded.metadata, scene.cameras).input, chunkPoints === undefined ? {} : { chunkPoints }),
        };
      } else if (flags.raw === true) {
        input = { kind: "raw" };
        inputName = "raw";
      }
      const { train, test, classNames, encoderId: storedId } = probeScenesFromDataset(flags.data, input);
      const bar = createProgress("probe scenes", train.length + test.length);
      const r = runLinearProbe(train, test, { numClasses: classNames.length, classNames, maxSamples: samples, epochs, seed, onScene: () => bar.tick() });
      bar.done();
      encoderId ??= storedId();
      const seg = segmentationJson(r.metrics);
      if (flags.json) {
        return printJson({
          input: inputName,
          ...(encoderId === undefined ? {} : { encoder: encoderId }),
          dim: r.dim,
          trainScenes: train.length,
          testScenes: test.length,
          trainSamples: r.trainSamples,
          testGaussians: r.testGaussians,
          trainAccuracy: r.trainAccuracy,
          seconds: r.seconds,
          ...seg,
        });
      }
      say(
        false,
        `probe on ${inputName} (${r.dim} channels, ${r.trainSamples} train Gaussians from ${train.length} scenes): ` +
          `test mIoU ${r.metrics.mIoU.toFixed(2)}, mAcc ${r.metrics.mAcc.toFixed(2)}, oAcc ${r.metrics.oAcc.toFixed(2)} over ${r.testGaussians} Gaussians of ${test.length} scenes ` +
          `(train oAcc ${r.trainAccuracy.toFixed(2)}; ${r.seconds.total.toFixed(1)} s)`,
      );
    });
}
