/**
 * Stage 3 of the rasterizer: front-to-back alpha blending of one tile, with the reference rules:
 * α = min(0.99, o·e^power), skip α < 1/255, stop a pixel (without adding the Gaussian) once T·(1−α) < 1e-4.
 * Colour, depth and N feature channels share the same weights α·T (the paper's Eq. 3 for features: no
 * background and no division by Σα).
 *
 * Loop order is Gaussian-major: each Gaussian visits only the pixels of its tile that lie in the bounding box of
 * its α ≥ 1/255 ellipse and have not terminated (a bit mask per row), and takes an exp only inside the ellipse.
 * Every skipped pixel is one the reference would also skip, so the decisions are the reference's.
 */
import { TILE, REC, R_X, R_Y, R_CA, R_CB, R_CC, R_OPACITY, R_RED, R_GREEN, R_BLUE, R_DEPTH, R_EX, R_EY, R_QMAX } from "./project.ts";

const MIN_ALPHA = 1 / 255;
const MAX_ALPHA = 0.99;
const MIN_TRANSMITTANCE = 1e-4;

/** Output images; every pixel belongs to exactly one tile, so threads write disjoint parts. */
export interface BlendTarget {
  width: number;
  height: number;
  /** [H·W·3], starts at zero. */
  rgb: Float32Array;
  /** [H·W], receives the final transmittance T (converted to alpha by the caller). */
  transmittance: Float32Array;
  /** [H·W], Σ z·α·T. */
  depth: Float32Array;
  /** [H·W·C] or empty when C = 0. */
  features: Float32Array;
  channels: number;
  /** [N·C] per-Gaussian features, interleaved. */
  gaussianFeatures: Float32Array;
}

/** Per-thread scratch memory for blendTile, so the hot loop never allocates. */
export interface BlendScratch {
  /** Transmittance per tile pixel; negated once the pixel has terminated (it never reaches 0 otherwise). */
  T: Float64Array;
  /** Per tile row, a bit per pixel that has not terminated yet. */
  rowMask: Int32Array;
  /** r, g, b, depth per tile pixel. */
  acc: Float64Array;
  /** C feature sums per tile pixel. */
  feat: Float64Array;
}

export function blendScratch(channels: number): BlendScratch {
  const n = TILE * TILE;
  return { T: new Float64Array(n), rowMask: new Int32Array(TILE), acc: new Float64Array(n * 4), feat: new Float64Array(n * channels) };
}

/** Blend one tile into `out`; returns the number of splat-pixel blends it performed. */
export function blendTile(
  tile: number,
  gridW: number,
  tileStart: Uint32Array,
  list: Uint32Array,
  records: Float32Array,
  out: BlendTarget,
  scratch: BlendScratch,
): number {
  const { width, channels: C, gaussianFeatures: GF } = out;
  const tx0 = (tile % gridW) * TILE,
    ty0 = Math.floor(tile / gridW) * TILE;
  const tx1 = Math.min(tx0 + TILE, width),
    ty1 = Math.min(ty0 + TILE, out.height);
  const { T, rowMask, acc, feat } = scratch;
  T.fill(1);
  acc.fill(0);
  if (C > 0) feat.fill(0);
  rowMask.fill((1 << (tx1 - tx0)) - 1);
  let active = (tx1 - tx0) * (ty1 - ty0);
  let blends = 0;

  const end = tileStart[tile + 1];
  for (let k = tileStart[tile]; k < end && active > 0; k++) {
    const g = list[k];
    const rec = g * REC;
    const mx = records[rec + R_X], my = records[rec + R_Y];
    const ex = records[rec + R_EX], ey = records[rec + R_EY];
    // Pixel centres inside the α ≥ 1/255 ellipse's bounding box, clipped to the tile.
    const rowLo = Math.max(ty0, Math.ceil(my - ey - 0.5));
    const rowHi = Math.min(ty1 - 1, Math.floor(my + ey - 0.5));
    const colLo = Math.max(tx0, Math.ceil(mx - ex - 0.5));
    const colHi = Math.min(tx1 - 1, Math.floor(mx + ex - 0.5));
    if (rowLo > rowHi || colLo > colHi) continue;
    const colMask = ((1 << (colHi - colLo + 1)) - 1) << (colLo - tx0);
    const A = records[rec + R_CA], B = records[rec + R_CB], Cc = records[rec + R_CC];
    // α < 1/255 ⇔ power < −qmax/2; testing the exponent first skips the exp outside the ellipse. The small
    // slack leaves the final decision to the exact α test below, as the reference makes it.
    const minPower = -0.5 * records[rec + R_QMAX] - 1e-6;
    const op = records[rec + R_OPACITY];
    const cr = records[rec + R_RED], cg = records[rec + R_GREEN], cb = records[rec + R_BLUE];
    const z = records[rec + R_DEPTH];
    const gf = g * C;
    const dx0 = mx - (colLo + 0.5);
    for (let py = rowLo; py <= rowHi; py++) {
      const ly = py - ty0;
      if ((rowMask[ly] & colMask) === 0) continue;
      const dy = my - (py + 0.5);
      const qy = -0.5 * Cc * dy * dy;
      const by = B * dy;
      const rowBase = ly * TILE - tx0;
      for (let px = colLo, dx = dx0; px <= colHi; px++, dx -= 1) {
        const power = qy - 0.5 * A * dx * dx - by * dx;
        if (power < minPower) continue;
        const local = rowBase + px;
        const t = T[local];
        if (t < 0) continue;
        let alpha = op * Math.exp(power);
        if (alpha < MIN_ALPHA) continue;
        if (alpha > MAX_ALPHA) alpha = MAX_ALPHA;
        const tNext = t * (1 - alpha);
        if (tNext < MIN_TRANSMITTANCE) {
          T[local] = -t;
          rowMask[ly] &= ~(1 << (px - tx0));
          active--;
          continue;
        }
        blends++;
        const w = alpha * t;
        const a4 = local * 4;
        acc[a4] += w * cr;
        acc[a4 + 1] += w * cg;
        acc[a4 + 2] += w * cb;
        acc[a4 + 3] += w * z;
        if (C > 0) {
          const fo = local * C;
          for (let c = 0; c < C; c++) feat[fo + c] += w * GF[gf + c];
        }
        T[local] = tNext;
      }
    }
  }
  writeTile(out, scratch, tx0, ty0, tx1, ty1);
  return blends;
}

function writeTile(out: BlendTarget, scratch: BlendScratch, tx0: number, ty0: number, tx1: number, ty1: number): void {
  const { width, rgb, depth, transmittance, features, channels: C } = out;
  const { T, acc, feat } = scratch;
  for (let py = ty0; py < ty1; py++)
    for (let px = tx0; px < tx1; px++) {
      const local = (py - ty0) * TILE + (px - tx0);
      const pix = py * width + px;
      rgb[pix * 3] = acc[local * 4];
      rgb[pix * 3 + 1] = acc[local * 4 + 1];
      rgb[pix * 3 + 2] = acc[local * 4 + 2];
      depth[pix] = acc[local * 4 + 3];
      transmittance[pix] = Math.abs(T[local]);
      for (let c = 0; c < C; c++) features[pix * C + c] = feat[local * C + c];
    }
}
