/**
 * One contrastive training sample (METHOD.md §3 "Per training sample"): the voxel-subsampled scene intersected
 * with each view's frustum, each view's input rows augmented independently, both views concatenated into one
 * encoder batch (batch index 0 and 1, as the code's `offset = [n1, n1 + n2]`), and the correspondences re-indexed
 * to rows of that batch.
 */
import type { Rng } from "../../core/rng.ts";
import type { EncoderInputSource } from "../../models/gaussian-encoder/input.ts";
import { encodeInput, INPUT_CHANNELS } from "../../models/gaussian-encoder/input.ts";
import { augmentView, type AugmentOptions, type AugmentRecord } from "./augment.ts";
import { INFONCE_MAX_PAIRS, sampleCorrespondences } from "./infonce.ts";

/** Two augmented views in one encoder batch. */
export interface PairSample {
  /** `[(n1 + n2)·10]` input rows, view 1 first. */
  input: Float32Array;
  /** `[(n1 + n2)·3]` augmented xyz (the rows' first three channels), for serialization. */
  positions: Float32Array;
  /** `[n1 + n2]` 0 for view 1 rows, 1 for view 2 rows. */
  batch: Int32Array;
  n1: number;
  n2: number;
  /** `[m·2]` (row of view 1, row of the batch for view 2), m ≤ maxPairs. */
  pairs: Uint32Array;
  /** Scene indices of each view's rows. */
  gaussians: [Uint32Array, Uint32Array];
  augment: [AugmentRecord, AugmentRecord];
}

/** Sorted intersection of two ascending index lists. */
function intersectSorted(a: ArrayLike<number>, b: ArrayLike<number>): Uint32Array {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] < b[j]) i++;
    else if (a[i] > b[j]) j++;
    else {
      out.push(a[i]);
      i++;
      j++;
    }
  }
  return Uint32Array.from(out);
}

/** Options of `makePairSample`. */
export interface PairSampleOptions {
  augment?: AugmentOptions;
  /** Most correspondences kept (default 4096). */
  maxPairs?: number;
}

/**
 * Build a sample from the scene's kept (subsampled) Gaussians and each view's visible Gaussians, all ascending
 * index lists. Correspondences are identity matches on the Gaussians both views keep.
 */
export function makePairSample(
  cloud: EncoderInputSource,
  kept: ArrayLike<number>,
  visible1: ArrayLike<number>,
  visible2: ArrayLike<number>,
  rng: Rng,
  options: PairSampleOptions = {},
): PairSample {
  const g1 = intersectSorted(kept, visible1);
  const g2 = intersectSorted(kept, visible2);
  const n1 = g1.length;
  const n2 = g2.length;
  const v1 = encodeInput(cloud, g1);
  const v2 = encodeInput(cloud, g2);
  const a1 = augmentView(v1, rng, options.augment);
  const a2 = augmentView(v2, rng, options.augment);
  const input = new Float32Array((n1 + n2) * INPUT_CHANNELS);
  input.set(v1, 0);
  input.set(v2, n1 * INPUT_CHANNELS);
  const positions = new Float32Array((n1 + n2) * 3);
  for (let r = 0; r < n1 + n2; r++) positions.set(input.subarray(r * INPUT_CHANNELS, r * INPUT_CHANNELS + 3), r * 3);
  const batch = new Int32Array(n1 + n2);
  batch.fill(1, n1);
  // Merge-walk the two sorted lists for the shared Gaussians' rows.
  const all: number[] = [];
  for (let i = 0, j = 0; i < n1 && j < n2; ) {
    if (g1[i] < g2[j]) i++;
    else if (g1[i] > g2[j]) j++;
    else all.push(i++, n1 + j++);
  }
  const pairs = sampleCorrespondences(Uint32Array.from(all), options.maxPairs ?? INFONCE_MAX_PAIRS, rng);
  return { input, positions, batch, n1, n2, pairs, gaussians: [g1, g2], augment: [a1, a2] };
}
