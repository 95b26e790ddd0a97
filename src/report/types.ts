/**
 * The typed input of the HTML report. Producers (`rtgs2 eval --report`, `rtgs2 demo`, lifting) fill a
 * `ReportData`; `writeReport` (report.ts) turns it into one self-contained `report.html` plus PNG files. Only
 * `dataset` and `headline` are required: every other section is drawn when given and left out otherwise.
 *
 * Units follow ARCHITECTURE.md §5: mIoU / mAcc / oAcc / IoU are percentages (0–100); `viewConsistency` and
 * `gtCeiling` are fractions (0–1); times ending in `Ms` are milliseconds.
 */
import type { Image, Rgb255 } from "../core/image.ts";

/** One class of the dataset's class table (`ClassInfo` from src/datasets fits): training index, name, colour. */
export interface ReportClass {
  id: number;
  name: string;
  /** 0–255 RGB display colour; the legend, bars and label images use it. */
  color: Rgb255;
}

/** A colour image given as pixels, or as an existing PNG file that is copied next to the report. */
export type ImageInput = Image | { path: string };

/** Per-pixel feature vectors, shown as a 3-component PCA preview (src/render/feature-preview.ts). */
export interface FeatureMapInput {
  /** Channel-last [H·W·channels] features. */
  features: Float32Array;
  channels: number;
  /** Optional coverage; pixels with alpha ≤ 0.5 are left out of the PCA and drawn black. */
  alpha?: Float32Array;
}

/** One sample view's panels; any panel may be absent. Label maps are H×W row-major, 65535 = ignore. */
export interface SampleView {
  /** Caption, e.g. "scene_016 · frame 8". */
  name: string;
  width: number;
  height: number;
  /** Rendered RGB (values 0–1) or a PNG path. */
  rgb?: ImageInput;
  /** Ground-truth classes. */
  gt?: Uint16Array;
  /** Predicted classes. With `gt`, an error map is drawn too. */
  pred?: Uint16Array;
  /** Feature PCA: a ready RGB preview / PNG path, or the raw features to run the PCA on. */
  features?: ImageInput | FeatureMapInput;
  /** Depth in metres (0 or non-finite = invalid), or a ready PNG path / image. */
  depth?: Float32Array | ImageInput;
  /** Caption overrides per panel (defaults: "rendered RGB", "ground truth", "prediction", …). */
  captions?: Partial<Record<PanelKind, string>>;
}

/** The panels of a sample view, in display order. */
export type PanelKind = "rgb" | "gt" | "pred" | "error" | "features" | "depth";

/** The headline numbers. */
export interface HeadlineMetrics {
  /** Percent. NaN shows as "—". */
  mIoU: number;
  mAcc: number;
  oAcc: number;
  /** Top-K restriction (`top20` of `rtgs2 eval`), percentages. */
  top?: { k: number; mIoU: number; mAcc: number; oAcc: number };
  /** End-to-end frames per second (render + network), measured on `provenance.machine`. */
  fps?: number;
  /** Fraction 0–1. */
  viewConsistency?: number;
  /** Fraction 0–1: the same measure on the ground-truth labels. */
  gtCeiling?: number;
  /** Which views were scored, e.g. "test split, 4 scenes × 48 views". */
  evaluated?: string;
}

/** One class's scores (`ClassScore` from src/metrics fits). */
export interface ReportClassScore {
  id: number;
  /** Percent. */
  iou: number;
  /** Percent (recall). */
  acc?: number;
  /** Ground-truth pixels. */
  pixels?: number;
}

/**
 * Ground truth × prediction pixel counts (`ConfusionMatrix` from src/metrics fits): row-major K × (K + 1) — the
 * last column counts predictions outside 0..K−1 — or plain K × K.
 */
export interface ConfusionInput {
  numClasses: number;
  counts: ArrayLike<number>;
}

/** One JSONL record of a training log: `step` plus numeric (or string) fields. */
export type TrainingRecord = { step: number } & Record<string, number | string>;

/**
 * Training curves. Loss series are the numeric fields whose name contains "loss"; validation series those whose
 * name contains "miou" (case-insensitive), unless `lossFields` / `metricFields` name them.
 */
export interface TrainingInput {
  /** A JSONL file (one record per line), or the records themselves. */
  log: string | readonly TrainingRecord[];
  /** x axis: "step" (default) or "epoch" (a numeric field of the records). */
  x?: "step" | "epoch";
  lossFields?: readonly string[];
  metricFields?: readonly string[];
  /** Caption, e.g. "stage 2, lite config, 20 train scenes". */
  caption?: string;
}

/** Per-frame time of the parts of the pipeline, milliseconds. */
export interface FpsBreakdownMs {
  render: number;
  rgbBranch: number;
  featureBranch: number;
  fusion: number;
  decoder: number;
}

/** One measured configuration of `rtgs2 bench pipeline`. */
export interface FpsEntry {
  /** e.g. "lite 320×240". */
  label: string;
  fps: number;
  breakdown: FpsBreakdownMs;
  /** The encoder's once-per-scene cost, seconds. */
  encodeSeconds?: number;
}

export interface FpsInput {
  entries: readonly FpsEntry[];
  /** Where it was measured, e.g. "2-core x86 VM, Node 20, CPU". */
  machine?: string;
  /** How the parts were timed (e.g. eval's `breakdownMethod`), shown in the caption. */
  method?: string;
}

/** One of our rows in the comparison table (percentages; FPS optional). */
export interface ComparisonRow {
  setting: "generalization" | "fine-tuned";
  /** e.g. "rtgs2 lite (CPU)". */
  label: string;
  mIoU: number;
  mAcc: number;
  oAcc: number;
  fps?: number;
}

export interface ComparisonInput {
  ours: readonly ComparisonRow[];
  /** Our dataset's name for the caption (default: the report's dataset name). */
  dataset?: string;
}

/** View consistency of one scene, fractions 0–1. */
export interface ConsistencyScene {
  scene: string;
  /** Per-view predictions. */
  perView: number;
  /** After lifting labels to the Gaussians and rendering them back (absent until lifting ran). */
  lifted?: number;
  /** The same measure on the ground truth. */
  gtCeiling: number;
}

export interface ConsistencyInput {
  scenes: readonly ConsistencyScene[];
}

/** Where the numbers came from; every field is optional and shown as given. */
export interface Provenance {
  checkpoint?: string;
  encoder?: string;
  dataset?: string;
  seed?: number;
  machine?: string;
  /** ISO date; defaults to the time the report is written. */
  date?: string;
  command?: string;
  /** Anything else, shown as key: value. */
  extra?: Readonly<Record<string, string | number>>;
}

/** Everything the report shows. */
export interface ReportData {
  /** Page title (default "rtgs2 report"). */
  title?: string;
  /** A highlighted note under the title (e.g. "example: prediction = ground truth with seeded noise"). */
  notice?: string;
  dataset: {
    name: string;
    /** The class table; `classes[i].id === i`. */
    classes: readonly ReportClass[];
  };
  headline: HeadlineMetrics;
  samples?: readonly SampleView[];
  perClass?: readonly ReportClassScore[];
  confusion?: ConfusionInput;
  training?: TrainingInput;
  fps?: FpsInput;
  comparison?: ComparisonInput;
  consistency?: ConsistencyInput;
  provenance?: Provenance;
}
