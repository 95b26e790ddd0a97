/**
 * Stage 3 of the rasterizer: front-to-back alpha blending of one tile, with the reference rules:
 * α = min(0.99, o·e^power), skip α < 1/255, stop a pixel (without adding the Gaussian) once T·(1−α) < 1e-4.
 * Colour, depth and N feature channels share the same weights α·T (the paper's Eq. 3 for features: no
 * background and no division by Σα).
 *
 * Loop order is Gaussian-major: each Gaussian visits only the pixels inside its exact α ≥ 1/255 ellipse (solved
 * per row, plus a one-pixel margin that the per-pixel test still rejects), so the decisions are the reference's
 * while far fewer pixels are evaluated. Along a row e^power is updated by two multiplications instead of an exp.
 */
import { TILE, REC, R_X, R_Y, R_CA, R_CB, R_CC, R_OPACITY, R_RED, R_GREEN, R_BLUE, R_DEPTH, R_QMAX } from "./project.ts";

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

/** Reusable per-thread scratch memory for blendTile (no allocation in the hot loop). */
export function blendScratch(): { T: Float64Array; done: Uint8Array } {
  return { T: new Float64Array(TILE * TILE), done: new Uint8Array(TILE * TILE) };
}

export function blendTile(
  tile: number,
  gridW: number,
  tileStart: Uint32Array,
  list: Uint32Array,
  records: Float32Array,
  out: BlendTarget,
  scratch: { T: Float64Array; done: Uint8Array },
): void {
  const { width, rgb, depth, features, channels: C, gaussianFeatures: GF } = out;
  const tx0 = (tile % gridW) * TILE,
    ty0 = Math.floor(tile / gridW) * TILE;
  const tx1 = Math.min(tx0 + TILE, width),
    ty1 = Math.min(ty0 + TILE, out.height);
  const { T, done } = scratch;
  T.fill(1);
  done.fill(0);
  let active = (tx1 - tx0) * (ty1 - ty0);

  const end = tileStart[tile + 1];
  for (let k = tileStart[tile]; k < end && active > 0; k++) {
    const g = list[k];
    const rec = g * REC;
    const qmax = records[rec + R_QMAX];
    if (qmax < 0) continue; // opacity < 1/255: α can never reach 1/255
    const mx = records[rec + R_X], my = records[rec + R_Y];
    const A = records[rec + R_CA], B = records[rec + R_CB], Cc = records[rec + R_CC];
    const op = records[rec + R_OPACITY];
    const cr = records[rec + R_RED], cg = records[rec + R_GREEN], cb = records[rec + R_BLUE];
    const z = records[rec + R_DEPTH];
    const eA = Math.exp(-A);
    const disc0 = B * B - A * Cc; // < 0 for a positive-definite conic
    const gf = g * C;

    // Rows the ellipse q ≤ qmax can reach: |dy| ≤ √(qmax·A/(AC − B²)).
    const dyMax = Math.sqrt(-(qmax * A) / disc0);
    const rowLo = Math.max(ty0, Math.ceil(my - dyMax - 0.5) - 1);
    const rowHi = Math.min(ty1 - 1, Math.floor(my + dyMax - 0.5) + 1);
    for (let py = rowLo; py <= rowHi; py++) {
      const dy = my - (py + 0.5);
      const disc = dy * dy * disc0 + A * qmax;
      if (disc < 0) continue;
      const sq = Math.sqrt(disc);
      // Solutions of A·dx² + 2B·dy·dx + (C·dy² − qmax) = 0, and pixel centres px = mx − dx between them.
      const colLo = Math.max(tx0, Math.ceil(mx - (-B * dy + sq) / A - 0.5) - 1);
      const colHi = Math.min(tx1 - 1, Math.floor(mx - (-B * dy - sq) / A - 0.5) + 1);
      if (colLo > colHi) continue;
      const dx = mx - (colLo + 0.5);
      let e = Math.exp(-0.5 * (A * dx * dx + Cc * dy * dy) - B * dx * dy);
      // Ratio e(px+1)/e(px) = exp(A·dx − A/2 + B·dy); it shrinks by e^−A per step.
      let ratio = Math.exp(A * dx - 0.5 * A + B * dy);
      const rowBase = (py - ty0) * TILE - tx0;
      for (let px = colLo; px <= colHi; px++, e *= ratio, ratio *= eA) {
        const local = rowBase + px;
        if (done[local]) continue;
        let alpha = op * e;
        if (alpha < MIN_ALPHA) continue;
        if (alpha > MAX_ALPHA) alpha = MAX_ALPHA;
        const t = T[local];
        const tNext = t * (1 - alpha);
        if (tNext < MIN_TRANSMITTANCE) {
          done[local] = 1;
          active--;
          continue;
        }
        const w = alpha * t;
        const pix = py * width + px;
        rgb[pix * 3] += w * cr;
        rgb[pix * 3 + 1] += w * cg;
        rgb[pix * 3 + 2] += w * cb;
        depth[pix] += w * z;
        if (C > 0) {
          const fo = pix * C;
          for (let c = 0; c < C; c++) features[fo + c] += w * GF[gf + c];
        }
        T[local] = tNext;
      }
    }
  }
  for (let py = ty0; py < ty1; py++)
    for (let px = tx0; px < tx1; px++) out.transmittance[py * width + px] = T[(py - ty0) * TILE + (px - tx0)];
}
