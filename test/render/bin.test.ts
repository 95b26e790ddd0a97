import { test } from "node:test";
import assert from "node:assert/strict";
import { countTiles, fillTiles, prefixSum, radixSortByKey, sortByDepth } from "../../src/render/bin.ts";
import { REC, R_DEPTH } from "../../src/render/project.ts";
import { Rng } from "../../src/core/rng.ts";

test("radix sort is a stable sort by uint32 key", () => {
  const rng = new Rng(5);
  const keys = Uint32Array.from({ length: 5000 }, () => rng.int(64) * 0x01000001); // many ties, high and low bits
  const values = Uint32Array.from({ length: 5000 }, (_, i) => i);
  const sorted = radixSortByKey(keys, values);
  const expected = [...values].sort((a, b) => keys[a] - keys[b] || a - b);
  assert.deepEqual([...sorted], expected);
});

test("tile lists: every covered tile gets its Gaussians front to back, counted in any number of ranges", () => {
  const rng = new Rng(9);
  const n = 400, gridW = 7, gridH = 5;
  const records = new Float32Array(n * REC);
  const rects = new Int32Array(n * 4);
  for (let i = 0; i < n; i++) {
    records[i * REC + R_DEPTH] = 1 + rng.int(50) * 0.1; // ties on purpose: they must keep index order
    const x0 = rng.int(gridW), y0 = rng.int(gridH);
    const visible = rng.uniform() > 0.1;
    rects.set(visible ? [x0, y0, x0 + 1 + rng.int(gridW - x0), y0 + 1 + rng.int(gridH - y0)] : [0, 0, 0, 0], i * 4);
  }
  const counts = new Uint32Array(gridW * gridH + 1);
  countTiles(rects, 0, 150, gridW, counts);
  countTiles(rects, 150, n, gridW, counts);
  const total = prefixSum(counts);
  const sorted = sortByDepth(records, rects, n);
  const single = new Uint32Array(total);
  fillTiles(sorted, rects, gridW, counts, single);
  // Oracle: for each tile, the covering Gaussians sorted by (depth, index).
  for (let t = 0; t < gridW * gridH; t++) {
    const tx = t % gridW, ty = Math.floor(t / gridW);
    const expected = [...Array(n).keys()]
      .filter((i) => tx >= rects[i * 4] && tx < rects[i * 4 + 2] && ty >= rects[i * 4 + 1] && ty < rects[i * 4 + 3])
      .sort((a, b) => records[a * REC + R_DEPTH] - records[b * REC + R_DEPTH] || a - b);
    assert.deepEqual([...single.subarray(counts[t], counts[t + 1])], expected, `tile ${t}`);
  }
});
