/** Stage-3 losses against plain-JS loops on small cases, and their gradients against finite differences. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { numpy as np, grad } from "../../src/nn/jax.ts";
import { Rng } from "../../src/core/rng.ts";
import {
  centreCollapseLoss,
  classCentres,
  downsampleLabelsNearest,
  maskedDepthMse,
  simplexEtf,
  smoothedCrossEntropy,
} from "../../src/train/losses.ts";

const IGN = 65535;

/** −Σ_k t_k log softmax(x)_k with t = (1−ε)onehot + ε/K, mean over valid rows (plain JS, float64). */
function ceRef(logits: number[][], labels: number[], eps: number): number {
  let sum = 0;
  let n = 0;
  logits.forEach((row, i) => {
    const y = labels[i];
    if (y < 0 || y >= row.length) return;
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    let l = 0;
    for (let k = 0; k < row.length; k++) l -= ((k === y ? 1 - eps : 0) + eps / row.length) * (row[k] - lse);
    sum += l;
    n++;
  });
  return n === 0 ? 0 : sum / n;
}

function arr2(rows: number[][]): np.Array {
  return np.array(new Float32Array(rows.flat())).reshape([rows.length, rows[0].length]);
}
const ints = (v: number[]): np.Array => np.array(new Int32Array(v), { dtype: np.int32 });

test("cross-entropy with label smoothing: a hand-computed case, and ignored pixels count for nothing", () => {
  // Two classes, logits (0, ln 3): p = (1/4, 3/4). Label 1, ε = 0: −ln(3/4).
  const one = smoothedCrossEntropy(arr2([[0, Math.log(3)]]), ints([1]), 0).item();
  assert.ok(Math.abs(one - -Math.log(0.75)) < 1e-6, `${one}`);
  // ε = 0.2 → t = (0.1, 0.9): −0.1 ln(1/4) − 0.9 ln(3/4).
  const sm = smoothedCrossEntropy(arr2([[0, Math.log(3)]]), ints([1]), 0.2).item();
  assert.ok(Math.abs(sm - (-0.1 * Math.log(0.25) - 0.9 * Math.log(0.75))) < 1e-6, `${sm}`);
  // A bigger case with ignored rows against the loop.
  const rng = new Rng(4);
  const rows = Array.from({ length: 7 }, () => Array.from({ length: 5 }, () => rng.normal() * 2));
  const labels = [0, 4, IGN, 2, 2, IGN, 1];
  for (const eps of [0, 0.15]) {
    const got = smoothedCrossEntropy(arr2(rows), ints(labels), eps).item();
    const want = ceRef(rows, labels, eps);
    assert.ok(Math.abs(got - want) < 1e-5, `eps ${eps}: ${got} vs ${want}`);
  }
  // All ignored → 0, not NaN.
  assert.equal(smoothedCrossEntropy(arr2([[1, 2]]), ints([IGN]), 0.1).item(), 0);
});

test("simplex ETF: unit-norm columns with pairwise cosine −1/(K−1), columns summing to zero", () => {
  const E = 12,
    K = 5;
  const w = simplexEtf(E, K, 3);
  const col = (k: number): number[] => Array.from({ length: E }, (_, e) => w[e * K + k]);
  for (let a = 0; a < K; a++) {
    for (let b = 0; b < K; b++) {
      const d = col(a).reduce((s, v, e) => s + v * col(b)[e], 0);
      assert.ok(Math.abs(d - (a === b ? 1 : -1 / (K - 1))) < 1e-5, `⟨w${a}, w${b}⟩ = ${d}`);
    }
  }
  for (let e = 0; e < E; e++) {
    let rowSum = 0;
    for (let k = 0; k < K; k++) rowSum += w[e * K + k];
    assert.ok(Math.abs(rowSum) < 1e-5, `row ${e} sums to ${rowSum}`);
  }
  assert.deepEqual(simplexEtf(E, K, 3), w, "deterministic");
  assert.throws(() => simplexEtf(3, 5), /at least K = 5/);
});

