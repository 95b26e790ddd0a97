/** Channel helpers on the last axis: shuffle, concat, split. */
import { numpy as np } from "../jax.ts";
import { ConfigError } from "../../core/errors.ts";

/**
 * ShuffleNet channel shuffle on the last axis, as PyTorch's `view(g, C/g).transpose` on NCHW: output channel
 * `j·g + i` is input channel `i·(C/g) + j`. With g = 2 on cat[a, b] the output interleaves a₀, b₀, a₁, b₁, …
 */
export function channelShuffle(x: np.Array, groups: number): np.Array {
  const C = x.shape[x.ndim - 1];
  if (C % groups !== 0) throw new ConfigError("channelShuffle", `${groups} groups do not divide ${C} channels`);
  const lead = x.shape.slice(0, -1);
  const perm = [...lead.map((_, i) => i), lead.length + 1, lead.length];
  return x.reshape([...lead, groups, C / groups]).transpose(perm).reshape([...lead, C]);
}

/** Concatenate along the last axis (channels). */
export function concatChannels(xs: np.Array[]): np.Array {
  return np.concatenate(xs, xs[0].ndim - 1);
}

/** Split the last axis into consecutive pieces of the given sizes. */
export function splitChannels(x: np.Array, sizes: readonly number[]): np.Array[] {
  const C = x.shape[x.ndim - 1];
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total !== C) throw new ConfigError("splitChannels", `sizes sum to ${total}, input has ${C} channels`);
  const out: np.Array[] = [];
  let start = 0;
  const lead = x.shape.slice(0, -1).map((): [] => []);
  for (const s of sizes) {
    out.push(x.ref.slice(...lead, [start, start + s]));
    start += s;
  }
  x.dispose();
  return out;
}
