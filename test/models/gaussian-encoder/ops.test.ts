import { test } from "node:test";
import assert from "node:assert/strict";
import { numpy as np, jit, grad } from "../../../src/nn/jax.ts";
import { Rng } from "../../../src/core/rng.ts";
import {
  buildVoxelGeometry,
  disposeVoxelGeometry,
  segmentReduce,
  toDeviceSegmentPlan,
  VoxelConv,
  type VoxelConvParams,
} from "../../../src/models/gaussian-encoder/ops.ts";
import { segmentMaxPlan, segmentMaxReference } from "../../../src/models/gaussian-encoder/pooling.ts";
import { kernelOffsets, voxelize } from "../../../src/models/gaussian-encoder/neighbourhood.ts";
import { assertClose, gradCheck, randn, toF64, toHost } from "../../nn/helpers.ts";

const PTR = Int32Array.from([0, 1, 4, 13]);
const MEMBERS = Int32Array.from([5, 0, 12, 3, 1, 2, 4, 6, 7, 8, 9, 10, 11]);

test("segmentReduce: max and sum match the plain-JS reference over multi-round plans", () => {
  const rng = new Rng(1);
  const { arr, host } = randn(rng, [13, 3]);
  const plan = segmentMaxPlan(PTR, MEMBERS, 2);
  assert.ok(plan.length >= 3);
  const dev = toDeviceSegmentPlan(plan);
  const max = toHost(segmentReduce(arr.ref, dev, "max"));
  assertClose(max, segmentMaxReference(Float32Array.from(host), 3, plan), 1e-6, 0, "max");
  const sum = toHost(segmentReduce(arr, dev, "sum"));
  const want = new Float64Array(9);
  for (let p = 0; p < 3; p++)
    for (let m = PTR[p]; m < PTR[p + 1]; m++) for (let c = 0; c < 3; c++) want[p * 3 + c] += host[MEMBERS[m] * 3 + c];
  assertClose(sum, want, 1e-9, 0, "sum");
  for (const r of dev) r.index.dispose();
});

test("segmentReduce: gradients under jit(grad) equal eager ones and the argmax routing", () => {
  const rng = new Rng(2);
  const { arr: x, host } = randn(rng, [13, 3]);
  const { arr: w } = randn(rng, [3, 3]);
  const dev = toDeviceSegmentPlan(segmentMaxPlan(PTR, MEMBERS, 2));
  for (const op of ["max", "sum"] as const) {
    const f = (xx: np.Array, ww: np.Array): np.Array => np.sum(segmentReduce(xx, dev, op).mul(ww));
    const eager = toHost(grad(f)(x.ref, w.ref));
    const jitted = jit(grad(f));
    const viaJit = toHost(jitted(x.ref, w.ref));
    jitted.dispose();
    assertClose(viaJit, eager, 1e-9, 0, `${op} jit vs eager`);
    const wHost = toHost(w.ref);
    const want = new Float64Array(39);
    for (let p = 0; p < 3; p++)
      for (let c = 0; c < 3; c++) {
        let best = -1;
        for (let m = PTR[p]; m < PTR[p + 1]; m++) {
          const i = MEMBERS[m];
          if (op === "sum") want[i * 3 + c] += wHost[p * 3 + c];
          else if (best < 0 || host[i * 3 + c] > host[best * 3 + c]) best = i;
        }
        if (op === "max") want[best * 3 + c] = wHost[p * 3 + c];
      }
    assertClose(eager, want, 1e-12, 0, `${op} routing`);
  }
  x.dispose();
  w.dispose();
  for (const r of dev) r.index.dispose();
});

/** Plain-JS SubMConv3d-by-voxel-means reference. */
function voxelConvRef(grid: Int32Array, x: Float64Array, C: number, weight: Float64Array, bias: Float64Array, out: number): Float64Array {
  const vm = voxelize(grid);
  const V = vm.voxelCount;
  const mean = new Float64Array(V * C);
  vm.voxelOf.forEach((v, i) => {
    for (let c = 0; c < C; c++) mean[v * C + c] += x[i * C + c] / vm.memberCount[v];
  });
  const offsets = kernelOffsets(3);
  const n = grid.length / 3;
  const y = new Float64Array(n * out);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < 27; o++) {
      let u = -1;
      for (let v = 0; v < V; v++) {
        if ([0, 1, 2].every((k) => vm.voxelGrid[v * 3 + k] === grid[i * 3 + k] + offsets[o * 3 + k])) u = v;
      }
      if (u < 0) continue;
      for (let j = 0; j < out; j++)
        for (let c = 0; c < C; c++) y[i * out + j] += weight[j * 27 * C + o * C + c] * mean[u * C + c];
    }
    for (let j = 0; j < out; j++) y[i * out + j] += bias[j];
  }
  return y;
}

test("VoxelConv: matches a brute-force reference and passes a float64 gradient check under jit", () => {
  const rng = new Rng(3);
  const n = 40;
  const grid = new Int32Array(n * 3);
  for (let i = 0; i < grid.length; i++) grid[i] = rng.int(4);
  const C = 3;
  const out = 2;
  const conv = new VoxelConv("cpe", C, out, 3);
  const p = toF64(conv.init(rng));
  // A non-zero bias so the reference checks it too.
  p.bias = np.array(new Float64Array([0.3, -0.2]));
  const geometry = buildVoxelGeometry(grid, undefined, 3, { width: 4, dtype: np.float64 });
  const { arr: x, host } = randn(rng, [n, C]);
  const y = toHost(conv.apply({ weight: p.weight.ref, bias: p.bias?.ref }, { x: x.ref, geometry }));
  const want = voxelConvRef(grid, host, C, toHost(p.weight.ref), toHost(p.bias.ref), out);
  assertClose(y, want, 1e-9, 0, "forward");
  const { arr: r } = randn(rng, [n, out]);
  const loss = (pp: VoxelConvParams, xx: np.Array): np.Array => np.sum(conv.apply(pp, { x: xx, geometry }).mul(r.ref));
  const gEager = toHost(grad(loss, { argnums: 1 })({ weight: p.weight.ref, bias: p.bias.ref }, x.ref));
  const gj = jit(grad(loss, { argnums: 1 }));
  assertClose(toHost(gj({ weight: p.weight.ref, bias: p.bias.ref }, x.ref)), gEager, 1e-9, 0, "jit(grad)");
  gj.dispose();
  gradCheck(loss, p, x, rng, { samples: 4, what: "VoxelConv" });
  r.dispose();
  disposeVoxelGeometry(geometry);
});
