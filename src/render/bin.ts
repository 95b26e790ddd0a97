/**
 * Stage 2 of the rasterizer: give every 16×16 tile its list of Gaussians, front to back. Sorting all visible
 * Gaussians once by view depth (a stable radix sort, so ties keep index order) and then bucketing them by tile in
 * that order yields exactly the per-tile (tile, depth, index) order of the reference's key sort — no global-sort
 * popping — without sorting the much longer list of tile instances.
 */
import { REC, R_DEPTH } from "./project.ts";

export interface TileBins {
  /** [gridW·gridH + 1]: tile t owns list[tileStart[t] … tileStart[t+1]). */
  tileStart: Uint32Array;
  /** Gaussian indices, grouped by tile, front to back within a tile. */
  list: Uint32Array;
  /** Gaussians with a non-empty tile rectangle. */
  visible: number;
}

/**
 * Bin the projected Gaussians. `allocate(instances)` supplies the output arrays once their size is known
 * (the renderer hands out views of the blend kernel's memory, so nothing is copied afterwards).
 */
export function binGaussians(
  records: Float32Array,
  rects: Int32Array,
  count: number,
  gridW: number,
  gridH: number,
  allocate: (instances: number) => { tileStart: Uint32Array; list: Uint32Array } = defaultAllocate(gridW * gridH),
): TileBins {
  const tileCount = gridW * gridH;
  const counts = new Uint32Array(tileCount + 1);
  let visible = 0;
  for (let i = 0; i < count; i++) if (rects[i * 4 + 2] > rects[i * 4]) visible++;
  const order = new Uint32Array(visible);
  const depth = new Float32Array(visible);
  let k = 0;
  for (let i = 0; i < count; i++) {
    const r = i * 4;
    const x0 = rects[r], y0 = rects[r + 1], x1 = rects[r + 2], y1 = rects[r + 3];
    if (x1 <= x0) continue;
    order[k] = i;
    depth[k++] = records[i * REC + R_DEPTH];
    for (let ty = y0; ty < y1; ty++) for (let tx = x0; tx < x1; tx++) counts[ty * gridW + tx + 1]++;
  }
  for (let t = 0; t < tileCount; t++) counts[t + 1] += counts[t];
  const { tileStart, list } = allocate(counts[tileCount]);
  tileStart.set(counts);

  // Depths are > near > 0, and positive IEEE floats order like their bit patterns.
  const sorted = radixSortByKey(new Uint32Array(depth.buffer), order);
  const cursor = counts; // reused as the running write position of each tile
  for (let s = 0; s < visible; s++) {
    const i = sorted[s];
    const r = i * 4;
    const x0 = rects[r], y0 = rects[r + 1], x1 = rects[r + 2], y1 = rects[r + 3];
    for (let ty = y0; ty < y1; ty++) for (let tx = x0; tx < x1; tx++) list[cursor[ty * gridW + tx]++] = i;
  }
  return { tileStart, list, visible };
}

function defaultAllocate(tiles: number) {
  return (instances: number) => ({ tileStart: new Uint32Array(tiles + 1), list: new Uint32Array(instances) });
}

/** Stable LSD radix sort of `values` by uint32 `keys` (3 passes of 11 bits). Returns the sorted values. */
export function radixSortByKey(keys: Uint32Array, values: Uint32Array): Uint32Array {
  const n = keys.length;
  let kIn: Uint32Array = keys.slice(), vIn: Uint32Array = values.slice();
  let kOut: Uint32Array = new Uint32Array(n), vOut: Uint32Array = new Uint32Array(n);
  const hist = new Uint32Array(2048);
  for (let shift = 0; shift < 33; shift += 11) {
    hist.fill(0);
    for (let i = 0; i < n; i++) hist[(kIn[i] >>> shift) & 2047]++;
    let sum = 0;
    for (let b = 0; b < 2048; b++) {
      const c = hist[b];
      hist[b] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const dst = hist[(kIn[i] >>> shift) & 2047]++;
      kOut[dst] = kIn[i];
      vOut[dst] = vIn[i];
    }
    [kIn, kOut] = [kOut, kIn];
    [vIn, vOut] = [vOut, vIn];
  }
  return vIn;
}
