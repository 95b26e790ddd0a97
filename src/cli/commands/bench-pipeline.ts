/**
 * `rtgs2 bench pipeline --config lite|paper [--model CKPT] [--size WxH] [--gaussians N] [--frames F] [--threads N]
 * [--json]`: end-to-end per-frame speed, render + VDVI network at batch 1 (src/eval/bench-pipeline.ts;
 * ARCHITECTURE.md §5 fields).
 *
 * jax-js fixes its wasm thread count when it is first imported, so the benchmark runs in a child process started
 * with `RTGS2_THREADS=N`, as `bench model` does; this command imports no jax-js itself. Flags are checked here, so
 * bad input fails at once with one line and exit 2; the child keeps the same contract for what only it can see
 * (an unreadable checkpoint), and its exit code is passed on without a second message.
 */
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { runBenchChild } from "../bench-child.ts";
import { ConfigError, MissingFileError } from "../../core/errors.ts";
import { parseIntFlag, parseSize, parseThreads } from "../options.ts";

interface BenchPipelineFlags {
  config: string;
  model?: string;
  size?: string;
  gaussians: string;
  frames: string;
  threads?: string;
  json?: boolean;
}

/** Add the `pipeline` subcommand to the `bench` command group. */
export function registerBenchPipeline(bench: Command): void {
  bench
    .command("pipeline")
    .description("end-to-end speed per frame: render (RGB + 32 features) + VDVI network at batch 1 over a procedural room; encoder cost once per scene")
    .option("--config <name>", "lite or paper (tiny for a quick check); random weights", "lite")
    .option("--model <ckpt>", "use a VDVI checkpoint's config and weights instead of --config")
    .option("--size <WxH>", "render and network size (default: the config's)")
    .option("--gaussians <n>", "Gaussians in the procedural room", "150000")
    .option("--frames <n>", "timed frames (orbit cameras; one untimed compile frame before them)", "10")
    .option("--threads <n>", "render and wasm worker threads (default: all cores)")
    .option("--json", "print one JSON object")
    .action(async (flags: BenchPipelineFlags) => {
      if (!["lite", "paper", "tiny"].includes(flags.config)) {
        throw new ConfigError("--config", `expected lite, paper or tiny, got "${flags.config}"`);
      }
      if (flags.model !== undefined && !existsSync(flags.model)) throw new MissingFileError(flags.model, "checkpoint not found");
      const threads = parseThreads(flags.threads);
      const gaussians = parseIntFlag(flags.gaussians, "--gaussians", 1, 100_000_000);
      const frames = parseIntFlag(flags.frames, "--frames", 1, 100_000);
      const args = ["--gaussians", String(gaussians), "--frames", String(frames), "--threads", String(threads)];
      if (flags.model !== undefined) args.push("--model", flags.model);
      else args.push("--config", flags.config);
      if (flags.size !== undefined) {
        const { width, height } = parseSize(flags.size);
        if (width % 32 !== 0 || height % 32 !== 0) throw new ConfigError("--size", `each side must be a multiple of 32 (the network's stride), got ${flags.size}`);
        args.push("--size", `${width}x${height}`);
      }
      if (flags.json) args.push("--json");
      const code = await runBenchChild(new URL("../../eval/bench-pipeline.ts", import.meta.url), args, threads);
      // The child already printed its one-line error.
      if (code !== 0) process.exitCode = code;
    });
}
