import { test } from "node:test";
import assert from "node:assert/strict";
import { ShapeError } from "../../src/core/errors.ts";
import { createImage, type Image } from "../../src/core/image.ts";
import { Rng } from "../../src/core/rng.ts";
import { gaussianWindow1d, mse, psnr, ssim } from "../../src/metrics/image.ts";

const near = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

function filled(w: number, h: number, c: number, value: (i: number) => number): Image {
  const im = createImage(w, h, c);
  for (let i = 0; i < im.data.length; i++) im.data[i] = value(i);
  return im;
}

function randomImage(rng: Rng, w: number, h: number, c: number): Image {
  return filled(w, h, c, () => rng.uniform());
}

/**
 * SSIM straight from the definition, independent of the separable code: for every valid window centre, the
 * 2-D weights g[r]·g[c] applied to the 11×11 neighbourhood, the weighted moments, then the SSIM formula.
 */
function ssimDirect(x: Image, y: Image): number {
  const n = 11,
    sigma = 1.5;
  const g: number[] = [];
  for (let i = 0; i < n; i++) g.push(Math.exp(-((i - 5) ** 2) / (2 * sigma * sigma)));
  const gs = g.reduce((s, v) => s + v, 0);
  const c1 = 0.01 ** 2,
    c2 = 0.03 ** 2;
  const { width: w, height: h, channels: nc } = x;
  let total = 0;
  for (let c = 0; c < nc; c++) {
    let sum = 0,
      count = 0;
    for (let r0 = 0; r0 + n <= h; r0++) {
      for (let q0 = 0; q0 + n <= w; q0++) {
        let mx = 0,
          my = 0,
          sxx = 0,
          syy = 0,
          sxy = 0;
        for (let r = 0; r < n; r++) {
          for (let q = 0; q < n; q++) {
            const wt = (g[r] / gs) * (g[q] / gs);
            const k = ((r0 + r) * w + q0 + q) * nc + c;
            const a = x.data[k],
              b = y.data[k];
            mx += wt * a;
            my += wt * b;
            sxx += wt * a * a;
            syy += wt * b * b;
            sxy += wt * a * b;
          }
        }
        const vx = sxx - mx * mx,
          vy = syy - my * my,
          cov = sxy - mx * my;
        sum += ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
        count++;
      }
    }
    total += sum / count;
  }
  return total / nc;
}

test("PSNR: known values", () => {
  const gt = filled(4, 4, 3, () => 0);
  // Every sample off by 0.1: MSE = 0.01, PSNR = 10·log10(1/0.01) = 20 dB.
  near(psnr(filled(4, 4, 3, () => 0.1), gt), 20, 1e-6);
  // Half the samples off by 0.2: MSE = 0.5·0.04 = 0.02, PSNR = 10·log10(50) = 16.9897 dB.
  near(psnr(filled(4, 4, 3, (i) => (i % 2 ? 0.2 : 0)), gt), 10 * Math.log10(50), 1e-5);
  near(mse(filled(4, 4, 3, (i) => (i % 2 ? 0.2 : 0)), gt), 0.02, 1e-8);
  // Identical images: infinite PSNR.
  assert.equal(psnr(gt, gt), Infinity);
  // Both images are clamped to [0, 1] first, so an overshoot to 1.5 against 1 is no error, and −0.5 against 0.1
  // is an error of 0.1: MSE 0.01, 20 dB.
  assert.equal(psnr(filled(2, 2, 1, () => 1.5), filled(2, 2, 1, () => 1)), Infinity);
  near(psnr(filled(2, 2, 1, () => -0.5), filled(2, 2, 1, () => 0.1)), 20, 1e-5);
});

test("SSIM: identity is 1, constant images give the luminance term by hand", () => {
  const rng = new Rng(7);
  const x = randomImage(rng, 20, 15, 3);
  near(ssim(x, x), 1, 1e-12);
  // Constant images a = 0.5, b = 0.25: variances and covariance vanish, so
  // SSIM = (2ab + C1)/(a² + b² + C1) · C2/C2 = (0.25 + 1e-4)/(0.3125 + 1e-4) = 0.2501/0.3126 = 0.800064.
  near(ssim(filled(11, 11, 1, () => 0.5), filled(11, 11, 1, () => 0.25)), 0.2501 / 0.3126, 1e-12);
  // The 1-D window is the normalized Gaussian with σ = 1.5: symmetric, sums to 1, and its centre tap is
  // 1 / (1 + 2·Σ_{d=1..5} exp(−d²/4.5)) = 1 / (1 + 2·(0.800737 + 0.411112 + 0.135335 + 0.028566 + 0.003866))
  // = 1 / 3.759232 = 0.266012.
  const g = gaussianWindow1d();
  near(g.reduce((s, v) => s + v, 0), 1, 1e-15);
  near(g[0], g[10], 1e-18);
  near(g[5], 0.266012, 1e-6);
});

test("SSIM: per-channel average of a single-channel case", () => {
  // Channel 0 identical (SSIM 1), channel 1 the constant case above (0.2501/0.3126): mean of the two.
  const x = filled(12, 11, 2, (i) => (i % 2 ? 0.5 : ((i >> 1) % 7) / 7));
  const y = filled(12, 11, 2, (i) => (i % 2 ? 0.25 : ((i >> 1) % 7) / 7));
  near(ssim(x, y), (1 + 0.2501 / 0.3126) / 2, 1e-12);
});

test("SSIM: separable filtering agrees with a direct 11×11 window implementation", () => {
  const rng = new Rng(11);
  for (const [w, h, c] of [
    [23, 17, 3],
    [11, 14, 1],
    [16, 11, 2],
  ]) {
    const x = randomImage(rng, w, h, c);
    // y = a blurred, shifted, noisy version of x so every SSIM term is exercised.
    const y = filled(w, h, c, (i) => 0.6 * x.data[i] + 0.3 * x.data[(i + c) % x.data.length] + 0.1 * rng.uniform());
    near(ssim(x, y), ssimDirect(x, y), 1e-12);
  }
});

test("SSIM on a full 640×480 RGB image: a slightly noisy copy scores high but below 1", () => {
  const rng = new Rng(3);
  const x = randomImage(rng, 640, 480, 3);
  const y = filled(640, 480, 3, (i) => Math.min(1, x.data[i] + 0.05 * rng.uniform()));
  // Speed is a benchmark matter, not a test's: this only checks the full-size path runs and is sane.
  const s = ssim(x, y);
  assert.ok(s > 0.5 && s < 1, `ssim ${s}`);
});

test("bad input: mismatched or too-small images raise ShapeError naming the function and both shapes", () => {
  const a = createImage(12, 12, 3),
    b = createImage(12, 13, 3);
  for (const [name, f] of [
    ["psnr", psnr],
    ["ssim", ssim],
    ["mse", mse],
  ] as const) {
    assert.throws(
      () => f(a, b),
      (e: unknown) => e instanceof ShapeError && e.message.startsWith(name) && e.message.includes("12×13×3") && e.message.includes("12×12×3"),
    );
  }
  assert.throws(() => ssim(createImage(10, 20, 1), createImage(10, 20, 1)), (e: unknown) => e instanceof ShapeError && /10×20/.test(e.message));
  const bad = { width: 4, height: 4, channels: 3, data: new Float32Array(47) };
  assert.throws(() => psnr(bad, createImage(4, 4, 3)), ShapeError);
});