test("L_NC: class means (absent class = 0) and CE_ε over centre logits match a plain-JS loop", () => {
  const rng = new Rng(9);
  const P = 10,
    E = 6,
    K = 4;
  const z = Array.from({ length: P }, () => Array.from({ length: E }, () => rng.normal()));
  const labels = [0, 0, 2, 2, 2, IGN, 0, 2, 1, IGN]; // class 3 absent
  const w = simplexEtf(E, K, 1);
  // Hand: centres.
  const centres = Array.from({ length: K }, () => new Array<number>(E).fill(0));
  const counts = new Array<number>(K).fill(0);
  labels.forEach((y, p) => {
    if (y >= K) return;
    counts[y]++;
    for (let e = 0; e < E; e++) centres[y][e] += z[p][e];
  });
  centres.forEach((c, k) => c.forEach((_, e) => (c[e] /= Math.max(1, counts[k]))));
  const gotCentres = classCentres(arr2(z), ints(labels), K).dataSync() as Float32Array;
  for (let k = 0; k < K; k++) for (let e = 0; e < E; e++) assert.ok(Math.abs(gotCentres[k * E + e] - centres[k][e]) < 1e-5);
  assert.ok(gotCentres.slice(3 * E).every((v) => v === 0), "absent class → zero centre");
  const cl = centres.map((c) => Array.from({ length: K }, (_, j) => c.reduce((s, v, e) => s + v * w[e * K + j], 0)));
  for (const eps of [0, 0.15]) {
    const want = ceRef(cl, [0, 1, 2, 3], eps);
    const got = centreCollapseLoss(arr2(z), ints(labels), np.array(w).reshape([E, K]), eps).item();
    assert.ok(Math.abs(got - want) < 1e-5, `eps ${eps}: ${got} vs ${want}`);
  }
});

test("masked depth MSE: only pixels with gt > 0, in metres", () => {
  const pred = np.array(new Float32Array([1, 2, 3, 4]));
  const gt = np.array(new Float32Array([1.5, 0, 2, 4]));
  // (0.25 + 1 + 0) / 3
  assert.ok(Math.abs(maskedDepthMse(pred, gt).item() - 1.25 / 3) < 1e-6);
  assert.equal(maskedDepthMse(np.array(new Float32Array([1])), np.array(new Float32Array([0]))).item(), 0);
});

test("gradients of CE_ε, L_NC and depth MSE match central finite differences", () => {
  const rng = new Rng(2);
  const P = 6,
    K = 3,
    E = 4;
  const x = Array.from({ length: P * K }, () => rng.normal());
  const zv = Array.from({ length: P * E }, () => rng.normal());
  const labels = [0, 1, 2, 1, IGN, 0];
  const w = simplexEtf(E, K, 0);
  const fns: { name: string; x0: number[]; shape: number[]; f: (a: np.Array) => np.Array }[] = [
    { name: "ce", x0: x, shape: [P, K], f: (a) => smoothedCrossEntropy(a, ints(labels), 0.15) },
    { name: "nc", x0: zv, shape: [P, E], f: (a) => centreCollapseLoss(a, ints(labels), np.array(w).reshape([E, K]), 0.15) },
    {
      name: "depth",
      x0: x.slice(0, P),
      shape: [P],
      f: (a) => maskedDepthMse(a, np.array(new Float32Array([1, 0, 2, 3, 0, 0.5]))),
    },
  ];
  for (const { name, x0, shape, f } of fns) {
    const g = grad(f)(np.array(new Float32Array(x0)).reshape(shape)).dataSync() as Float32Array;
    const h = 1e-2;
    for (let i = 0; i < x0.length; i++) {
      const plus = x0.slice();
      const minus = x0.slice();
      plus[i] += h;
      minus[i] -= h;
      const fd = (f(np.array(new Float32Array(plus)).reshape(shape)).item() - f(np.array(new Float32Array(minus)).reshape(shape)).item()) / (2 * h);
      assert.ok(Math.abs(fd - g[i]) < 2e-3 + 2e-2 * Math.abs(fd), `${name}[${i}]: grad ${g[i]} vs fd ${fd}`);
    }
  }
});

test("nearest label downsampling takes each cell's centre", () => {
  // 1 × 4×4 → 2×2: centres at (1, 1), (1, 3), (3, 1), (3, 3).
  const l = new Uint16Array(Array.from({ length: 16 }, (_, i) => i));
  assert.deepEqual([...downsampleLabelsNearest(l, 1, 4, 4, 2, 2)], [5, 7, 13, 15]);
});
