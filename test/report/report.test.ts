import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { ConfigError, InvalidFileError, MissingFileError, ShapeError } from "../../src/core/errors.ts";
import { readPng } from "../../src/core/image.ts";
import {
  confusionSpec,
  depthImage,
  ERROR_COLORS,
  expectedPlots,
  fpsSpec,
  LABEL_IGNORE_COLOR,
  parseTrainingLog,
  writeReport,
  type ReportData,
} from "../../src/report/index.ts";
import { seriesFields, seriesPoints } from "../../src/report/plots.ts";
import { COUNTS, fullReport, H, NASTY, W } from "./fixture.ts";

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "rtgs2-report-"));
}

/** Every src / href attribute value of the page. */
function references(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)\s*=\s*"([^"]*)"/g)].map((m) => m[1]);
}

function pixel(path: string, x: number, y: number): number[] {
  const img = readPng(path);
  const i = (y * img.width + x) * img.channels;
  return Array.from(img.data.subarray(i, i + 3), (v) => Math.round(v * 255));
}

test("full report: every file exists, references are relative and resolve, no external URL", async () => {
  const dir = tmp();
  try {
    const data = fullReport();
    const r = await writeReport(dir, data);
    assert.equal(r.html, join(dir, "report.html"));
    for (const f of r.files) assert.ok(existsSync(f), f);
    const html = readFileSync(r.html, "utf8");
    const refs = references(html).filter((v) => !v.startsWith("#"));
    // 6 panels for view 0 (rgb, gt, pred, error, features, depth) + 3 for view 1 (gt, pred, error).
    assert.equal(refs.length, 9);
    for (const ref of refs) {
      assert.ok(!/^[a-z]+:|^\/\//i.test(ref) && !ref.startsWith("/"), `not relative: ${ref}`);
      assert.ok(existsSync(join(dir, ref)), `missing: ${ref}`);
    }
    // The written PNGs are exactly the referenced ones, plus the html.
    const pngs = readdirSync(join(dir, "img")).map((f) => `img/${f}`).sort();
    assert.deepEqual(pngs, [...refs].sort());
    assert.deepEqual(r.files.map((f) => relative(dir, f)).sort(), [...refs, "report.html"].sort());
    // Apart from XML namespace declarations, no URL scheme appears anywhere.
    assert.ok(!/:\/\//.test(html.replace(/xmlns(:\w+)?="[^"]*"/g, "")), "external URL in the page");
    assert.ok(!/<script/i.test(html));
    // Five vega SVGs inlined in one page: their gradient / clip-path ids must not collide, and every url(#id)
    // must point at an id of the page.
    const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    assert.equal(new Set(ids).size, ids.length, "duplicate element ids");
    for (const m of html.matchAll(/url\(#([^)]+)\)/g)) assert.ok(ids.includes(m[1]), `dangling url(#${m[1]})`);
    assert.ok(ids.some((id) => /^p\d+_gradient/.test(id)), "expected the prefixed legend gradient (the check above would be vacuous)");
    // One figure per plot section, each with an inline SVG.
    const plots = [...html.matchAll(/<figure class="plot" data-plot="([^"]+)"><svg/g)].map((m) => m[1]);
    assert.deepEqual(plots, expectedPlots(data));
    assert.deepEqual(plots, ["per-class-iou", "confusion", "consistency", "training", "fps"]);
    // The comparison table carries its label and the paper's Replica generalization row.
    assert.ok(html.includes("different dataset (paper: Replica/ScanNet/ScanNet++; ours: tiny &lt;rooms&gt;)"));
    assert.ok(html.includes("<td>59.24</td><td>66.04</td><td>93.99</td>"));
    assert.ok(html.includes("Parts: network parts apportioned by multiply-adds."));
    assert.ok(html.includes("Encoder, once per scene (not in the bars): lite 320×240: 3.2 s."));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("text is escaped: a class name with markup appears only escaped", async () => {
  const dir = tmp();
  try {
    const { html } = await writeReport(dir, fullReport());
    const text = readFileSync(html, "utf8");
    assert.ok(!text.includes("<img src=x"), "raw markup from a class name reached the page");
    assert.ok(!text.includes("<rooms>"));
    assert.ok(text.includes("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;"));
    assert.ok(NASTY.includes("<img"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("label, error-map and depth panels hold the hand-computed colours", async () => {
  const dir = tmp();
  try {
    await writeReport(dir, fullReport());
    const err = join(dir, "img/view0-error.png");
    assert.deepEqual(pixel(err, 0, 0), [...ERROR_COLORS.ignore]); // gt ignore (pred 2): grey, not an error
    assert.deepEqual(pixel(err, 2, 0), [...ERROR_COLORS.correct]);
    assert.deepEqual(pixel(err, 4, 1), [...ERROR_COLORS.wrong]); // gt 1, pred 0
    assert.deepEqual(pixel(err, 7, 2), [...ERROR_COLORS.wrong]); // gt 2, pred 1
    let wrong = 0;
    const e = readPng(err);
    for (let p = 0; p < W * H; p++) if (Math.round(e.data[p * 3] * 255) === ERROR_COLORS.wrong[0]) wrong++;
    assert.equal(wrong, 2);
    const gt = join(dir, "img/view0-gt.png");
    assert.deepEqual(pixel(gt, 0, 0), [...LABEL_IGNORE_COLOR]);
    assert.deepEqual(pixel(gt, 2, 0), [174, 199, 232]); // wall
    assert.deepEqual(pixel(gt, 4, 3), [152, 223, 138]); // floor
    assert.deepEqual(pixel(gt, 7, 5), [214, 39, 40]); // class 2
    assert.deepEqual(pixel(join(dir, "img/view0-pred.png"), 4, 1), [174, 199, 232]); // predicted wall
    const depth = join(dir, "img/view0-depth.png");
    assert.deepEqual(pixel(depth, 5, 0), [0, 0, 0]); // invalid depth
    assert.deepEqual(pixel(depth, 0, 1), [253, 231, 37]); // nearest (1 m) = viridis top
    assert.deepEqual(pixel(depth, 7, 1), [68, 1, 84]); // farthest (2.75 m) = viridis bottom
    assert.equal(readPng(join(dir, "img/view0-features.png")).width, W);
    const html = readFileSync(join(dir, "report.html"), "utf8");
    assert.ok(html.includes("errors: 4.3 % of pixels")); // 2 wrong of 46 non-ignored
    assert.ok(html.includes("depth 1.0–2.8 m"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("depthImage stretches between the 1st and 99th percentile", () => {
  const d = new Float32Array([2, 4, 3, 0]);
  const { near, far, image } = depthImage(d, 2, 2);
  assert.equal(near, 2);
  assert.equal(far, 4);
  assert.deepEqual(Array.from(image.data.subarray(9, 12)), [0, 0, 0]);
});

test("headline-only report: every optional section is left out, not shown empty", async () => {
  const dir = tmp();
  try {
    const data: ReportData = {
      dataset: { name: "d", classes: [{ id: 0, name: "a", color: [1, 2, 3] }] },
      headline: { mIoU: Number.NaN, mAcc: 50, oAcc: 75 },
    };
    const r = await writeReport(dir, data);
    assert.deepEqual(r.files, [join(dir, "report.html")]);
    assert.ok(!existsSync(join(dir, "img")));
    const html = readFileSync(r.html, "utf8");
    assert.ok(!html.includes("<svg"));
    for (const id of ["samples", "classes", "consistency", "training", "fps", "comparison"]) {
      assert.ok(!html.includes(`id="${id}"`), id);
    }
    assert.ok(html.includes('id="headline"') && html.includes('id="provenance"'));
    assert.ok(html.includes("—")); // NaN mIoU
    assert.deepEqual(expectedPlots(data), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("confusion heat map rows are normalized (hand values), with a (none) column only when used", () => {
  const classes = fullReport().dataset.classes;
  type Cell = { gt: string; pred: string; fraction: number };
  const cells = (spec: unknown) => (spec as { data: { values: Cell[] } }).data.values;
  const v = cells(confusionSpec(classes, { numClasses: 3, counts: COUNTS }));
  assert.equal(v.length, 3 * 4);
  const get = (g: string, p: string) => v.find((c) => c.gt === g && c.pred === p)?.fraction;
  assert.equal(get("wall", "wall"), 0.8);
  assert.equal(get("wall", "floor"), 0.1);
  assert.equal(get("floor", "wall"), 0.2);
  assert.equal(get("floor", "floor"), 0.6);
  assert.equal(get("floor", "(none)"), 0.2);
  assert.equal(get(NASTY, NASTY), 1);
  for (const g of ["wall", "floor", NASTY]) {
    const sum = v.filter((c) => c.gt === g).reduce((s, c) => s + c.fraction, 0);
    assert.ok(Math.abs(sum - 1) < 1e-12);
  }
  // A K × K matrix (no "none" column), where class 2 is never in the ground truth but is predicted.
  const kk = cells(confusionSpec(classes, { numClasses: 3, counts: [3, 1, 0, 0, 2, 2, 0, 0, 0] }));
  assert.deepEqual([...new Set(kk.map((c) => c.gt))], ["wall", "floor"]);
  assert.deepEqual([...new Set(kk.map((c) => c.pred))], ["wall", "floor", NASTY]);
  assert.equal(kk.find((c) => c.gt === "floor" && c.pred === NASTY)?.fraction, 0.5);
});

test("FPS bars stack the five parts in pipeline order", () => {
  const spec = fpsSpec(fullReport().fps?.entries ?? []) as unknown as {
    layer: { data: { values: { part?: string; ms?: number; total?: number; text?: string }[] } }[];
  };
  assert.deepEqual(spec.layer[0].data.values.map((v) => [v.part, v.ms]), [
    ["render", 20],
    ["rgbBranch", 25],
    ["featureBranch", 15],
    ["fusion", 10],
    ["decoder", 10],
  ]);
  assert.deepEqual(spec.layer[1].data.values, [{ entry: "lite 320×240", total: 80, text: "12.5 FPS" }]);
});

test("training log: JSONL parsed, series found by name, bad lines named", () => {
  const dir = tmp();
  try {
    const path = join(dir, "train.jsonl");
    writeFileSync(path, '{"step":0,"loss":2}\n\n{"step":5,"loss":1.5,"val.mIoU":20,"lr":0.001}\n');
    const recs = parseTrainingLog(readFileSync(path, "utf8"), path);
    assert.equal(recs.length, 2);
    assert.deepEqual(seriesFields(recs, /loss/i), ["loss"]);
    assert.deepEqual(seriesFields(recs, /miou/i), ["val.mIoU"]);
    assert.deepEqual(seriesPoints(recs, "step", ["val.mIoU"]), [{ x: 5, series: "val.mIoU", value: 20 }]);
    assert.throws(() => parseTrainingLog('{"step":0}\n{"step":1,\n', path), (e: unknown) => e instanceof InvalidFileError && e.message.startsWith(`${path}: line 2:`));
    assert.throws(() => parseTrainingLog('{"loss":1}\n', path), (e: unknown) => e instanceof InvalidFileError && /line 1: missing numeric "step"/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bad input gives typed errors naming the field or file, and writes nothing", async () => {
  const dir = tmp();
  try {
    const cases: [string, (d: ReportData) => ReportData, (e: unknown) => boolean][] = [
      ["short gt", (d) => ({ ...d, samples: [{ ...(d.samples?.[0] ?? { name: "", width: W, height: H }), gt: new Uint16Array(5) }] }), (e) => e instanceof ShapeError && e.message.includes("samples[0].gt")],
      ["class id", (d) => ({ ...d, dataset: { name: "x", classes: [{ id: 1, name: "a", color: [0, 0, 0] }] } }), (e) => e instanceof ConfigError && e.message.includes("dataset.classes[0].id")],
      ["headline", (d) => ({ ...d, headline: { ...d.headline, mIoU: 150 } }), (e) => e instanceof ConfigError && e.message.includes("headline.mIoU")],
      ["confusion", (d) => ({ ...d, confusion: { numClasses: 3, counts: [1, 2, 3] } }), (e) => e instanceof ShapeError && e.message.includes("confusion.counts")],
      ["perClass", (d) => ({ ...d, perClass: [{ id: 7, iou: 3 }] }), (e) => e instanceof ConfigError && e.message.includes("perClass[0].id")],
      ["consistency", (d) => ({ ...d, consistency: { scenes: [{ scene: "s", perView: 93, gtCeiling: 0.9 }] } }), (e) => e instanceof ConfigError && e.message.includes("consistency.scenes[0].perView")],
      ["fps", (d) => ({ ...d, fps: { entries: [{ label: "x", fps: 3, breakdown: { render: 1, rgbBranch: Number.NaN, featureBranch: 1, fusion: 1, decoder: 1 } }] } }), (e) => e instanceof ConfigError && e.message.includes("breakdown.rgbBranch")],
      ["missing log", (d) => ({ ...d, training: { log: join(dir, "nope.jsonl") } }), (e) => e instanceof MissingFileError && e.message.includes("nope.jsonl")],
      ["missing png", (d) => ({ ...d, samples: [{ name: "v", width: W, height: H, rgb: { path: join(dir, "nope.png") } }] }), (e) => e instanceof MissingFileError && e.message.includes("nope.png")],
    ];
    for (const [name, edit, check] of cases) {
      const out = join(dir, name.replace(/ /g, "-"));
      await assert.rejects(writeReport(out, edit(fullReport())), check, name);
      assert.ok(!existsSync(join(out, "report.html")), name);
      if (name !== "missing png") assert.ok(!existsSync(join(out, "img")), `${name}: PNGs written before the error`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a PNG path input is checked and copied next to the report", async () => {
  const dir = tmp();
  try {
    const first = await writeReport(join(dir, "a"), fullReport());
    const src = first.files.find((f) => f.endsWith("view0-rgb.png")) as string;
    const data: ReportData = { ...fullReport(), samples: [{ name: "v", width: W, height: H, rgb: { path: src } }] };
    const second = await writeReport(join(dir, "b"), data);
    const copy = join(dir, "b/img/view0-rgb.png");
    assert.deepEqual(readFileSync(copy), readFileSync(src));
    assert.ok(second.files.includes(copy));
    writeFileSync(join(dir, "bad.png"), "not a png");
    await assert.rejects(
      writeReport(join(dir, "c"), { ...data, samples: [{ name: "v", width: W, height: H, rgb: { path: join(dir, "bad.png") } }] }),
      (e: unknown) => e instanceof InvalidFileError && e.message.includes("bad.png"),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("training section from a JSONL file (epoch axis); a log with nothing to plot is refused naming the file", async () => {
  const dir = tmp();
  try {
    const log = join(dir, "train.jsonl");
    writeFileSync(log, '{"step":1,"epoch":0.5,"loss":2}\n{"step":2,"epoch":1,"loss":1,"val_mIoU":40}\n');
    const base: ReportData = { dataset: fullReport().dataset, headline: { mIoU: 1, mAcc: 2, oAcc: 3 } };
    const r = await writeReport(join(dir, "a"), { ...base, training: { log, x: "epoch", caption: "cap" } });
    const html = readFileSync(r.html, "utf8");
    assert.deepEqual([...html.matchAll(/data-plot="([^"]+)"/g)].map((m) => m[1]), ["training"]);
    assert.ok(html.includes("Validation mIoU (%)") && html.includes("Training loss") && html.includes(">epoch<"));
    const empty = join(dir, "empty.jsonl");
    writeFileSync(empty, '{"step":1,"lr":0.1}\n');
    await assert.rejects(
      writeReport(join(dir, "b"), { ...base, training: { log: empty } }),
      (e: unknown) => e instanceof ConfigError && e.message.startsWith(`${empty}:`),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
