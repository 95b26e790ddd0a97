/**
 * `writeReport(dir, data)`: one self-contained `report.html` (CSS and SVG plots inline, no script, no external
 * URL) plus the sample-view PNGs under `dir/img/`, referenced by relative paths, so the folder reads offline
 * and can be moved or zipped as a whole. Sections appear in a fixed order and only when their data is given.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { cpus } from "node:os";
import { writeFileAtomic } from "../core/fs.ts";
import { ConfigError } from "../core/errors.ts";
import { IGNORE_LABEL } from "../core/image.ts";
import { esc, fmt, hex } from "./html.ts";
import {
  depthImage,
  ERROR_COLORS,
  errorMap,
  featureImage,
  isFeatureMap,
  isPathInput,
  LABEL_IGNORE_COLOR,
  labelImage,
  writePanel,
} from "./images.ts";
import { PAPER_FPS, PAPER_RESULTS } from "./paper.ts";
import {
  classLabels,
  confusionSpec,
  consistencySpec,
  fpsSpec,
  perClassIouSpec,
  renderSvg,
  seriesFields,
  trainingSpec,
} from "./plots.ts";
import type { ImageInput, PanelKind, ReportData, SampleView } from "./types.ts";
import { loadTrainingRecords, validateReportData } from "./validate.ts";

/** What `writeReport` wrote. */
export interface ReportResult {
  /** Absolute path of `report.html`. */
  html: string;
  /** Absolute paths of every file written (PNGs first, `report.html` last). */
  files: string[];
}

/** The `data-plot` names of the plot figures, in page order. */
export type PlotName = "per-class-iou" | "confusion" | "consistency" | "training" | "fps";

const CSS = `
:root { --fg:#1d1d1f; --muted:#5f6368; --line:#e3e3e3; --accent:#4c78a8; --bg:#fafafa; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif; color:var(--fg); background:var(--bg); }
main { max-width:1240px; margin:0 auto; padding:24px 28px 40px; }
h1 { font-size:26px; margin:0 0 4px; }
h2 { font-size:19px; margin:34px 0 10px; padding-bottom:4px; border-bottom:1px solid var(--line); }
.sub { color:var(--muted); margin:0 0 12px; }
.notice { background:#fff4d6; border:1px solid #f0d48a; border-radius:6px; padding:8px 12px; margin:10px 0 16px; }
.cards { display:grid; grid-template-columns:repeat(auto-fill,minmax(170px,1fr)); gap:12px; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
.card .v { font-size:26px; font-weight:650; }
.card .k { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.card .d { color:var(--muted); font-size:12px; }
.views { display:grid; gap:8px; margin-bottom:14px; }
.views figure { margin:0; }
.views img { width:100%; height:auto; display:block; border:1px solid var(--line); border-radius:3px; background:#fff; }
.views img.crisp { image-rendering:pixelated; }
.views figcaption { font-size:12px; color:var(--muted); text-align:center; }
.viewname { font-weight:600; margin:14px 0 4px; }
.legend { display:flex; flex-wrap:wrap; gap:4px 14px; font-size:12px; margin:6px 0; }
.sw { display:inline-block; width:12px; height:12px; border:1px solid #0003; vertical-align:-2px; margin-right:4px; }
figure.plot { margin:8px 0 18px; background:#fff; border:1px solid var(--line); border-radius:8px; padding:10px; overflow-x:auto; }
figure.plot svg { display:block; max-width:100%; height:auto; }
figure.plot figcaption { color:var(--muted); font-size:12px; margin-top:6px; }
table { border-collapse:collapse; background:#fff; font-variant-numeric:tabular-nums; }
th, td { border:1px solid var(--line); padding:5px 10px; text-align:right; }
th { background:#f2f2f2; }
td.l, th.l { text-align:left; }
tr.ours td { background:#eef4fb; font-weight:600; }
footer { margin-top:40px; padding-top:12px; border-top:1px solid var(--line); color:var(--muted); font-size:12px; }
footer dl { display:grid; grid-template-columns:max-content 1fr; gap:2px 14px; margin:0; }
footer dt { font-weight:600; }
footer dd { margin:0; word-break:break-all; }
`;

function card(key: string, value: string, detail?: string): string {
  return `<div class="card"><div class="k">${esc(key)}</div><div class="v">${esc(value)}</div>${detail ? `<div class="d">${esc(detail)}</div>` : ""}</div>`;
}

