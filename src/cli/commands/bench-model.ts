/**
 * `rtgs2 bench model --config lite|paper [--size WxH] [--threads N] [--no-train] [--json]`: VDVI network speed
 * at batch 1 (src/eval/bench-model.ts; ARCHITECTURE.md §5 fields).
 *
 * jax-js fixes its wasm thread count when it is first imported, so the benchmark runs in a child process
 * started with `RTGS2_THREADS=N`, as `bench nn` does; this command imports no jax-js itself.
 */
import type { Command } from "commander";
import { runBenchChild } from "../bench-child.ts";
import { ConfigError, Rtgs2Error } from "../../core/errors.ts";
import { parseSize, parseThreads } from "../options.ts";

interface BenchModelFlags {
  config: string;
  size?: string;
  threads?: string;
  train: boolean;
  json?: boolean;
}

/** Add the `model` subcommand to the `bench` command group. */
export function registerBenchModel(bench: Command): void {
  bench
    .command("model")
    .description("VDVI network speed at batch 1: forward, training step, GFLOP/s against the same run's matmul, per-part times")
    .option("--config <name>", "lite or paper (tiny for a quick check)", "lite")
    .option("--size <WxH>", "input size (default: the config's)")
    .option("--threads <n>", "wasm worker threads (default: all cores)")
    .option("--no-train", "skip the training-step measurement")
    .option("--json", "print one JSON object")
    .action(async (flags: BenchModelFlags) => {
      if (!["lite", "paper", "tiny"].includes(flags.config)) {
        throw new ConfigError("--config", `expected lite, paper or tiny, got "${flags.config}"`);
      }
      const threads = parseThreads(flags.threads);
      const args = ["--config", flags.config];
      if (flags.size !== undefined) {
        const { width, height } = parseSize(flags.size);
        args.push("--size", `${width}x${height}`);
      }
      if (!flags.train) args.push("--no-train");
      if (flags.json) args.push("--json");
      const code = await runBenchChild(new URL("../../eval/bench-model.ts", import.meta.url), args, threads);
      if (code !== 0) throw new Rtgs2Error(`bench model: benchmark process exited with code ${code}`);
    });
}
