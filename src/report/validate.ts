/**
 * Input checks of `ReportData`, so a bad field fails up front with a typed error naming it (`samples[1].gt`,
 * `confusion.counts`, the log file and line) instead of drawing a wrong figure.
 */
import { ConfigError, InvalidFileError, ShapeError } from "../core/errors.ts";
import { readTextChecked } from "../core/fs.ts";
import type { ReportData, TrainingRecord } from "./types.ts";

function isNum(v: unknown): v is number {
  return typeof v === "number";
}

function checkNumber(field: string, v: unknown, opts: { min?: number; max?: number; nanOk?: boolean } = {}): void {
  if (!isNum(v)) throw new ConfigError(field, `must be a number, got ${typeof v}`);
  if (Number.isNaN(v)) {
    if (opts.nanOk ?? true) return;
    throw new ConfigError(field, "must not be NaN");
  }
  if (!Number.isFinite(v)) throw new ConfigError(field, `must be finite, got ${v}`);
  if (opts.min !== undefined && v < opts.min) throw new ConfigError(field, `must be ≥ ${opts.min}, got ${v}`);
  if (opts.max !== undefined && v > opts.max) throw new ConfigError(field, `must be ≤ ${opts.max}, got ${v}`);
}

const PCT = { min: 0, max: 100 };
const FRACTION = { min: 0, max: 1 };

/** Throw a typed error for the first bad field of `data`. */
export function validateReportData(data: ReportData): void {
  const classes = data.dataset?.classes;
  if (typeof data.dataset?.name !== "string") throw new ConfigError("dataset.name", "must be a string");
  if (!Array.isArray(classes) || classes.length === 0) throw new ConfigError("dataset.classes", "must be a non-empty class table");
  classes.forEach((c, i) => {
    if (c.id !== i) throw new ConfigError(`dataset.classes[${i}].id`, `must equal its position ${i}, got ${c.id}`);
    if (typeof c.name !== "string") throw new ConfigError(`dataset.classes[${i}].name`, "must be a string");
    if (!Array.isArray(c.color) || c.color.length !== 3 || !(c.color as readonly unknown[]).every((v) => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 255)) {
      throw new ConfigError(`dataset.classes[${i}].color`, "must be three integers in 0..255");
    }
  });
  const k = classes.length;

  const h = data.headline;
  if (!h) throw new ConfigError("headline", "is required");
  for (const key of ["mIoU", "mAcc", "oAcc"] as const) checkNumber(`headline.${key}`, h[key], PCT);
  if (h.top) for (const key of ["mIoU", "mAcc", "oAcc"] as const) checkNumber(`headline.top.${key}`, h.top[key], PCT);
  if (h.fps !== undefined) checkNumber("headline.fps", h.fps, { min: 0 });
  if (h.viewConsistency !== undefined) checkNumber("headline.viewConsistency", h.viewConsistency, FRACTION);
  if (h.gtCeiling !== undefined) checkNumber("headline.gtCeiling", h.gtCeiling, FRACTION);

  data.samples?.forEach((s, i) => {
    const w = `samples[${i}]`;
    if (!Number.isInteger(s.width) || !Number.isInteger(s.height) || s.width <= 0 || s.height <= 0) {
      throw new ShapeError(w, "positive integer width × height", `${s.width}×${s.height}`);
    }
    const n = s.width * s.height;
    for (const key of ["gt", "pred"] as const) {
      const a = s[key];
      if (a === undefined) continue;
      if (!(a instanceof Uint16Array)) throw new ConfigError(`${w}.${key}`, "must be a Uint16Array label map");
      if (a.length !== n) throw new ShapeError(`${w}.${key}`, `${s.width}×${s.height} = ${n} labels`, `${a.length} labels`);
    }
    if (s.depth instanceof Float32Array && s.depth.length !== n) {
      throw new ShapeError(`${w}.depth`, `${s.width}×${s.height} = ${n} depths`, `${s.depth.length}`);
    }
  });

  data.perClass?.forEach((s, i) => {
    if (!Number.isInteger(s.id) || s.id < 0 || s.id >= k) {
      throw new ConfigError(`perClass[${i}].id`, `must be a class id in 0..${k - 1}, got ${s.id}`);
    }
    checkNumber(`perClass[${i}].iou`, s.iou, PCT);
  });

  if (data.confusion) {
    const { numClasses: nc, counts } = data.confusion;
    if (!Number.isInteger(nc) || nc < 1 || nc > k) {
      throw new ConfigError("confusion.numClasses", `must be an integer in 1..${k} (the class table's size), got ${nc}`);
    }
    if (counts.length !== nc * (nc + 1) && counts.length !== nc * nc) {
      throw new ShapeError("confusion.counts", `${nc}×${nc + 1} or ${nc}×${nc} counts`, `${counts.length}`);
    }
    for (let i = 0; i < counts.length; i++) {
      if (!(counts[i] >= 0) || !Number.isFinite(counts[i])) {
        throw new ConfigError(`confusion.counts[${i}]`, `must be a finite count ≥ 0, got ${counts[i]}`);
      }
    }
  }

  data.fps?.entries.forEach((e, i) => {
    checkNumber(`fps.entries[${i}].fps`, e.fps, { min: 0, nanOk: false });
    for (const part of ["render", "rgbBranch", "featureBranch", "fusion", "decoder"] as const) {
      checkNumber(`fps.entries[${i}].breakdown.${part}`, e.breakdown?.[part], { min: 0, nanOk: false });
    }
  });

  data.comparison?.ours.forEach((r, i) => {
    if (r.setting !== "generalization" && r.setting !== "fine-tuned") {
      throw new ConfigError(`comparison.ours[${i}].setting`, `must be "generalization" or "fine-tuned", got ${String(r.setting)}`);
    }
    for (const key of ["mIoU", "mAcc", "oAcc"] as const) checkNumber(`comparison.ours[${i}].${key}`, r[key], PCT);
    if (r.fps !== undefined) checkNumber(`comparison.ours[${i}].fps`, r.fps, { min: 0 });
  });

  data.consistency?.scenes.forEach((s, i) => {
    checkNumber(`consistency.scenes[${i}].perView`, s.perView, FRACTION);
    checkNumber(`consistency.scenes[${i}].gtCeiling`, s.gtCeiling, FRACTION);
    if (s.lifted !== undefined) checkNumber(`consistency.scenes[${i}].lifted`, s.lifted, FRACTION);
  });
}

