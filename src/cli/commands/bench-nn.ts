/**
 * `rtgs2 bench nn [--threads N] [--json]`: layer speed against the same run's 1024² matmul (src/nn/bench.ts).
 *
 * jax-js fixes its wasm thread count when it is first imported, so the benchmark always runs in a child
 * process started with `RTGS2_THREADS=N`; this command imports no jax-js itself, which also keeps every other
 * CLI command free of the engine's start-up cost.
 */
import type { Command } from "commander";
import { runBenchChild } from "../bench-child.ts";
import { Rtgs2Error } from "../../core/errors.ts";
import { parseThreads } from "../options.ts";

/** Add the `nn` subcommand to the `bench` command group. */
export function registerBenchNn(bench: Command): void {
  bench
    .command("nn")
    .description("layer speed (GFLOP/s, forward and training) as a ratio to a 1024² matmul measured in the same run")
    .option("--threads <n>", "wasm worker threads (default: all cores)")
    .option("--json", "print one JSON object")
    .action(async (flags: { threads?: string; json?: boolean }) => {
      const threads = parseThreads(flags.threads);
      // Run from source through tsx, or from dist/ as plain JavaScript: the entry has this module's extension.
      const ext = import.meta.url.slice(import.meta.url.lastIndexOf("."));
      const code = await runBenchChild(new URL(`../../nn/bench${ext}`, import.meta.url), flags.json ? ["--json"] : [], threads);
      if (code !== 0) throw new Rtgs2Error(`bench nn: benchmark process exited with code ${code}`);
    });
}