function headlineHtml(data: ReportData): string {
  const h = data.headline;
  const cards = [card("mIoU", `${fmt(h.mIoU)} %`), card("mAcc", `${fmt(h.mAcc)} %`), card("oAcc", `${fmt(h.oAcc)} %`)];
  if (h.top) cards.push(card(`top-${h.top.k} mIoU`, `${fmt(h.top.mIoU)} %`, `mAcc ${fmt(h.top.mAcc)} · oAcc ${fmt(h.top.oAcc)}`));
  if (h.fps !== undefined) cards.push(card("FPS", fmt(h.fps, 1), `paper: ${PAPER_FPS} (RTX 3090, 640×480)`));
  if (h.viewConsistency !== undefined) {
    const ratio = h.gtCeiling !== undefined && h.gtCeiling > 0 ? ` · ${fmt((100 * h.viewConsistency) / h.gtCeiling, 1)} % of ceiling` : "";
    cards.push(card("view consistency", fmt(h.viewConsistency, 3), h.gtCeiling !== undefined ? `GT ceiling ${fmt(h.gtCeiling, 3)}${ratio}` : undefined));
  } else if (h.gtCeiling !== undefined) {
    cards.push(card("GT ceiling", fmt(h.gtCeiling, 3)));
  }
  const what = h.evaluated ? `<p class="sub">${esc(h.evaluated)}</p>` : "";
  return `<section id="headline"><h2>Headline</h2>${what}<div class="cards">${cards.join("")}</div></section>`;
}

interface Panel {
  file: string;
  caption: string;
  /** Label-like images are scaled without smoothing. */
  crisp: boolean;
}

function classLegend(data: ReportData, ids: Iterable<number>): string {
  const labels = classLabels(data.dataset.classes);
  const items = [...new Set(ids)]
    .filter((id) => id < data.dataset.classes.length)
    .sort((a, b) => a - b)
    .map((id) => `<span><span class="sw" style="background:${hex(data.dataset.classes[id].color)}"></span>${esc(labels[id])}</span>`);
  return items.join("");
}

function samplesHtml(dir: string, data: ReportData, written: string[]): string {
  const samples = data.samples ?? [];
  const blocks: string[] = [];
  const seen = new Set<number>();
  let anyError = false;
  const classes = data.dataset.classes;
  const rows: { name: string; width: number; height: number; panels: Panel[] }[] = [];
  samples.forEach((s: SampleView, i) => {
    const w = `samples[${i}]`;
    const panels: Panel[] = [];
    const put = (kind: PanelKind, input: ImageInput, defaultCaption: string) => {
      const caption = s.captions?.[kind] ?? defaultCaption;
      const r = writePanel(dir, `img/view${i}-${kind}.png`, input, `${w}.${kind}`);
      written.push(join(dir, r.file));
      panels.push({ file: r.file, caption, crisp: kind === "gt" || kind === "pred" || kind === "error" });
    };
    if (s.rgb) put("rgb", s.rgb, "rendered RGB");
    if (s.gt) put("gt", labelImage(s.gt, s.width, s.height, classes), "ground truth");
    if (s.pred) put("pred", labelImage(s.pred, s.width, s.height, classes), "prediction");
    if (s.gt && s.pred) {
      let wrong = 0,
        valid = 0;
      for (let p = 0; p < s.gt.length; p++) {
        if (s.gt[p] === IGNORE_LABEL) continue;
        valid++;
        if (s.gt[p] !== s.pred[p]) wrong++;
      }
      anyError = true;
      put("error", errorMap(s.gt, s.pred, s.width, s.height), `errors: ${valid ? fmt((100 * wrong) / valid, 1) : "—"} % of pixels`);
    }
    for (const key of ["gt", "pred"] as const) {
      const a = s[key];
      if (a) for (let p = 0; p < a.length; p++) if (a[p] !== IGNORE_LABEL) seen.add(a[p]);
    }
    if (s.features) {
      const img = isPathInput(s.features) || !isFeatureMap(s.features) ? s.features : featureImage(s.features, s.width, s.height, `${w}.features`);
      put("features", img, "feature PCA");
    }
    if (s.depth) {
      if (s.depth instanceof Float32Array) {
        const d = depthImage(s.depth, s.width, s.height);
        put("depth", d.image, `depth ${fmt(d.near, 1)}–${fmt(d.far, 1)} m`);
      } else put("depth", s.depth, "depth");
    }
    if (panels.length > 0) rows.push({ name: s.name, width: s.width, height: s.height, panels });
  });
  // One column count for every view, so panels of different views have the same size.
  const columns = Math.max(0, ...rows.map((r) => r.panels.length));
  for (const r of rows) {
    const figs = r.panels
      .map((p) => `<figure><img${p.crisp ? ' class="crisp"' : ""} src="${esc(p.file)}" alt="${esc(`${r.name}: ${p.caption}`)}" width="${r.width}" height="${r.height}"><figcaption>${esc(p.caption)}</figcaption></figure>`)
      .join("");
    blocks.push(`<div class="viewname">${esc(r.name)}</div><div class="views" style="grid-template-columns:repeat(${columns},minmax(0,1fr))">${figs}</div>`);
  }
  if (blocks.length === 0) return "";
  const legend = seen.size ? `<div class="legend">${classLegend(data, seen)}</div>` : "";
  const errLegend = anyError
    ? `<div class="legend"><span>error map:</span><span><span class="sw" style="background:${hex(ERROR_COLORS.wrong)}"></span>wrong</span><span><span class="sw" style="background:${hex(ERROR_COLORS.correct)}"></span>correct</span><span><span class="sw" style="background:${hex(ERROR_COLORS.ignore)}"></span>ignored (no ground truth)</span></div>`
    : "";
  const ignoreNote = `<span><span class="sw" style="background:${hex(LABEL_IGNORE_COLOR)}"></span>ignore</span>`;
  return `<section id="samples"><h2>Sample views</h2>${blocks.join("")}${legend ? legend.replace("</div>", `${ignoreNote}</div>`) : ""}${errLegend}</section>`;
}

