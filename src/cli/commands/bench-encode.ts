/**
 * `rtgs2 bench encode --config lite|paper [--gaussians N] [--chunk N] [--train-gaussians N] [--threads N] [--no-train] [--json]`:
 * Gaussian-encoder speed, a cold encode of a procedural room and one pre-training step
 * (src/eval/bench-encode.ts; ARCHITECTURE.md §5 fields). Runs in a child process started with
 * `RTGS2_THREADS=N`, as `bench model` does; this command imports no jax-js itself.
 */
import type { Command } from "commander";
import { runBenchChild } from "../bench-child.ts";
import { ConfigError, Rtgs2Error } from "../../core/errors.ts";
import { parseIntFlag, parseThreads } from "../options.ts";

interface BenchEncodeFlags {
  config: string;
  gaussians: string;
  chunk: string;
  trainGaussians: string;
  threads?: string;
  train: boolean;
  json?: boolean;
}

/** Add the `encode` subcommand to the `bench` command group. */
export function registerBenchEncode(bench: Command): void {
  bench
    .command("encode")
    .description("Gaussian-encoder speed: a cold encode of a procedural room, and one pre-training step")
    .option("--config <name>", "lite or paper (tiny for a quick check)", "lite")
    .option("--gaussians <n>", "Gaussians in the procedural room", "150000")
    .option("--chunk <n>", "most Gaussians in one chunk's core", "60000")
    .option("--train-gaussians <n>", "rows (both views) of the training step's pair, about", "8000")
    .option("--threads <n>", "wasm worker threads (default: all cores)")
    .option("--no-train", "skip the training-step measurement")
    .option("--json", "print one JSON object")
    .action(async (flags: BenchEncodeFlags) => {
      if (!["lite", "paper", "tiny"].includes(flags.config)) {
        throw new ConfigError("--config", `expected lite, paper or tiny, got "${flags.config}"`);
      }
      const threads = parseThreads(flags.threads);
      const gaussians = parseIntFlag(flags.gaussians, "--gaussians", 1000);
      const chunk = parseIntFlag(flags.chunk, "--chunk", 1000);
      const trainRows = parseIntFlag(flags.trainGaussians, "--train-gaussians", 1000);
      const args = ["--config", flags.config, "--gaussians", String(gaussians), "--chunk", String(chunk), "--train-gaussians", String(trainRows)];
      if (!flags.train) args.push("--no-train");
      if (flags.json) args.push("--json");
      const code = await runBenchChild(new URL("../../eval/bench-encode.ts", import.meta.url), args, threads);
      if (code !== 0) throw new Rtgs2Error(`bench encode: benchmark process exited with code ${code}`);
    });
}
