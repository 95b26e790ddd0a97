/**
 * The encoder's per-Gaussian input (METHOD.md §2, decision 7 of §10): ten channels
 * `[x, y, z, r, g, b, opacity, s0, s1, s2]` built from a GaussianCloud in plain JS.
 */
import { SH_C0, type GaussianCloud } from "../../splat/cloud.ts";

/** Channels of the encoder input: xyz (3) + base colour (3) + opacity (1) + log-scales (3). */
export const INPUT_CHANNELS = 10;

/** Channel offsets inside one input row, for code that edits a channel group (augmentation). */
export const INPUT_LAYOUT = { xyz: 0, colour: 3, opacity: 6, logScales: 7 } as const;

/** The subset of a GaussianCloud the encoder reads. */
export type EncoderInputSource = Pick<GaussianCloud, "count" | "positions" | "shDc" | "opacityLogits" | "logScales">;

/**
 * The `[N·10]` row-major encoder input of `cloud`, or of the Gaussians listed in `indices` (in that order).
 *
 * Base colour is clamp(0.5 + SH_C0·f_dc, 0, 1) per Gaussian rather than the released code's global min–max,
 * so the same Gaussian gets the same input in every scene (§10 decision 7). Scales stay logarithmic, as the
 * released code feeds the raw ply `scale_*` values; opacity is the sigmoid of the stored logit.
 */
export function encodeInput(cloud: EncoderInputSource, indices?: ArrayLike<number>): Float32Array {
  const n = indices === undefined ? cloud.count : indices.length;
  const out = new Float32Array(n * INPUT_CHANNELS);
  for (let r = 0; r < n; r++) {
    const i = indices === undefined ? r : indices[r];
    const o = r * INPUT_CHANNELS;
    for (let k = 0; k < 3; k++) {
      out[o + INPUT_LAYOUT.xyz + k] = cloud.positions[i * 3 + k];
      const c = 0.5 + SH_C0 * cloud.shDc[i * 3 + k];
      out[o + INPUT_LAYOUT.colour + k] = c < 0 ? 0 : c > 1 ? 1 : c;
      out[o + INPUT_LAYOUT.logScales + k] = cloud.logScales[i * 3 + k];
    }
    out[o + INPUT_LAYOUT.opacity] = 1 / (1 + Math.exp(-cloud.opacityLogits[i]));
  }
  return out;
}