function plotFigure(name: PlotName, svg: string, caption?: string): string {
  return `<figure class="plot" data-plot="${name}">${svg}${caption ? `<figcaption>${esc(caption)}</figcaption>` : ""}</figure>`;
}

function comparisonHtml(data: ReportData): string {
  const c = data.comparison;
  if (!c) return "";
  const ours = c.dataset ?? data.dataset.name;
  const label = `different dataset (paper: Replica/ScanNet/ScanNet++; ours: ${ours})`;
  const rows: string[] = [];
  for (const setting of ["generalization", "fine-tuned"] as const) {
    for (const p of PAPER_RESULTS.filter((r) => r.setting === setting)) {
      rows.push(`<tr><td class="l">${esc(setting)}</td><td class="l">RT-GS2 (paper)</td><td class="l">${esc(p.dataset)}</td><td>${fmt(p.mIoU)}</td><td>${fmt(p.mAcc)}</td><td>${fmt(p.oAcc)}</td><td>${fmt(p.fps)} <small>(RTX 3090)</small></td></tr>`);
    }
    for (const r of c.ours.filter((r) => r.setting === setting)) {
      rows.push(`<tr class="ours"><td class="l">${esc(setting)}</td><td class="l">${esc(r.label)}</td><td class="l">${esc(ours)}</td><td>${fmt(r.mIoU)}</td><td>${fmt(r.mAcc)}</td><td>${fmt(r.oAcc)}</td><td>${r.fps !== undefined ? fmt(r.fps, 1) : "—"}</td></tr>`);
    }
  }
  return `<section id="comparison"><h2>Comparison with the paper's figures</h2><p class="notice"><strong>${esc(label)}.</strong> The numbers are not comparable one to one: other scenes, other classes, other hardware.</p><table><thead><tr><th class="l">setting</th><th class="l">method</th><th class="l">dataset</th><th>mIoU %</th><th>mAcc %</th><th>oAcc %</th><th>FPS</th></tr></thead><tbody>${rows.join("")}</tbody></table></section>`;
}

function provenanceHtml(data: ReportData, date: string): string {
  const p = data.provenance ?? {};
  const items: [string, string][] = [];
  const add = (k: string, v: string | number | undefined) => {
    if (v !== undefined && v !== "") items.push([k, String(v)]);
  };
  add("dataset", p.dataset ?? data.dataset.name);
  add("checkpoint", p.checkpoint);
  add("encoder", p.encoder);
  add("seed", p.seed);
  add("machine", p.machine ?? `${cpus().length}× ${cpus()[0]?.model ?? "CPU"} (${process.platform}/${process.arch}), Node ${process.versions.node}`);
  add("date", date);
  add("command", p.command);
  for (const [k, v] of Object.entries(p.extra ?? {})) add(k, v);
  const dl = items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("");
  return `<footer id="provenance"><dl>${dl}</dl><p>Generated by rtgs2.</p></footer>`;
}

