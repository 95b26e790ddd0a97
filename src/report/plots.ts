/**
 * The report's plots as vega-lite specs, rendered to standalone SVG strings in Node (vega's headless "none"
 * renderer; text widths are estimated, so no canvas package is needed). Each spec builder is pure: data in,
 * spec out, so tests can check the data a plot carries without rendering it.
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { hex } from "./html.ts";
import type {
  ConfusionInput,
  ConsistencyScene,
  FpsEntry,
  ReportClass,
  ReportClassScore,
  TrainingRecord,
} from "./types.ts";

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif";

const CONFIG = {
  font: FONT,
  background: "#ffffff",
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#e6e6e6" },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: "start" as const },
};

let svgCounter = 0;

/**
 * Render a vega-lite spec to an SVG string. Element ids (clip paths, gradients) are prefixed with a per-call
 * tag, because several vega SVGs inlined in one page would otherwise share ids like `clip1` and clip each other.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile({ ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    const svg = await view.toSVG();
    const tag = `p${++svgCounter}_`;
    return svg
      .replace(/\bid="([^"]+)"/g, (_m, id: string) => `id="${tag}${id}"`)
      .replace(/url\(#([^)]+)\)/g, (_m, id: string) => `url(#${tag}${id})`)
      .replace(/href="#([^"]+)"/g, (_m, id: string) => `href="#${tag}${id}"`);
  } finally {
    view.finalize();
  }
}

/** Unique display names of the classes (a repeated name gets its id appended), by class id. */
export function classLabels(classes: readonly ReportClass[]): string[] {
  const seen = new Map<string, number>();
  for (const c of classes) seen.set(c.name, (seen.get(c.name) ?? 0) + 1);
  return classes.map((c) => ((seen.get(c.name) ?? 0) > 1 ? `${c.name} (${c.id})` : c.name));
}

/** Horizontal IoU bars, one per scored class, coloured by the class table, with a legend. */
export function perClassIouSpec(classes: readonly ReportClass[], scores: readonly ReportClassScore[]): TopLevelSpec {
  const labels = classLabels(classes);
  const sorted = [...scores].sort((a, b) => a.id - b.id);
  const values = sorted.map((s) => ({
    cls: labels[s.id],
    iou: s.iou,
    acc: s.acc ?? null,
    pixels: s.pixels ?? null,
  }));
  const domain = sorted.map((s) => labels[s.id]);
  const range = sorted.map((s) => hex(classes[s.id].color));
  return {
    title: "IoU per class (%)",
    width: 420,
    height: Math.max(60, 16 * values.length),
    data: { values },
    mark: { type: "bar", stroke: "#555", strokeWidth: 0.5 },
    encoding: {
      y: { field: "cls", type: "nominal", sort: domain, title: null },
      x: { field: "iou", type: "quantitative", scale: { domain: [0, 100] }, title: "IoU (%)" },
      color: {
        field: "cls",
        type: "nominal",
        scale: { domain, range },
        legend: { title: "class", columns: values.length > 16 ? 2 : 1, symbolType: "square" },
      },
    },
  };
}

