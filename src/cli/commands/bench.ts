import type { Command } from "commander";
import { ConfigError } from "../../core/errors.ts";
import { readSplatSync } from "../../splat/io/index.ts";
import { syntheticRoomCloud } from "../../splat/synthetic.ts";
import { benchRender } from "../../eval/bench-render.ts";
import { parseIntFlag, parseSize, parseThreads, printJson } from "../options.ts";

/** The `bench` command group; each benchmark registers a subcommand on it. */
export function registerBench(program: Command): Command {
  const bench = program.command("bench").description("benchmarks: print timings and rates (not tests)");
  bench
    .command("render")
    .description("rasterizer FPS at the benchmark camera: RGB, and RGB + 32 feature channels")
    .argument("[file]", "splat file (or use --synthetic N)")
    .option("--synthetic <n>", "benchmark a procedural room of N splats instead of a file")
    .option("--size <WxH>", "image size", "640x480")
    .option("--threads <n>", "worker threads (default: all cores)")
    .option("--json", "print one JSON object")
    .action(async (file: string | undefined, flags: { synthetic?: string; size: string; threads?: string; json?: boolean }) => {
      if ((file === undefined) === (flags.synthetic === undefined)) throw new ConfigError("bench render", "give a FILE or --synthetic N");
      const cloud = file !== undefined ? readSplatSync(file).cloud : syntheticRoomCloud(parseIntFlag(flags.synthetic!, "--synthetic", 1, 50_000_000));
      const { width, height } = parseSize(flags.size);
      const r = await benchRender(cloud, { width, height, threads: parseThreads(flags.threads) });
      if (flags.json) return printJson({ file: file ?? `synthetic:${cloud.count}`, ...r });
      const line = (k: string, v: string) => process.stdout.write(`  ${k.padEnd(18)}${v}\n`);
      process.stdout.write(`bench render ${file ?? `synthetic room`}: ${r.splats.toLocaleString("en-US")} splats, ${width}x${height}, ${r.threads} thread(s)\n`);
      line("RGB", `${r.fps.rgb.toFixed(1)} FPS (${r.frameMs.rgb.toFixed(1)} ms: project ${r.breakdownMs.project.toFixed(1)}, bin ${r.breakdownMs.bin.toFixed(1)}, blend ${r.breakdownMs.blend.toFixed(1)})`);
      line("RGB + 32 features", `${r.fps.rgbFeatures.toFixed(1)} FPS (${r.frameMs.rgbFeatures.toFixed(1)} ms, ${r.featureSource} features)`);
      line("blends", `${(r.blendsPerSecond / 1e6).toFixed(1)} M/s (${(r.blendsPerFrame / 1e6).toFixed(2)} M per frame)`);
      line("vs reference", `${r.referenceSpeedup.toFixed(0)}× faster than the brute-force renderer`);
    });
  return bench;
}
