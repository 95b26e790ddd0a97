/**
 * `rtgs2 model-info --config NAME [--size WxH] [--task …] [--ablate …] [--json]`: parameter count and cost of the
 * VDVI network at a size (ARCHITECTURE.md §5). The network module is imported only when the command runs, so
 * other commands do not pay for loading the engine.
 */
import type { Command } from "commander";
import { ConfigError } from "../../core/errors.ts";
import { parseSize, printJson } from "../options.ts";

interface ModelInfoFlags {
  config: string;
  size?: string;
  task: string;
  ablate?: string;
  classes?: string;
  json?: boolean;
}

/** Register `rtgs2 model-info`. */
export function registerModelInfo(program: Command): void {
  program
    .command("model-info")
    .description("parameter count and multiply-adds of the VDVI network at a size (default: the config's)")
    .option("--config <name>", "paper, lite or tiny", "lite")
    .option("--size <WxH>", "input size (default: the config's, paper 640x480, lite 320x240)")
    .option("--task <task>", "semantic or depth", "semantic")
    .option("--ablate <which>", "no-vi (RGB only) or no-rgb (features only)")
    .option("--classes <k>", "number of classes K of the semantic head (default 28)")
    .option("--json", "print one JSON object")
    .action(async (flags: ModelInfoFlags) => {
      const { vdviConfig } = await import("../../models/configs.ts");
      if (flags.task !== "semantic" && flags.task !== "depth") throw new ConfigError("--task", `expected semantic or depth, got "${flags.task}"`);
      const ablation = flags.ablate ?? "none";
      if (ablation !== "none" && ablation !== "no-vi" && ablation !== "no-rgb") {
        throw new ConfigError("--ablate", `expected no-vi or no-rgb, got "${ablation}"`);
      }
      const classes = flags.classes === undefined ? undefined : Number(flags.classes);
      if (classes !== undefined && !(Number.isInteger(classes) && classes >= 1)) throw new ConfigError("--classes", `expected a positive integer, got "${flags.classes}"`);
      const cfg = vdviConfig(flags.config, { task: flags.task, ablation, ...(classes === undefined ? {} : { numClasses: classes }) });
      const { width, height } = flags.size === undefined ? { width: cfg.width, height: cfg.height } : parseSize(flags.size);
      const { modelInfo } = await import("../../models/vdvi/info.ts");
      const info = modelInfo(cfg, width, height);
      if (flags.json) return printJson(info);
      const m = (n: number): string => `${(n / 1e6).toFixed(2)} M`;
      const lines = [
        `${info.config} (${info.task}${info.ablation === "none" ? "" : `, ${info.ablation}`}) at ${width}×${height}`,
        `  params    ${info.params.toLocaleString("en-US")} (${m(info.params)})`,
        `  GMACs     ${info.gmacs.toFixed(3)} conv + linear (${info.gflops.toFixed(3)} GFLOPs); ${info.gmacsAll.toFixed(3)} with attention, norms and resizes`,
        ...Object.entries(info.parts).map(
          ([k, v]) => `  ${k.padEnd(14)}${m(v.params).padStart(9)}  ${v.gmacs.toFixed(3).padStart(8)} GMACs  ${v.gmacsAll.toFixed(3).padStart(8)} all`,
        ),
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}