/** Row-normalized confusion heat map: row = ground truth, column = prediction ("none" = outside 0..K−1). */
export function confusionSpec(classes: readonly ReportClass[], cm: ConfusionInput): TopLevelSpec {
  const k = cm.numClasses;
  const stride = cm.counts.length === k * (k + 1) ? k + 1 : k;
  const labels = classLabels(classes);
  const rowSum = new Float64Array(k);
  const colSum = new Float64Array(stride);
  for (let g = 0; g < k; g++) {
    for (let p = 0; p < stride; p++) {
      rowSum[g] += cm.counts[g * stride + p];
      colSum[p] += cm.counts[g * stride + p];
    }
  }
  // Rows: classes present in the ground truth; columns: those plus any class that was predicted.
  const rows = [...Array(k).keys()].filter((g) => rowSum[g] > 0);
  const cols = [...Array(stride).keys()].filter((p) => rowSum[p] > 0 || colSum[p] > 0);
  const colName = (p: number) => (p === k ? "(none)" : labels[p]);
  const values: { gt: string; pred: string; fraction: number; pct: string }[] = [];
  for (const g of rows) {
    for (const p of cols) {
      const f = cm.counts[g * stride + p] / rowSum[g];
      values.push({ gt: labels[g], pred: colName(p), fraction: f, pct: f >= 0.005 ? (100 * f).toFixed(0) : "" });
    }
  }
  const cell = Math.max(14, Math.min(40, Math.floor(520 / Math.max(1, cols.length))));
  const base = {
    x: { field: "pred", type: "nominal" as const, sort: cols.map(colName), title: "prediction", axis: { labelAngle: -45 } },
    y: { field: "gt", type: "nominal" as const, sort: rows.map((g) => labels[g]), title: "ground truth" },
  };
  return {
    title: "Confusion matrix (each row sums to 1)",
    width: cell * cols.length,
    height: cell * rows.length,
    data: { values },
    layer: [
      {
        mark: { type: "rect" },
        encoding: {
          ...base,
          color: {
            field: "fraction",
            type: "quantitative",
            // White at 0 so empty cells read as empty; a square-root scale keeps 1–5 % confusions visible.
            scale: { type: "sqrt", domain: [0, 1], range: ["#ffffff", "#08306b"], interpolate: "rgb" },
            legend: { title: "fraction of row", format: ".0%", values: [0, 0.05, 0.25, 0.5, 1] },
          },
        },
      },
      ...(cols.length <= 14
        ? [
            {
              mark: { type: "text" as const, fontSize: 10 },
              encoding: {
                ...base,
                text: { field: "pct", type: "nominal" as const },
                color: {
                  condition: { test: "datum.fraction > 0.5", value: "white" },
                  value: "#222",
                },
              },
            },
          ]
        : []),
    ],
  } as TopLevelSpec;
}

/** Numeric fields of the records matching `pattern` (or exactly `fields` when given), in first-seen order. */
export function seriesFields(
  records: readonly TrainingRecord[],
  pattern: RegExp,
  fields?: readonly string[],
): string[] {
  if (fields) return [...fields];
  const out: string[] = [];
  for (const r of records) {
    for (const [key, v] of Object.entries(r)) {
      if (key !== "step" && key !== "epoch" && typeof v === "number" && pattern.test(key) && !out.includes(key)) {
        out.push(key);
      }
    }
  }
  return out;
}

/** Long-format points {x, series, value} of the given fields; records without a finite value are skipped. */
export function seriesPoints(
  records: readonly TrainingRecord[],
  x: "step" | "epoch",
  fields: readonly string[],
): { x: number; series: string; value: number }[] {
  const out: { x: number; series: string; value: number }[] = [];
  for (const r of records) {
    const xv = r[x];
    if (typeof xv !== "number" || !Number.isFinite(xv)) continue;
    for (const f of fields) {
      const v = r[f];
      if (typeof v === "number" && Number.isFinite(v)) out.push({ x: xv, series: f, value: v });
    }
  }
  return out;
}

function lineChart(
  title: string,
  xTitle: string,
  yTitle: string,
  points: { x: number; series: string; value: number }[],
  yZero: boolean,
): Record<string, unknown> {
  return {
    title,
    width: 360,
    height: 220,
    data: { values: points },
    mark: { type: "line", point: points.length <= 60, strokeWidth: 1.5 },
    encoding: {
      x: { field: "x", type: "quantitative", title: xTitle },
      y: { field: "value", type: "quantitative", title: yTitle, scale: { zero: yZero } },
      color: { field: "series", type: "nominal", title: null, legend: { orient: "bottom" } },
    },
  };
}

/** Loss curves and validation mIoU curves, side by side (either may be absent, not both). */
export function trainingSpec(
  records: readonly TrainingRecord[],
  x: "step" | "epoch",
  lossFields: readonly string[],
  metricFields: readonly string[],
): TopLevelSpec {
  const charts: Record<string, unknown>[] = [];
  const loss = seriesPoints(records, x, lossFields);
  const metric = seriesPoints(records, x, metricFields);
  if (loss.length > 0) charts.push(lineChart("Training loss", x, "loss", loss, false));
  if (metric.length > 0) charts.push(lineChart("Validation mIoU (%)", x, "mIoU (%)", metric, true));
  return { hconcat: charts, resolve: { scale: { color: "independent" } } } as unknown as TopLevelSpec;
}

