/** `rtgs2 demo`: the whole pipeline on unseen synthetic rooms with the committed checkpoints (thin: flags → runDemo). */
import type { Command } from "commander";
import { runDemo } from "../../report/demo.ts";
import { parseIntFlag, parseSize, parseThreads, printJson } from "../options.ts";

interface DemoFlags {
  out: string;
  model?: string;
  scenes: string;
  frames: string;
  size: string;
  gaussians: string;
  threads?: string;
  json?: boolean;
}

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("generate unseen synthetic rooms, encode, segment, lift and evaluate them, and write an HTML report")
    .option("--out <dir>", "output folder", "demo-output")
    .option("--model <ckpt>", "VDVI checkpoint (default: checkpoints/vdvi-lite.safetensors)")
    .option("--scenes <n>", "rooms to generate", "2")
    .option("--frames <f>", "frames per room", "24")
    .option("--size <WxH>", "ground-truth frame size", "320x240")
    .option("--gaussians <k>", "Gaussians per room", "150000")
    .option("--threads <n>", "worker threads (default: all cores)")
    .option("--json", "print one JSON object: report, mIoU, seconds")
    .action(async (flags: DemoFlags) => {
      const { width, height } = parseSize(flags.size);
      const r = await runDemo({
        out: flags.out,
        model: flags.model,
        scenes: parseIntFlag(flags.scenes, "--scenes", 1, 20),
        frames: parseIntFlag(flags.frames, "--frames", 2, 1000),
        width,
        height,
        gaussians: parseIntFlag(flags.gaussians, "--gaussians", 1000, 5_000_000),
        threads: parseThreads(flags.threads),
        log: flags.json ? undefined : (line) => process.stderr.write(`${line}\n`),
      });
      if (flags.json) return printJson({ report: r.report, mIoU: r.mIoU, seconds: r.seconds, steps: r.steps, model: r.model, encoder: r.encoder });
      const lifted = r.lifted.map((l) => l.viewConsistency / l.gtCeiling).filter((v) => Number.isFinite(v));
      const ratio = lifted.reduce((a, b) => a + b, 0) / Math.max(1, lifted.length);
      process.stdout.write(
        `report: ${r.report}  mIoU ${r.mIoU.toFixed(1)}  oAcc ${r.eval.oAcc?.toFixed(1) ?? "—"}  ${r.eval.fps.toFixed(1)} FPS  ` +
          `lifted consistency ${lifted.length > 0 ? `${(100 * ratio).toFixed(1)} %` : "—"} of GT ceiling  (${r.seconds.toFixed(0)} s)\n`,
      );
    });
}
