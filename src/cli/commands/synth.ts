import type { Command } from "commander";
import { synthesizeDataset } from "../../scenes/dataset.ts";
import { parseIntFlag, parseSize, parseThreads, printJson, say } from "../options.ts";

interface SynthFlags {
  out: string;
  scenes: string;
  frames: string;
  size: string;
  seed: string;
  gaussians: string;
  testScenes?: string;
  threads?: string;
  json?: boolean;
}

/** `rtgs2 synth`: generate the synthetic indoor dataset (DATA.md §1). */
export function registerSynth(program: Command): void {
  program
    .command("synth")
    .description("generate a synthetic indoor dataset: Gaussians, cameras and ground-truth RGB, depth, class and instance frames")
    .requiredOption("--out <dir>", "output folder")
    .option("--scenes <n>", "number of scenes", "20")
    .option("--frames <f>", "frames per scene", "48")
    .option("--size <WxH>", "frame size in pixels", "320x240")
    .option("--seed <s>", "dataset seed (fully determines the output)", "0")
    .option("--gaussians <k>", "Gaussians per scene", "150000")
    .option("--test-scenes <t>", "the last T scenes form the test split (default max(1, round(N/5)))")
    .option("--threads <n>", "worker threads (default: all cores; never changes the output)")
    .option("--json", "print one JSON object")
    .action(async (flags: SynthFlags) => {
      const scenes = parseIntFlag(flags.scenes, "--scenes", 1, 10_000);
      const { width, height } = parseSize(flags.size);
      const result = await synthesizeDataset({
        outDir: flags.out,
        scenes,
        frames: parseIntFlag(flags.frames, "--frames", 1, 100_000),
        width,
        height,
        seed: parseIntFlag(flags.seed, "--seed", 0),
        gaussians: parseIntFlag(flags.gaussians, "--gaussians", 1000, 50_000_000),
        testScenes: flags.testScenes === undefined ? undefined : parseIntFlag(flags.testScenes, "--test-scenes", 0, scenes),
        threads: parseThreads(flags.threads),
      });
      const { train, test, ...summary } = result;
      if (flags.json) return printJson({ ...summary, train, test });
      say(
        false,
        `wrote ${result.scenes} scenes × ${result.frames} frames (${train.length} train, ${test.length} test), ` +
          `${result.classes} classes, ${result.gaussians.toLocaleString("en-US")} Gaussians in ${result.seconds.toFixed(1)} s → ${flags.out}`,
      );
    });
}