/** The parts of the per-frame time, in pipeline order, with fixed colours. */
export const FPS_PARTS = [
  ["render", "#4c78a8"],
  ["rgbBranch", "#f58518"],
  ["featureBranch", "#54a24b"],
  ["fusion", "#e45756"],
  ["decoder", "#b279a2"],
] as const;

/** Stacked horizontal bar of the per-frame milliseconds of each part, one bar per entry, labelled with its FPS. */
export function fpsSpec(entries: readonly FpsEntry[]): TopLevelSpec {
  const parts = FPS_PARTS.map(([p]) => p);
  const values = entries.flatMap((e) =>
    FPS_PARTS.map(([part], order) => ({ entry: e.label, part, order, ms: e.breakdown[part] })),
  );
  const totals = entries.map((e) => ({
    entry: e.label,
    total: FPS_PARTS.reduce((s, [p]) => s + e.breakdown[p], 0),
    text: `${e.fps.toFixed(1)} FPS`,
  }));
  return {
    title: "Time per frame (ms)",
    width: 520,
    height: Math.max(40, 34 * entries.length),
    layer: [
      {
        data: { values },
        mark: { type: "bar" },
        encoding: {
          y: { field: "entry", type: "nominal", title: null, sort: entries.map((e) => e.label) },
          x: { field: "ms", type: "quantitative", stack: "zero", title: "milliseconds per frame" },
          color: {
            field: "part",
            type: "nominal",
            scale: { domain: parts, range: FPS_PARTS.map(([, c]) => c) },
            legend: { title: "part", orient: "bottom" },
          },
          order: { field: "order", type: "quantitative" },
        },
      },
      {
        data: { values: totals },
        mark: { type: "text", align: "left", dx: 4, fontWeight: "bold" },
        encoding: {
          y: { field: "entry", type: "nominal", sort: entries.map((e) => e.label) },
          x: { field: "total", type: "quantitative" },
          text: { field: "text", type: "nominal" },
        },
      },
    ],
  } as TopLevelSpec;
}

/** Per-scene view consistency before / after lifting (grouped bars) with the ground-truth ceiling as a tick. */
export function consistencySpec(scenes: readonly ConsistencyScene[]): TopLevelSpec {
  const hasLifted = scenes.some((s) => s.lifted !== undefined);
  const kinds = hasLifted ? ["per-view", "lifted", "GT ceiling"] : ["per-view", "GT ceiling"];
  const colours = hasLifted ? ["#9ecae9", "#4c78a8", "#222222"] : ["#4c78a8", "#222222"];
  const bars = scenes.flatMap((s) => [
    { scene: s.scene, kind: "per-view", value: s.perView },
    ...(s.lifted !== undefined ? [{ scene: s.scene, kind: "lifted", value: s.lifted }] : []),
  ]);
  const ceilings = scenes.map((s) => ({ scene: s.scene, kind: "GT ceiling", value: s.gtCeiling }));
  const order = scenes.map((s) => s.scene);
  const color = {
    field: "kind",
    type: "nominal",
    scale: { domain: kinds, range: colours },
    legend: { title: null, orient: "bottom" },
  };
  return {
    title: "View consistency per scene (fraction of matched pixels that agree)",
    width: Math.max(240, 90 * scenes.length),
    height: 240,
    layer: [
      {
        data: { values: bars },
        mark: { type: "bar" },
        encoding: {
          x: { field: "scene", type: "nominal", sort: order, title: null, axis: { labelAngle: 0 } },
          xOffset: { field: "kind", type: "nominal", sort: kinds },
          y: { field: "value", type: "quantitative", scale: { domain: [0, 1] }, title: "view consistency" },
          color,
        },
      },
      {
        data: { values: bars },
        mark: { type: "text", dy: -6, fontSize: 10 },
        encoding: {
          x: { field: "scene", type: "nominal", sort: order },
          xOffset: { field: "kind", type: "nominal", sort: kinds },
          y: { field: "value", type: "quantitative" },
          text: { field: "value", type: "quantitative", format: ".3f" },
        },
      },
      {
        data: { values: ceilings },
        mark: { type: "tick", thickness: 3 },
        encoding: {
          x: { field: "scene", type: "nominal", sort: order },
          y: { field: "value", type: "quantitative" },
          color,
        },
      },
    ],
  } as TopLevelSpec;
}
