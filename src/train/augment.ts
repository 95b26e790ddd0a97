/**
 * Stage-3 augmentations (METHOD.md §7), host-side on one sample, every draw from a seeded Rng:
 * - colour jitter on RGB only, p 0.5: ColorJitter(brightness 0.5, contrast 0.5, saturation 0.5, hue 0.05), the
 *   four adjustments in a random order as torchvision does;
 * - horizontal flip, p 0.3 (every map);
 * - cut-out, p 0.3: a patch of 10 % of the image area, filled with the sample's per-channel mean in RGB and, at
 *   an independent place, in the features. Our inputs are not mean-normalized, so a zero fill would give the
 *   zero-bias stem convs an exactly zero input: their LayerNorm then sees a constant vector, whose Jacobian is
 *   1/sqrt(eps), and one cut-out batch had a global gradient norm of 32,098 that clip 1.0 turned into a lost step.
 *   The mean fill is what a zero fill in a mean-normalized input space (the reference pipelines') amounts to.
 * - zoom-in ×s, s ~ U[1, 1.5], p 0.3: the centre-free crop of size (H/s, W/s) at a random place, resized back
 *   (images bilinear, labels and depth nearest). The paper's code samples s once per run; here it is drawn per
 *   sample, so the whole range is seen.
 * Fine-tuning uses zoom-in only. Perspective is off (as in the paper's code).
 */
import type { Rng } from "../core/rng.ts";

/** One training sample at the training size, channel-last. */
export interface Sample {
  width: number;
  height: number;
  /** `[H·W·3]` rendered RGB in [0, 1]. */
  rgb: Float32Array;
  /** `[H·W·C]` splatted features. */
  features: Float32Array;
  channels: number;
  /** `[H·W]` class indices, 65535 = ignore. */
  labels: Uint16Array;
  /** `[H·W]` planar depth in metres, 0 = invalid. */
  depth: Float32Array;
}

/** Which augmentations run: all of them (generalization), zoom-in only (fine-tuning), or none. */
export type AugmentMode = "generalize" | "finetune" | "none";

/** Probabilities and ranges (METHOD.md §7). */
export const AUGMENT = {
  jitterP: 0.5,
  brightness: 0.5,
  contrast: 0.5,
  saturation: 0.5,
  hue: 0.05,
  flipP: 0.3,
  cutoutP: 0.3,
  cutoutArea: 0.1,
  zoomP: 0.3,
  zoomMax: 1.5,
} as const;

/** Apply the mode's augmentations to `s` (returns a new sample; `s` is not modified). */
export function augmentSample(s: Sample, mode: AugmentMode, rng: Rng): Sample {
  let out: Sample = { ...s, rgb: s.rgb.slice(), features: s.features.slice(), labels: s.labels.slice(), depth: s.depth.slice() };
  if (mode === "none") return out;
  if (mode === "generalize") {
    if (rng.bernoulli(AUGMENT.jitterP)) colorJitter(out.rgb, rng);
    if (rng.bernoulli(AUGMENT.flipP)) out = flipHorizontal(out);
    if (rng.bernoulli(AUGMENT.cutoutP)) {
      cutout(out.rgb, out.width, out.height, 3, rng);
      cutout(out.features, out.width, out.height, out.channels, rng);
    }
  }
  if (rng.bernoulli(AUGMENT.zoomP)) out = zoomIn(out, rng.uniform(1, AUGMENT.zoomMax), rng);
  return out;
}

/** Mirror every map left–right. */
export function flipHorizontal(s: Sample): Sample {
  const { width: W, height: H } = s;
  const flip = <T extends Float32Array | Uint16Array>(a: T, c: number): T => {
    const out = a.slice() as T;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const d = (y * W + x) * c;
        const src = (y * W + (W - 1 - x)) * c;
        for (let k = 0; k < c; k++) out[d + k] = a[src + k];
      }
    return out;
  };
  return { ...s, rgb: flip(s.rgb, 3), features: flip(s.features, s.channels), labels: flip(s.labels, 1), depth: flip(s.depth, 1) };
}

/**
 * Fill a patch of 10 % of the area (side ratios √0.1 of each dimension) at a random place with the image's
 * per-channel mean, in place.
 */
export function cutout(a: Float32Array, W: number, H: number, c: number, rng: Rng): { x: number; y: number; w: number; h: number } {
  const mean = new Float64Array(c);
  for (let i = 0; i < W * H; i++) for (let k = 0; k < c; k++) mean[k] += a[i * c + k];
  for (let k = 0; k < c; k++) mean[k] /= W * H;
  const side = Math.sqrt(AUGMENT.cutoutArea);
  const w = Math.max(1, Math.round(W * side));
  const h = Math.max(1, Math.round(H * side));
  const x0 = rng.int(W - w + 1);
  const y0 = rng.int(H - h + 1);
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) a.set(mean, (y * W + x) * c);
  return { x: x0, y: y0, w, h };
}

/**
 * Crop the region [x0, x0 + W/s) × [y0, y0 + H/s) and resize it to W×H: output pixel centre (i + 0.5) maps to
 * x0 + (i + 0.5)/s in input pixels. Images bilinear (edge-clamped), labels and depth nearest. The crop's
 * origin is drawn uniformly so the crop stays inside the image; pass `origin` to fix it.
 */
