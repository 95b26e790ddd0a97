/**
 * The picture panels of the sample views: label colouring, error maps, depth colouring, feature PCA, and
 * writing them as PNG files next to the report.
 */
import { join } from "node:path";
import { ShapeError } from "../core/errors.ts";
import { readFileChecked, writeFileAtomic } from "../core/fs.ts";
import {
  colorizeLabels,
  createImage,
  decodePng,
  IGNORE_LABEL,
  validateImage,
  writePng,
  type Image,
  type Rgb255,
} from "../core/image.ts";
import { featurePca } from "../render/feature-preview.ts";
import type { FeatureMapInput, ImageInput, ReportClass } from "./types.ts";

/** Error-map colours: wrong pixels red, correct ones dark, ignored ones mid grey. */
export const ERROR_COLORS = {
  wrong: [230, 25, 25] as Rgb255,
  correct: [40, 40, 40] as Rgb255,
  ignore: [150, 150, 150] as Rgb255,
};

/** Ignore pixels in label images are drawn black (as `colorizeLabels` does by default). */
export const LABEL_IGNORE_COLOR: Rgb255 = [0, 0, 0];

/** RGB image of an error map: pred ≠ gt red, pred = gt dark, gt = ignore grey. */
export function errorMap(gt: Uint16Array, pred: Uint16Array, width: number, height: number): Image {
  if (gt.length !== width * height || pred.length !== gt.length) {
    throw new ShapeError("errorMap", `gt and pred of ${width}×${height} = ${width * height} labels`, `${gt.length} and ${pred.length}`);
  }
  const img = createImage(width, height, 3);
  for (let i = 0; i < gt.length; i++) {
    const c = gt[i] === IGNORE_LABEL ? ERROR_COLORS.ignore : gt[i] === pred[i] ? ERROR_COLORS.correct : ERROR_COLORS.wrong;
    img.data[i * 3] = c[0] / 255;
    img.data[i * 3 + 1] = c[1] / 255;
    img.data[i * 3 + 2] = c[2] / 255;
  }
  return img;
}

/** Labels coloured by the class table (labels outside the table wrap, ignore is grey). */
export function labelImage(labels: Uint16Array, width: number, height: number, classes: readonly ReportClass[]): Image {
  return colorizeLabels(labels, width, height, classes.map((c) => c.color), LABEL_IGNORE_COLOR);
}

// Viridis control points (matplotlib's map, 9 samples), interpolated linearly.
const VIRIDIS: readonly Rgb255[] = [
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];

/** Viridis colour at t ∈ [0, 1] as 0–1 floats. */
export function viridis(t: number): [number, number, number] {
  const x = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i], b = VIRIDIS[i + 1];
  return [0, 1, 2].map((c) => (a[c] + (b[c] - a[c]) * f) / 255) as [number, number, number];
}

/**
 * Depth (metres) coloured with viridis between its 1st and 99th percentile, near = yellow, far = purple;
 * invalid pixels (0 or non-finite) black. Returns the range used, for the caption.
 */
export function depthImage(depth: Float32Array, width: number, height: number): { image: Image; near: number; far: number } {
  if (depth.length !== width * height) {
    throw new ShapeError("depthImage", `${width}×${height} = ${width * height} depths`, `${depth.length}`);
  }
  const valid: number[] = [];
  const stride = Math.max(1, Math.floor(depth.length / 50000));
  for (let i = 0; i < depth.length; i += stride) if (depth[i] > 0 && Number.isFinite(depth[i])) valid.push(depth[i]);
  valid.sort((a, b) => a - b);
  const near = valid.length ? valid[Math.floor(0.01 * (valid.length - 1))] : 0;
  const far = valid.length ? valid[Math.ceil(0.99 * (valid.length - 1))] : 1;
  const span = far > near ? far - near : 1;
  const image = createImage(width, height, 3);
  for (let i = 0; i < depth.length; i++) {
    const z = depth[i];
    if (!(z > 0) || !Number.isFinite(z)) continue;
    const c = viridis(1 - (z - near) / span);
    image.data.set(c, i * 3);
  }
  return { image, near, far };
}

/** True for `{ path }` inputs. */
export function isPathInput(x: unknown): x is { path: string } {
  return typeof x === "object" && x !== null && typeof (x as { path?: unknown }).path === "string";
}

/** True for raw feature maps. */
export function isFeatureMap(x: ImageInput | FeatureMapInput): x is FeatureMapInput {
  return (x as FeatureMapInput).features instanceof Float32Array;
}

/** The PCA preview of a feature map. */
export function featureImage(f: FeatureMapInput, width: number, height: number, where: string): Image {
  if (!Number.isInteger(f.channels) || f.channels < 1 || f.features.length !== width * height * f.channels) {
    throw new ShapeError(where, `${width}×${height}×channels features with a positive integer channel count`, `${f.features.length} values, ${f.channels} channels`);
  }
  if (f.alpha && f.alpha.length !== width * height) throw new ShapeError(`${where}.alpha`, `${width * height}`, `${f.alpha.length}`);
  return featurePca(f.features, f.channels, width, height, f.alpha);
}

/**
 * Write `input` as `dir/name`: pixels are encoded as PNG (1, 3 or 4 channels; 2 → grey + alpha), a PNG path is
 * checked (it must decode) and copied. Returns the relative file name and the image size.
 */
export function writePanel(dir: string, name: string, input: ImageInput, where: string): { file: string; width: number; height: number } {
  const out = join(dir, name);
  if (isPathInput(input)) {
    const bytes = readFileChecked(input.path);
    const png = decodePng(bytes, input.path);
    writeFileAtomic(out, bytes);
    return { file: name, width: png.width, height: png.height };
  }
  validateImage(input, where);
  writePng(out, input);
  return { file: name, width: input.width, height: input.height };
}