/**
 * Write the report into `dir` (created if needed): `dir/report.html` and `dir/img/*.png`.
 * @throws ConfigError / ShapeError naming the bad field of `data`; InvalidFileError / MissingFileError for an
 *   unreadable training log or image path.
 */
export async function writeReport(dir: string, data: ReportData): Promise<ReportResult> {
  validateReportData(data);
  // Read the training log before writing anything, so a bad log leaves no half-written report behind.
  const records = data.training ? loadTrainingRecords(data.training.log) : [];
  const root = resolve(dir);
  mkdirSync(root, { recursive: true });
  const written: string[] = [];
  const date = data.provenance?.date ?? new Date().toISOString();
  const title = data.title ?? "rtgs2 report";
  const classes = data.dataset.classes;

  const sections: string[] = [headlineHtml(data)];
  sections.push(samplesHtml(root, data, written));

  const plots: string[] = [];
  if (data.perClass && data.perClass.length > 0) {
    plots.push(plotFigure("per-class-iou", await renderSvg(perClassIouSpec(classes, data.perClass)), "Colours follow the dataset's class table."));
  }
  if (data.confusion) {
    plots.push(plotFigure("confusion", await renderSvg(confusionSpec(classes, data.confusion)), "Rows: ground-truth class; columns: predicted class; \"(none)\" = no valid class predicted."));
  }
  if (plots.length) sections.push(`<section id="classes"><h2>Per-class results</h2>${plots.join("")}</section>`);

  if (data.consistency && data.consistency.scenes.length > 0) {
    const svg = await renderSvg(consistencySpec(data.consistency.scenes));
    sections.push(`<section id="consistency"><h2>View consistency</h2>${plotFigure("consistency", svg, "Pixels of overlapping view pairs reprojected with ground-truth depth; the black tick is the ground truth's own agreement (the ceiling). \"lifted\" = labels lifted onto the Gaussians and rendered back.")}</section>`);
  }

  if (data.training) {
    const t = data.training;
    const x = t.x ?? "step";
    const loss = seriesFields(records, /loss/i, t.lossFields);
    const metric = seriesFields(records, /miou/i, t.metricFields);
    const source = typeof t.log === "string" ? t.log : "training.log";
    if (!records.some((r) => loss.concat(metric).some((f) => typeof r[f] === "number" && typeof r[x] === "number"))) {
      throw new ConfigError(source, `no record has a numeric "${x}" with a loss or mIoU field to plot`);
    }
    const svg = await renderSvg(trainingSpec(records, x, loss, metric));
    sections.push(`<section id="training"><h2>Training curves</h2>${plotFigure("training", svg, t.caption)}</section>`);
  }

  if (data.fps && data.fps.entries.length > 0) {
    const svg = await renderSvg(fpsSpec(data.fps.entries));
    const enc = data.fps.entries.filter((e) => e.encodeSeconds !== undefined).map((e) => `${e.label}: ${fmt(e.encodeSeconds, 1)} s`);
    const cap = [
      data.fps.machine ? `Measured on ${data.fps.machine}.` : "",
      data.fps.method ? `Parts: ${data.fps.method}.` : "",
      enc.length ? `Encoder, once per scene (not in the bars): ${enc.join("; ")}.` : "",
      `Paper: ${PAPER_FPS} FPS on an RTX 3090 at 640×480 (paper config).`,
    ].filter(Boolean).join(" ");
    sections.push(`<section id="fps"><h2>Speed</h2>${plotFigure("fps", svg, cap)}</section>`);
  }

  sections.push(comparisonHtml(data));

  const notice = data.notice ? `<p class="notice">${esc(data.notice)}</p>` : "";
  const html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>${esc(title)}</h1>
<p class="sub">dataset: ${esc(data.dataset.name)} · ${classes.length} classes</p>
${notice}
${sections.filter(Boolean).join("\n")}
${provenanceHtml(data, date)}
</main>
</body>
</html>
`;
  const htmlPath = join(root, "report.html");
  writeFileAtomic(htmlPath, html);
  written.push(htmlPath);
  return { html: htmlPath, files: written };
}

/** The plot figures a report of `data` contains, in page order (what the browser test counts). */
export function expectedPlots(data: ReportData): PlotName[] {
  const out: PlotName[] = [];
  if (data.perClass && data.perClass.length > 0) out.push("per-class-iou");
  if (data.confusion) out.push("confusion");
  if (data.consistency && data.consistency.scenes.length > 0) out.push("consistency");
  if (data.training) out.push("training");
  if (data.fps && data.fps.entries.length > 0) out.push("fps");
  return out;
}