export function zoomIn(s: Sample, scale: number, rng: Rng, origin?: { x: number; y: number }): Sample {
  const { width: W, height: H } = s;
  const cw = W / scale;
  const ch = H / scale;
  const x0 = origin?.x ?? rng.uniform(0, W - cw);
  const y0 = origin?.y ?? rng.uniform(0, H - ch);
  const n = W * H;
  const rgb = new Float32Array(n * 3);
  const features = new Float32Array(n * s.channels);
  const labels = new Uint16Array(n);
  const depth = new Float32Array(n);
  for (let i = 0; i < H; i++) {
    const sy = y0 + (i + 0.5) / scale; // continuous input coordinate (pixel centres at k + 0.5)
    const fy = sy - 0.5;
    const ya = Math.max(0, Math.min(H - 1, Math.floor(fy)));
    const yb = Math.min(H - 1, ya + 1);
    const ty = Math.max(0, Math.min(1, fy - ya));
    const ny = Math.max(0, Math.min(H - 1, Math.floor(sy)));
    for (let j = 0; j < W; j++) {
      const sx = x0 + (j + 0.5) / scale;
      const fx = sx - 0.5;
      const xa = Math.max(0, Math.min(W - 1, Math.floor(fx)));
      const xb = Math.min(W - 1, xa + 1);
      const tx = Math.max(0, Math.min(1, fx - xa));
      const nx = Math.max(0, Math.min(W - 1, Math.floor(sx)));
      const d = i * W + j;
      const w00 = (1 - ty) * (1 - tx),
        w01 = (1 - ty) * tx,
        w10 = ty * (1 - tx),
        w11 = ty * tx;
      const bil = (src: Float32Array, dst: Float32Array, c: number): void => {
        const a = (ya * W + xa) * c,
          b = (ya * W + xb) * c,
          e = (yb * W + xa) * c,
          f = (yb * W + xb) * c;
        for (let k = 0; k < c; k++) dst[d * c + k] = w00 * src[a + k] + w01 * src[b + k] + w10 * src[e + k] + w11 * src[f + k];
      };
      bil(s.rgb, rgb, 3);
      bil(s.features, features, s.channels);
      labels[d] = s.labels[ny * W + nx];
      depth[d] = s.depth[ny * W + nx];
    }
  }
  return { ...s, rgb, features, labels, depth };
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** torchvision's ColorJitter on an `[H·W·3]` image in [0, 1], in place: factors and order drawn from `rng`. */
export function colorJitter(rgb: Float32Array, rng: Rng): void {
  const b = rng.uniform(1 - AUGMENT.brightness, 1 + AUGMENT.brightness);
  const c = rng.uniform(1 - AUGMENT.contrast, 1 + AUGMENT.contrast);
  const sat = rng.uniform(1 - AUGMENT.saturation, 1 + AUGMENT.saturation);
  const h = rng.uniform(-AUGMENT.hue, AUGMENT.hue);
  const order = rng.shuffle([0, 1, 2, 3]);
  const n = rgb.length / 3;
  const gray = (i: number): number => 0.299 * rgb[i * 3] + 0.587 * rgb[i * 3 + 1] + 0.114 * rgb[i * 3 + 2];
  for (const op of order) {
    if (op === 0) {
      for (let i = 0; i < rgb.length; i++) rgb[i] = clamp01(rgb[i] * b);
    } else if (op === 1) {
      let mean = 0;
      for (let i = 0; i < n; i++) mean += gray(i);
      mean /= n;
      for (let i = 0; i < rgb.length; i++) rgb[i] = clamp01(c * rgb[i] + (1 - c) * mean);
    } else if (op === 2) {
      for (let i = 0; i < n; i++) {
        const g = gray(i);
        for (let k = 0; k < 3; k++) rgb[i * 3 + k] = clamp01(sat * rgb[i * 3 + k] + (1 - sat) * g);
      }
    } else {
      for (let i = 0; i < n; i++) shiftHue(rgb, i * 3, h);
    }
  }
}

/** Rotate one pixel's hue by `shift` turns (HSV round trip). */
function shiftHue(a: Float32Array, o: number, shift: number): void {
  const r = a[o],
    g = a[o + 1],
    b = a[o + 2];
  const max = Math.max(r, g, b),
    min = Math.min(r, g, b);
  const d = max - min;
  if (d === 0) return;
  let hue: number;
  if (max === r) hue = ((g - b) / d) % 6;
  else if (max === g) hue = (b - r) / d + 2;
  else hue = (r - g) / d + 4;
  hue = (((hue / 6 + shift) % 1) + 1) % 1;
  if (!Number.isFinite(hue)) return;
  const s = d / max;
  const v = max;
  const h6 = hue * 6;
  const i = Math.min(5, Math.max(0, Math.floor(h6)));
  const f = h6 - i;
  const p = v * (1 - s),
    q = v * (1 - s * f),
    t = v * (1 - s * (1 - f));
  const rgb = [
    [v, t, p],
    [q, v, p],
    [p, v, t],
    [p, q, v],
    [t, p, v],
    [v, p, q],
  ][i];
  a[o] = rgb[0];
  a[o + 1] = rgb[1];
  a[o + 2] = rgb[2];
}
