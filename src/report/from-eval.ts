/**
 * The report sections an evaluation fills: headline, per-class IoU, confusion matrix, FPS breakdown and the
 * comparison row. Shared by `rtgs2 eval --report` and the demo, so both pages read the same way.
 */
import { cpus } from "node:os";
import { basename } from "node:path";
import type { ClassInfo } from "../datasets/scene.ts";
import type { EvalResult } from "../eval/evaluate.ts";
import { ConfigError } from "../core/errors.ts";
import type { ComparisonRow, ConsistencyScene, ReportData } from "./types.ts";

/** This machine in a few words (CPU model and core count), for provenance and the FPS caption. */
export function machineDescription(): string {
  const list = cpus();
  const model = (list[0]?.model ?? "unknown CPU").replace(/\s+/g, " ").trim();
  return `${list.length}× ${model}, Node ${process.versions.node}`;
}

/** Options of {@link reportFromEval}. */
export interface ReportFromEvalOptions {
  classes: readonly ClassInfo[];
  datasetName: string;
  /** Label of our row in the comparison table (default "rtgs2 <model file>"). */
  label?: string;
  /** Lifted-label consistency per scene, to draw beside the per-view figures. */
  lifted?: ReadonlyMap<string, number>;
}

/** Headline, per-class, confusion, FPS, consistency and comparison sections of a semantic evaluation. */
export function reportFromEval(r: EvalResult, options: ReportFromEvalOptions): ReportData {
  if (r.task !== "semantic" || r.mIoU === null || r.mAcc === null || r.oAcc === null) {
    throw new ConfigError("--report", `the report needs a semantic evaluation; ${r.model} is a ${r.task} checkpoint`);
  }
  const classes = options.classes.map((c) => ({ id: c.id, name: c.name, color: c.color }));
  const setting = r.finetuneScene !== null ? "fine-tuned" : "generalization";
  const ours: ComparisonRow = {
    setting,
    label: options.label ?? `rtgs2 ${basename(r.model)}`,
    mIoU: r.mIoU,
    mAcc: r.mAcc,
    oAcc: r.oAcc,
    fps: r.fps,
  };
  const scenes: ConsistencyScene[] = r.perScene
    .filter((s) => s.viewConsistency !== null && s.gtCeiling !== null)
    .map((s) => ({ scene: s.scene, perView: s.viewConsistency!, gtCeiling: s.gtCeiling!, lifted: options.lifted?.get(s.scene) }));
  const data: ReportData = {
    dataset: { name: options.datasetName, classes },
    headline: {
      mIoU: r.mIoU,
      mAcc: r.mAcc,
      oAcc: r.oAcc,
      top: r.top20 !== null ? { k: 20, ...r.top20 } : undefined,
      fps: r.fps,
      viewConsistency: r.viewConsistency ?? undefined,
      gtCeiling: r.gtCeiling ?? undefined,
      evaluated: `${r.split} split: ${r.scenes.join(", ")} (${r.views} views)`,
    },
    perClass: r.perClass.map((c) => ({ id: c.id, iou: c.iou, acc: c.acc, pixels: c.pixels })),
    fps: {
      entries: [{ label: basename(r.model), fps: r.fps, breakdown: r.breakdown }],
      machine: machineDescription(),
      method: r.breakdownMethod,
    },
    comparison: { ours: [ours], dataset: options.datasetName },
  };
  if (r.confusion !== null) data.confusion = r.confusion;
  if (scenes.length > 0) data.consistency = { scenes };
  return data;
}
