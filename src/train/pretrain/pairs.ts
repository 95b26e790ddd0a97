/**
 * The pre-training pairs of one scene (METHOD.md §10 decision 15): every view pair i < j whose frustum IoU is
 * inside (0.3, 0.8), at most 64 per scene, drawn with the seed. Each pair carries both views' visible
 * Gaussians, which `makePairSample` intersects with the voxel-subsampled scene.
 */
import type { Rng } from "../../core/rng.ts";
import type { Camera } from "../../core/camera.ts";
import { viewPairs, viewVisibility, visibleIndices, type ViewPairOptions } from "../../datasets/view-pairs.ts";

/** One scene's training pair: the two views and the Gaussians each sees. */
export interface TrainingPair {
  a: number;
  b: number;
  iou: number;
  visibleA: Uint32Array;
  visibleB: Uint32Array;
}

/** Most pairs kept per scene (§10 decision 15). */
export const MAX_PAIRS_PER_SCENE = 64;

/**
 * The scene's pairs in the IoU band, a seeded uniform subset of at most `maxPairs` when there are more, in
 * (a, b) order. `views` restricts the candidates (e.g. the train frames, or `splits.val` frames for the
 * held-out loss); indices in the result are positions in `cameras`.
 */
export function scenePairs(
  positions: Float32Array,
  cameras: readonly Camera[],
  rng: Rng,
  options: ViewPairOptions & { maxPairs?: number; views?: readonly number[] } = {},
): TrainingPair[] {
  const views = options.views ?? cameras.map((_, i) => i);
  const subset = views.map((v) => cameras[v]);
  const vis = viewVisibility(positions, subset, options.ndcLimit);
  const pairs = viewPairs(positions, subset, options, vis);
  const max = options.maxPairs ?? MAX_PAIRS_PER_SCENE;
  let chosen = pairs.map((_, i) => i);
  if (pairs.length > max) {
    // Partial Fisher–Yates: the first `max` entries become a uniform subset; re-sorted for a stable order.
    for (let i = 0; i < max; i++) {
      const j = i + rng.int(pairs.length - i);
      [chosen[i], chosen[j]] = [chosen[j], chosen[i]];
    }
    chosen = chosen.slice(0, max).sort((x, y) => x - y);
  }
  return chosen.map((k) => {
    const p = pairs[k];
    return { a: views[p.a], b: views[p.b], iou: p.iou, visibleA: visibleIndices(vis, p.a), visibleB: visibleIndices(vis, p.b) };
  });
}