/**
 * Parse a JSONL training log: one JSON object per non-empty line, each with a numeric `step`. A bad line is an
 * InvalidFileError naming the file and the line number.
 */
export function parseTrainingLog(text: string, source: string): TrainingRecord[] {
  const out: TrainingRecord[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch (err) {
      throw new InvalidFileError(source, `line ${i + 1}: not valid JSON (${(err as Error).message})`);
    }
    if (typeof rec !== "object" || rec === null || Array.isArray(rec)) {
      throw new InvalidFileError(source, `line ${i + 1}: expected a JSON object`);
    }
    const step = (rec as { step?: unknown }).step;
    if (typeof step !== "number" || !Number.isFinite(step)) {
      throw new InvalidFileError(source, `line ${i + 1}: missing numeric "step"`);
    }
    out.push(rec as TrainingRecord);
  });
  return out;
}

/** The records of `training.log`: read and parsed when it is a path, checked when given inline. */
export function loadTrainingRecords(log: string | readonly TrainingRecord[]): TrainingRecord[] {
  if (typeof log === "string") return parseTrainingLog(readTextChecked(log), log);
  log.forEach((r, i) => {
    if (typeof r.step !== "number" || !Number.isFinite(r.step)) {
      throw new ConfigError(`training.log[${i}].step`, "must be a finite number");
    }
  });
  return [...log];
}
