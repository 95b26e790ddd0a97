import { test } from "node:test";
import assert from "node:assert/strict";
import { numpy as np } from "../../../src/nn/jax.ts";
import { Rng } from "../../../src/core/rng.ts";
import { refParams } from "../../../src/nn/params.ts";
import { TINY_ENCODER } from "../../../src/models/gaussian-encoder/config.ts";
import { GaussianEncoder } from "../../../src/models/gaussian-encoder/encoder.ts";
import { encodeCloud, kdChunks, normalizeRows, planChunks } from "../../../src/models/gaussian-encoder/encode.ts";
import { encodeInput } from "../../../src/models/gaussian-encoder/input.ts";
import { disposeDevicePlan, planEncoder, toDevicePlan } from "../../../src/models/gaussian-encoder/levels.ts";
import { randomCloud } from "../../helpers/clouds.ts";

test("encodeCloud: unit features; one chunk equals the direct forward; chunks cover every Gaussian", () => {
  const n = 600;
  const cloud = randomCloud(21, n, 0);
  const encoder = new GaussianEncoder(TINY_ENCODER);
  const params = encoder.init(new Rng(1));
  const state = encoder.initState();
  const whole = encodeCloud(encoder, params, state, cloud);
  assert.equal(whole.length, n * 32);
  for (let i = 0; i < n; i++) {
    const norm = Math.hypot(...whole.subarray(i * 32, i * 32 + 32));
    assert.ok(Math.abs(norm - 1) < 1e-5);
  }
  // The direct forward, normalized.
  const dev = toDevicePlan(planEncoder(cloud.positions, encoder.config), encoder.config);
  const res = encoder.apply(refParams(params), np.array(encodeInput(cloud)).reshape([n, 10]), dev, { train: false, state: refParams(state) });
  const direct = normalizeRows(Float32Array.from(res.y.dataSync() as Float32Array), 32);
  disposeDevicePlan(dev);
  for (let k = 0; k < direct.length; k++) assert.ok(Math.abs(direct[k] - whole[k]) < 1e-5, `element ${k}`);
  // A chunk larger than the scene is the whole scene.
  const big = encodeCloud(encoder, params, state, cloud, { chunkPoints: 10_000 });
  for (let k = 0; k < big.length; k++) assert.ok(Math.abs(big[k] - whole[k]) < 1e-5);
  // Several chunks: every Gaussian is encoded exactly once as a core member, with unit norm, and the
  // features stay close to the unchunked ones (context differs only near chunk borders and in patch makeup).
  let chunks = 0;
  const split = encodeCloud(encoder, params, state, cloud, { chunkPoints: 100, margin: 0.5, onChunk: (_d, t) => (chunks = t) });
  assert.equal(chunks, 8, "600 points by median splits down to ≤ 100: 8 cores of 75");
  let cos = 0;
  for (let i = 0; i < n; i++) {
    let dot = 0;
    for (let k = 0; k < 32; k++) dot += split[i * 32 + k] * whole[i * 32 + k];
    assert.ok(Math.abs(Math.hypot(...split.subarray(i * 32, i * 32 + 32)) - 1) < 1e-5);
    cos += dot / n;
  }
  assert.ok(cos > 0.95, `mean cosine ${cos}`);
});

test("kdChunks: median splits down to the limit, every index once", () => {
  const cloud = randomCloud(5, 1000, 0);
  const all = Uint32Array.from({ length: 1000 }, (_, i) => i);
  const parts = kdChunks(cloud.positions, all, 130);
  assert.equal(parts.length, 8);
  const seen = new Uint8Array(1000);
  for (const p of parts) {
    assert.ok(p.length <= 130 && p.length >= 125);
    for (const i of p) seen[i]++;
  }
  assert.ok(seen.every((c) => c === 1));
  assert.throws(() => kdChunks(cloud.positions, all, 0), /chunkPoints/);
});

test("encodeCloud: chunks whose context covers the scene agree with the unchunked run; one shape for all chunks", () => {
  const n = 500;
  const cloud = randomCloud(22, n, 0);
  const encoder = new GaussianEncoder(TINY_ENCODER);
  const params = encoder.init(new Rng(3));
  const state = encoder.initState();
  const whole = encodeCloud(encoder, params, state, cloud);
  const { chunks, capacities } = planChunks(encoder.config, cloud, { chunkPoints: 130, margin: 1e6, contextRatio: Infinity });
  assert.equal(chunks.length, 4);
  for (const c of chunks) assert.equal(c.rows.length, n, "a context margin this large takes in the whole scene");
  assert.ok(capacities.points[0] >= n && capacities.points[0] % 256 === 0);
  const split = encodeCloud(encoder, params, state, cloud, { chunkPoints: 130, margin: 1e6, contextRatio: Infinity });
  let worst = 1;
  for (let i = 0; i < n; i++) {
    let dot = 0;
    for (let k = 0; k < 32; k++) dot += split[i * 32 + k] * whole[i * 32 + k];
    worst = Math.min(worst, dot);
  }
  // Same points, same grid origin; only ties inside one finest grid cell may serialize in another order.
  assert.ok(worst > 0.999, `worst cosine ${worst}`);
});

test("planChunks: context is capped at contextRatio × core, keeping the Gaussians nearest the core's box", () => {
  const cloud = randomCloud(23, 2000, 0);
  const margin = 0.8;
  const { chunks } = planChunks(TINY_ENCODER, cloud, { chunkPoints: 300, margin, contextRatio: 0.5 });
  assert.equal(chunks.length, 8);
  const pos = cloud.positions;
  for (const c of chunks) {
    const context = c.rows.length - c.core;
    assert.ok(context <= Math.floor(0.5 * c.core), `${context} context rows for a core of ${c.core}`);
    const lo = [Infinity, Infinity, Infinity];
    const hi = [-Infinity, -Infinity, -Infinity];
    for (let r = 0; r < c.core; r++) {
      for (let k = 0; k < 3; k++) {
        lo[k] = Math.min(lo[k], pos[c.rows[r] * 3 + k]);
        hi[k] = Math.max(hi[k], pos[c.rows[r] * 3 + k]);
      }
    }
    const d = (i: number): number => Math.max(0, ...[0, 1, 2].map((k) => Math.max(lo[k] - pos[i * 3 + k], pos[i * 3 + k] - hi[k])));
    const inChunk = new Set(c.rows);
    let farthestIn = 0;
    for (let r = c.core; r < c.rows.length; r++) farthestIn = Math.max(farthestIn, d(c.rows[r]));
    let nearestOut = Infinity;
    let outside = 0;
    for (let i = 0; i < cloud.count; i++) {
      if (inChunk.has(i) || d(i) > margin) continue;
      nearestOut = Math.min(nearestOut, d(i));
      outside++;
    }
    assert.ok(farthestIn <= margin);
    if (outside > 0) assert.ok(farthestIn <= nearestOut + margin / 256, `kept one at ${farthestIn}, left one at ${nearestOut}`);
  }
});
