/** `rtgs2 eval`: metrics of a VDVI checkpoint on a dataset (thin: flags → `evaluate`). */
import type { Command } from "commander";
import { existsSync } from "node:fs";
import { ConfigError, MissingFileError } from "../../core/errors.ts";
import { evaluate } from "../../eval/evaluate.ts";
import { readDatasetJson } from "../../datasets/scene.ts";
import { join } from "node:path";
import { reportFromEval, machineDescription } from "../../report/from-eval.ts";
import { writeReport } from "../../report/report.ts";
import { parseThreads, printJson, say } from "../options.ts";

interface EvalFlags {
  model?: string;
  data: string;
  split: string;
  threads?: string;
  report?: string;
  log?: string;
  json?: boolean;
}

const pct = (v: number | null): string => (v === null ? "—" : v.toFixed(2));

/** `rtgs2 eval [--model CKPT] --data DIR [--split test|train|all]` (ARCHITECTURE.md §5). */
export function registerEval(program: Command): void {
  program
    .command("eval")
    .description("evaluate a VDVI checkpoint: test scenes, or the novel views of a fine-tuned checkpoint's scene")
    .option("--model <ckpt>", "checkpoint (default: checkpoints/vdvi-lite.safetensors)")
    .requiredOption("--data <dir>", "project-layout dataset")
    .option("--split <split>", "test, train or all (generalization checkpoints)", "test")
    .option("--threads <n>", "render threads (default: all cores)")
    .option("--report <dir>", "also write an HTML report (report.html + images) into DIR")
    .option("--log <file>", "training JSONL log to plot in the report")
    .option("--json", "print one JSON object")
    .action(async (flags: EvalFlags) => {
      if (!["test", "train", "all"].includes(flags.split)) throw new ConfigError("--split", `expected test, train or all, got "${flags.split}"`);
      if (flags.log !== undefined && flags.report === undefined) throw new ConfigError("--log", "is plotted in the report only: give --report DIR too");
      if (flags.log !== undefined && !existsSync(flags.log)) throw new MissingFileError(flags.log, "training log not found");
      const r = await evaluate({ model: flags.model, data: flags.data, split: flags.split as "test" | "train" | "all", threads: parseThreads(flags.threads) });
      let report: string | undefined;
      if (flags.report !== undefined) {
        const dataset = readDatasetJson(join(flags.data, "dataset.json"));
        const written = await writeReport(flags.report, {
          ...reportFromEval(r, { classes: dataset.classes, datasetName: dataset.name }),
          training: flags.log !== undefined ? { log: flags.log } : undefined,
          provenance: { checkpoint: r.model, dataset: flags.data, machine: machineDescription(), date: new Date().toISOString(), command: process.argv.slice(2).join(" ") },
        });
        report = written.html;
        if (!flags.json) say(false, `report: ${report}`);
      }
      if (flags.json) return printJson(report !== undefined ? { ...r, report } : r);
      say(false, `${r.views} views of ${r.scenes.join(", ")} (${r.split})`);
      if (r.task === "semantic") {
        say(false, `mIoU ${pct(r.mIoU)}  mAcc ${pct(r.mAcc)}  oAcc ${pct(r.oAcc)}  (top-20: ${pct(r.top20?.mIoU ?? null)} / ${pct(r.top20?.mAcc ?? null)} / ${pct(r.top20?.oAcc ?? null)})`);
        say(false, `view consistency ${r.viewConsistency?.toFixed(3) ?? "—"} (GT ceiling ${r.gtCeiling?.toFixed(3) ?? "—"})`);
      } else if (r.depth !== undefined) {
        say(false, `AbsRel ${r.depth.absRel.toFixed(4)}  RMSE ${r.depth.rmse.toFixed(4)}  δ1 ${r.depth.delta1.toFixed(3)}`);
      }
      say(false, `PSNR ${r.psnr?.toFixed(2) ?? "—"}  SSIM ${r.ssim?.toFixed(4) ?? "—"}  ${r.fps.toFixed(1)} FPS (render ${r.breakdown.render.toFixed(1)} ms + network ${r.breakdown.network.toFixed(1)} ms)`);
    });
}
