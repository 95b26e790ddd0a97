/**
 * Image quality metrics as DATA.md §4 defines them: PSNR on [0, 1], and SSIM with an 11-tap Gaussian window
 * (σ = 1.5, k1 = 0.01, k2 = 0.03) over the valid region (no padding), per channel and then averaged. This is
 * the SSIM of scikit-image's `gaussian_weights=True, use_sample_covariance=False` and of 3DGS's evaluation,
 * minus their padding.
 */
import { ConfigError, ShapeError } from "../core/errors.ts";
import type { Image } from "../core/image.ts";

const shapeOf = (im: Image) => `${im.width}×${im.height}×${im.channels}`;

function checkPair(where: string, pred: Image, gt: Image): void {
  if (pred.width !== gt.width || pred.height !== gt.height || pred.channels !== gt.channels) {
    throw new ShapeError(where, `pred of gt's shape ${shapeOf(gt)}`, `pred ${shapeOf(pred)}`);
  }
  for (const [name, im] of [
    ["pred", pred],
    ["gt", gt],
  ] as const) {
    if (im.data.length !== im.width * im.height * im.channels) {
      throw new ShapeError(where, `${name}.data of ${shapeOf(im)} = ${im.width * im.height * im.channels}`, `${im.data.length}`);
    }
  }
}

// Renders can overshoot [0, 1] through SH colour; 3DGS clamps its render before scoring, and so do we, so a
// value of 1.2 against 1 is no error rather than a penalty the saved 8-bit image would never show.
const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** Mean squared error over every pixel and channel, both images clamped to [0, 1]. */
export function mse(pred: Image, gt: Image): number {
  checkPair("mse", pred, gt);
  const a = pred.data,
    b = gt.data;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = clamp01(a[i]) - clamp01(b[i]);
    s += d * d;
  }
  return s / a.length;
}

/**
 * Peak signal-to-noise ratio in dB for images in [0, 1]: 10·log10(1 / MSE), MSE over all pixels and channels.
 * Identical images give +Infinity.
 * @throws ShapeError when width, height or channels differ.
 */
export function psnr(pred: Image, gt: Image): number {
  checkPair("psnr", pred, gt);
  return -10 * Math.log10(mse(pred, gt));
}

/** SSIM's fixed parameters (DATA.md §4). */
export const SSIM_WINDOW = 11;
export const SSIM_SIGMA = 1.5;
export const SSIM_K1 = 0.01;
export const SSIM_K2 = 0.03;

/** The normalized 1-D Gaussian whose outer product is SSIM's 2-D window. */
export function gaussianWindow1d(size = SSIM_WINDOW, sigma = SSIM_SIGMA): Float64Array {
  const w = new Float64Array(size);
  const half = (size - 1) / 2;
  let s = 0;
  for (let i = 0; i < size; i++) {
    w[i] = Math.exp(-((i - half) ** 2) / (2 * sigma * sigma));
    s += w[i];
  }
  for (let i = 0; i < size; i++) w[i] /= s;
  return w;
}

/**
 * Structural similarity on [0, 1] images: Gaussian window 11, σ 1.5, C1 = (0.01)², C2 = (0.03)², averaged over
 * the valid positions (the (W−10)×(H−10) window centres that need no padding), per channel, then over
 * channels. Images are clamped to [0, 1] as for {@link psnr}.
 *
 * The five local moments are filtered separably (rows, then columns), so the cost is 2·11 multiply-adds per
 * moment and pixel instead of 121.
 * @throws ShapeError when the shapes differ or the image is smaller than the window.
 */
export function ssim(pred: Image, gt: Image): number {
  checkPair("ssim", pred, gt);
  const { width: w, height: h, channels: nc } = gt;
  const n = SSIM_WINDOW;
  if (w < n || h < n) throw new ShapeError("ssim", `at least ${n}×${n} pixels`, `${w}×${h}`);
  if (nc < 1) throw new ConfigError("ssim.channels", `must be at least 1, got ${nc}`);
  const g = gaussianWindow1d();
  const ow = w - n + 1,
    oh = h - n + 1;
  const c1 = SSIM_K1 ** 2,
    c2 = SSIM_K2 ** 2;
  const x = new Float64Array(w),
    y = new Float64Array(w);
  // Row-filtered moments for every input row: [h × ow] each.
  const rx = new Float64Array(h * ow),
    ry = new Float64Array(h * ow),
    rxx = new Float64Array(h * ow),
    ryy = new Float64Array(h * ow),
    rxy = new Float64Array(h * ow);
  const mx = new Float64Array(ow),
    my = new Float64Array(ow),
    exx = new Float64Array(ow),
    eyy = new Float64Array(ow),
    exy = new Float64Array(ow);
  const a = pred.data,
    b = gt.data;
  let total = 0;
  for (let c = 0; c < nc; c++) {
    for (let row = 0; row < h; row++) {
      const base = row * w * nc + c;
      for (let i = 0; i < w; i++) {
        x[i] = clamp01(a[base + i * nc]);
        y[i] = clamp01(b[base + i * nc]);
      }
      const o = row * ow;
      for (let i = 0; i < ow; i++) {
        let sx = 0,
          sy = 0,
          sxx = 0,
          syy = 0,
          sxy = 0;
        for (let t = 0; t < n; t++) {
          const wt = g[t],
            xv = x[i + t],
            yv = y[i + t];
          const wx = wt * xv,
            wy = wt * yv;
          sx += wx;
          sy += wy;
          sxx += wx * xv;
          syy += wy * yv;
          sxy += wx * yv;
        }
        rx[o + i] = sx;
        ry[o + i] = sy;
        rxx[o + i] = sxx;
        ryy[o + i] = syy;
        rxy[o + i] = sxy;
      }
    }
    let sum = 0;
    for (let row = 0; row < oh; row++) {
      // Column pass with the tap loop outside, so each tap streams one contiguous row of every moment.
      mx.fill(0);
      my.fill(0);
      exx.fill(0);
      eyy.fill(0);
      exy.fill(0);
      for (let t = 0; t < n; t++) {
        const wt = g[t],
          o = (row + t) * ow;
        for (let i = 0; i < ow; i++) {
          mx[i] += wt * rx[o + i];
          my[i] += wt * ry[o + i];
          exx[i] += wt * rxx[o + i];
          eyy[i] += wt * ryy[o + i];
          exy[i] += wt * rxy[o + i];
        }
      }
      for (let i = 0; i < ow; i++) {
        const ux = mx[i],
          uy = my[i];
        const vx = exx[i] - ux * ux,
          vy = eyy[i] - uy * uy,
          cxy = exy[i] - ux * uy;
        sum += ((2 * ux * uy + c1) * (2 * cxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
      }
    }
    total += sum / (ow * oh);
  }
  return total / nc;
}
