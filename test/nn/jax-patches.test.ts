import { wasmBytes } from "./wasm-memory-probe.ts";
import { test } from "node:test";
import assert from "node:assert/strict";
import { numpy as np, jit, grad } from "../../src/nn/jax.ts";
import { Rng } from "../../src/core/rng.ts";

// scripts/patch-jax.mjs changes how jax-js runs a gather's gradient (a scatter-add routine) and how a jitted
// program places its buffers. Both must leave results exactly as before; the buffer reuse must also cut the
// program's memory to about its live set.

/** Scatter-add by hand: out[index[k]] += rows[k] along `axis` of `shape`. */
function scatterAddReference(rows: Float32Array, index: Int32Array, shape: number[], axis: number): Float32Array {
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const m = index.length;
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < m; k++) {
      for (let j = 0; j < inner; j++) out[(o * shape[axis] + index[k]) * inner + j] += rows[(o * m + k) * inner + j];
    }
  }
  return out;
}

test("a gather's gradient (scatter-add) matches a hand-computed scatter on axis 0 and 1, repeated indices, eager and jitted", () => {
  const rng = new Rng("scatter");
  const shape = [7, 5, 3];
  const x = rng.fillNormal(new Float32Array(7 * 5 * 3));
  for (const axis of [0, 1]) {
    const n = shape[axis];
    // Every source row read 0–3 times, in a shuffled order.
    const index = Int32Array.from({ length: 11 }, (_, k) => (k * 4 + 1) % n);
    const outShape = [...shape];
    outShape[axis] = index.length;
    const w = rng.fillNormal(new Float32Array(outShape.reduce((a, b) => a * b, 1)));
    const f = (xx: np.Array): np.Array => np.sum(np.take(xx, np.array(index, { dtype: np.int32 }), axis).mul(np.array(w).reshape(outShape)));
    const want = scatterAddReference(w, index, shape, axis);
    // Same summation order as jax-js's generic loop, so equal to the last bit; jitted too (buffer reuse around
    // a routine).
    const eager = grad(f)(np.array(x).reshape(shape)).dataSync() as Float32Array;
    assert.deepEqual(Array.from(eager), Array.from(want), `axis ${axis}`);
    const jitted = jit(grad(f) as never) as unknown as (a: np.Array) => np.Array;
    assert.deepEqual(Array.from(jitted(np.array(x).reshape(shape)).dataSync() as Float32Array), Array.from(want), `axis ${axis}, jit`);
  }
});

test("a jitted program reuses freed buffers: same results as op by op, a fraction of the memory", () => {
  const n = 1 << 20; // 4 MiB a buffer
  const steps = 48;
  // Each step's value feeds two kernels (a reduction and the next step), so jax-js gives every step its own
  // buffer: 192 MiB of intermediates, of which two or three are live at any time.
  const chain = (x: np.Array): np.Array => {
    let y = x;
    for (let i = 0; i < steps; i++) {
      const s = np.sum(y.ref);
      y = y.mul(1.0001).add(s.mul(1e-9)).sub(0.5 / (i + 1));
    }
    return y;
  };
  const input = new Rng("reuse").fillNormal(new Float32Array(n));
  const f = jit(chain);
  // Measured first: op by op, jax-js also allocates every pending result before running any, and the allocator
  // would then serve the jitted call from those freed buffers.
  const before = wasmBytes();
  const once = f(np.array(input)).dataSync() as Float32Array;
  const grown = wasmBytes() - before;
  const twice = f(np.array(input)).dataSync() as Float32Array;
  const eager = chain(np.array(input)).dataSync() as Float32Array;
  assert.deepEqual(Array.from(once.subarray(0, 4096)), Array.from(eager.subarray(0, 4096)));
  assert.deepEqual(once, twice);
  // Without reuse the first call grows the heap by all 48 intermediates (≥ 192 MiB).
  assert.ok(grown < 64 * 2 ** 20, `heap grew by ${(grown / 2 ** 20).toFixed(0)} MiB`);
  f.dispose();
});
