/** Shared test helpers: seeded float64 arrays, host round trips, closeness checks and finite differences. */
import assert from "node:assert/strict";
import { numpy as np, jit, grad } from "../../src/nn/jax.ts";
import { Rng } from "../../src/core/rng.ts";
import { flattenParams, mapParams, type ParamTree } from "../../src/nn/params.ts";

/** A float64 device array of normal deviates, and the same numbers on the host. */
export function randn(rng: Rng, shape: number[], std = 1): { arr: np.Array; host: Float64Array } {
  const n = shape.reduce((a, b) => a * b, 1);
  const host = new Float64Array(n);
  rng.fillNormal(host, 0, std);
  return { arr: np.array(host.slice()).reshape(shape), host };
}

/** Read a device array back as float64 (consumes it, as jax-js's `dataSync` does). */
export function toHost(x: np.Array): Float64Array {
  const data = x.dataSync();
  return Float64Array.from(data as ArrayLike<number>);
}

/** Assert element-wise |a − b| ≤ atol + rtol·|b|, reporting the worst element. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol = 0, what = ""): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const excess = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    assert.fail(`${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (atol ${atol}, rtol ${rtol})`);
  }
}

/** Convert every leaf of a tree to float64 (tests differentiate in float64 to make finite differences clean). */
export function toF64<T extends ParamTree>(tree: T): T {
  return mapParams(tree, (x) => x.astype(np.float64));
}

/**
 * Central-difference gradient check of `loss(params, x)` (a scalar) with respect to every leaf of `params` and
 * to `x`: `samples` coordinates per leaf, chosen by `rng`. `loss` must consume its arguments.
 */
export function gradCheck<P extends ParamTree>(
  loss: (p: P, x: np.Array) => np.Array,
  params: P,
  x: np.Array,
  rng: Rng,
  opts: { samples?: number; eps?: number; atol?: number; rtol?: number; what?: string; jit?: boolean } = {},
): void {
  const samples = opts.samples ?? 4;
  const eps = opts.eps ?? 1e-4;
  const atol = opts.atol ?? 1e-6;
  const rtol = opts.rtol ?? 1e-4;
  // Eager evaluation is for losses that build PRNG keys inside: jax-js 0.1.25 draws different bits from a key
  // created inside a jitted function than from the same key outside.
  type Loss = (p: P, x: np.Array) => np.Array;
  const jitted = opts.jit === false ? null : jit(loss);
  const f = (jitted ?? loss) as Loss;
  const gradFn = grad(loss, { argnums: [0, 1] }) as unknown as (p: P, x: np.Array) => [P, np.Array];
  const g = gradFn(mapParams(params, (a) => a.ref), x.ref);
  const gradLeaves = new Map(flattenParams(g[0]).map(([k, v]) => [k, toHost(v)]));
  gradLeaves.set("<input>", toHost(g[1]));
  const leaves = flattenParams(params);
  const hostLeaves = new Map(leaves.map(([k, v]) => [k, toHost(v.ref)]));
  hostLeaves.set("<input>", toHost(x.ref));
  const evalWith = (name: string, values: Float64Array): number => {
    const replaced = mapParams(params, (a, path) => (path === name ? np.array(values).reshape(a.shape) : a.ref));
    const xin = name === "<input>" ? np.array(values).reshape(x.shape) : x.ref;
    return f(replaced, xin).item();
  };
  for (const [name, base] of hostLeaves) {
    const analytic = gradLeaves.get(name) as Float64Array;
    const n = base.length;
    for (let s = 0; s < Math.min(samples, n); s++) {
      const i = rng.int(n);
      const plus = base.slice();
      plus[i] += eps;
      const minus = base.slice();
      minus[i] -= eps;
      const fd = (evalWith(name, plus) - evalWith(name, minus)) / (2 * eps);
      const tol = atol + rtol * Math.max(Math.abs(fd), Math.abs(analytic[i]));
      assert.ok(
        Math.abs(fd - analytic[i]) <= tol,
        `${opts.what ?? "grad"}: d/d${name}[${i}] analytic ${analytic[i]} vs finite difference ${fd}`,
      );
    }
  }
  jitted?.dispose();
  for (const [, v] of leaves) v.dispose();
  x.dispose();
}

/** A fixed random float64 weighting `r` so `sum(y · r)` exercises every output element with distinct weights. */
export function weightedSum(y: np.Array, r: np.Array): np.Array {
  return np.sum(y.mul(r));
}
