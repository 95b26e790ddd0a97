import { test, after } from "node:test";
import assert from "node:assert/strict";
import { render, closeRenderWorkers } from "../../src/render/render.ts";
import { allocateCloud, featureMatrix, type GaussianCloud } from "../../src/splat/cloud.ts";
import { SH_C0 } from "../../src/splat/sh.ts";
import { lookAtCamera } from "../../src/core/camera.ts";
import { referenceRender } from "../../src/render/reference.ts";
import { axisCamera, randomCloud } from "../helpers/clouds.ts";

after(closeRenderWorkers);

const logit = (p: number) => Math.log(p / (1 - p));
/** f_dc giving base colour v (before the +0.5 offset is undone). */
const dc = (v: number) => (v - 0.5) / SH_C0;

function isotropic(
  specs: { pos: [number, number, number]; sigma: number; opacity: number; color: [number, number, number] }[],
): GaussianCloud {
  const cloud = allocateCloud(specs.length, 0);
  specs.forEach((s, i) => {
    cloud.positions.set(s.pos, i * 3);
    cloud.logScales.set([Math.log(s.sigma), Math.log(s.sigma), Math.log(s.sigma)], i * 3);
    cloud.opacityLogits[i] = logit(s.opacity);
    cloud.shDc.set(s.color.map(dc), i * 3);
  });
  return cloud;
}

test("a single isotropic Gaussian has the analytic peak and footprint", async () => {
  // Mean projects exactly onto the centre of pixel (32, 20): cx, cy put the optical axis there.
  const f = 100, z = 2, sigma = 0.03, o = 0.8;
  const cam = axisCamera(64, 48, f, 32.5, 20.5);
  const cloud = isotropic([{ pos: [0, 0, z], sigma, opacity: o, color: [0.9, 0.4, 0.1] }]);
  const out = await render(cloud, cam, { threads: 1 });
  // At the optical axis J = diag(f/z), so the 2D variance is (f·σ/z)² plus the 0.3 px² dilation.
  const var2 = (f * sigma / z) ** 2 + 0.3;
  for (const [dx, dy] of [[0, 0], [1, 0], [0, -2], [3, 1], [4, 4], [-5, 2]]) {
    const p = (20 + dy) * 64 + 32 + dx;
    const a = o * Math.exp(-(dx * dx + dy * dy) / (2 * var2));
    const expected = a >= 1 / 255 ? a : 0;
    assert.ok(Math.abs(out.alpha[p] - expected) < 1e-6, `alpha at (${dx},${dy}): ${out.alpha[p]} vs ${expected}`);
    assert.ok(Math.abs(out.rgb[p * 3] - 0.9 * expected) < 1e-5);
    assert.ok(Math.abs(out.depth[p] - z * expected) < 1e-5);
  }
  // Outside the α ≥ 1/255 ellipse nothing is drawn.
  const cutoff = Math.sqrt(2 * var2 * Math.log(255 * o));
  for (let p = 0; p < 64 * 48; p++) {
    const dx = (p % 64) - 32, dy = Math.floor(p / 64) - 20;
    if (Math.hypot(dx, dy) > cutoff + 1e-6) assert.equal(out.alpha[p], 0, `pixel (${dx},${dy}) beyond the cutoff`);
  }
});

test("the nearer of two overlapping Gaussians is composited first", async () => {
  const cam = axisCamera(32, 32, 60, 16.5, 16.5);
  const red = { sigma: 0.2, opacity: 0.7, color: [1, 0, 0] as [number, number, number] };
  const blue = { sigma: 0.2, opacity: 0.6, color: [0, 0, 1] as [number, number, number] };
  const centre = 16 * 32 + 16;
  const front = await render(isotropic([{ ...blue, pos: [0, 0, 3] }, { ...red, pos: [0, 0, 2] }]), cam, { threads: 1 });
  assert.ok(Math.abs(front.rgb[centre * 3] - 0.7) < 1e-6);
  assert.ok(Math.abs(front.rgb[centre * 3 + 2] - 0.3 * 0.6) < 1e-6);
  const back = await render(isotropic([{ ...blue, pos: [0, 0, 3] }, { ...red, pos: [0, 0, 4] }]), cam, { threads: 1 });
  assert.ok(Math.abs(back.rgb[centre * 3 + 2] - 0.6) < 1e-6);
  assert.ok(Math.abs(back.rgb[centre * 3] - 0.4 * 0.7) < 1e-6);
});

test("blending stops once transmittance would fall below 1e-4, without adding that Gaussian", async () => {
  const cam = axisCamera(16, 16, 50, 8.5, 8.5);
  const g = (z: number, color: [number, number, number]) => ({ pos: [0, 0, z] as [number, number, number], sigma: 0.5, opacity: 0.999, color });
  const out = await render(isotropic([g(1, [1, 0, 0]), g(2, [0, 1, 0]), g(3, [0, 0, 1])]), cam, { threads: 1, background: [1, 1, 1] });
  const p = 8 * 16 + 8;
  // α clamps to 0.99: T goes 1 → 0.01 → 1e-4 (kept, since not < 1e-4), and the third would take it to 1e-6.
  assert.ok(Math.abs(out.rgb[p * 3] - (0.99 + 1e-4)) < 1e-6, `red ${out.rgb[p * 3]}`);
  assert.ok(Math.abs(out.rgb[p * 3 + 1] - (0.0099 + 1e-4)) < 1e-6, `green ${out.rgb[p * 3 + 1]}`);
  assert.ok(Math.abs(out.rgb[p * 3 + 2] - 1e-4) < 1e-7, "blue is never added; only the background shows through");
  assert.ok(Math.abs(out.alpha[p] - 0.9999) < 1e-7);
});

test("a Gaussian projects to the hand-computed pixel (OpenCV axes, pixel centres at +0.5)", async () => {
  // Camera at (1, 2, -3) looking along +z: world (1.105, 1.8, 0) is at view (0.105, -0.2, 3),
  // so u = 150·0.105/3 + 40 = 45.25 and v = 150·(−0.2)/3 + 30 = 20 → pixel (45, 19)/(45, 20) boundary; move to 20.5.
  const cam = lookAtCamera([1, 2, -3], [1, 2, 0], [0, -1, 0], { width: 80, height: 60, fx: 150 });
  const cloud = isotropic([{ pos: [1.105, 2 - 0.19, 0], sigma: 0.004, opacity: 0.9, color: [1, 1, 1] }]);
  // v = 150·(−0.19)/3 + 30 = 20.5 → row 20; u = 45.25 → column 45.
  const out = await render(cloud, cam, { threads: 1 });
  let best = 0;
  for (let p = 1; p < out.alpha.length; p++) if (out.alpha[p] > out.alpha[best]) best = p;
  assert.deepEqual([best % 80, Math.floor(best / 80)], [45, 20]);
});

test("the tile renderer matches the brute-force reference on random clouds (SH 3, 8 features)", async () => {
  for (const [seed, cam] of [
    [1, axisCamera(72, 40, 45)],
    [2, axisCamera(50, 61, 70, 20.3, 35.9)],
  ] as const) {
    const cloud = randomCloud(seed, 1500, 3, 8);
    const values = featureMatrix(cloud, "f_pc_");
    const ref = referenceRender(cloud, cam, { values, channels: 8 });
    const out = await render(cloud, cam, { threads: 1, features: "f_pc_" });
    const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let m = 0;
      for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
      return m;
    };
    assert.ok(maxDiff(out.rgb, ref.rgb) < 1e-4, `rgb differs by ${maxDiff(out.rgb, ref.rgb)}`);
    assert.ok(maxDiff(out.alpha, ref.alpha) < 1e-4, `alpha differs by ${maxDiff(out.alpha, ref.alpha)}`);
    assert.ok(maxDiff(out.depth, ref.depth) < 1e-4 * 4, `depth differs by ${maxDiff(out.depth, ref.depth)}`);
    assert.ok(maxDiff(out.features!, ref.features) < 1e-4, `features differ by ${maxDiff(out.features!, ref.features)}`);
    let covered = 0;
    for (const a of out.alpha) if (a > 0.5) covered++;
    assert.ok(covered > out.alpha.length * 0.2, "the random scene covers a good part of the image");
  }
});

test("the output is bit-identical for any thread count", async () => {
  const cloud = randomCloud(7, 2000, 2, 4);
  const cam = axisCamera(96, 64, 60);
  const one = await render(cloud, cam, { threads: 1, features: "f_pc_" });
  for (const threads of [2, 3]) {
    const many = await render(cloud, cam, { threads, features: "f_pc_" });
    assert.deepEqual(many.rgb, one.rgb);
    assert.deepEqual(many.alpha, one.alpha);
    assert.deepEqual(many.depth, one.depth);
    assert.deepEqual(many.features, one.features);
    assert.equal(many.stats.threads, threads);
  }
});

test("background fills transmittance; features get none; depth can be normalized", async () => {
  const cam = axisCamera(32, 32, 60, 16.5, 16.5);
  const cloud = isotropic([{ pos: [0, 0, 2], sigma: 0.05, opacity: 0.5, color: [0.2, 0.2, 0.2] }]);
  cloud.extras.set("f_pc_0", new Float32Array([3]));
  const out = await render(cloud, cam, { threads: 1, background: [0, 1, 0], features: "f_pc_", normalizeDepth: true });
  const c = 16 * 32 + 16;
  assert.ok(Math.abs(out.rgb[c * 3 + 1] - (0.5 * 0.2 + 0.5)) < 1e-6);
  assert.equal(out.rgb[0 * 3 + 1], 1, "an empty pixel shows the background");
  assert.ok(Math.abs(out.features![c] - 1.5) < 1e-6, "feature = α·f, not divided by α, no background");
  assert.equal(out.features![0], 0);
  assert.ok(Math.abs(out.depth[c] - 2) < 1e-5, "normalized depth is the Gaussian's depth");
});

test("Gaussians behind the near plane are culled and bad options are refused", async () => {
  const cam = axisCamera(16, 16, 20);
  const cloud = isotropic([{ pos: [0, 0, 0.15], sigma: 0.05, opacity: 0.9, color: [1, 1, 1] }]);
  const out = await render(cloud, cam, { threads: 1 });
  assert.equal(out.stats.visible, 0);
  assert.ok(out.alpha.every((a) => a === 0));
  await assert.rejects(render(cloud, cam, { threads: 0 }), /threads/);
  await assert.rejects(render(cloud, cam, { features: { values: new Float32Array(3), channels: 2 } }), /features/);
  await assert.rejects(render(cloud, { ...cam, width: 0 }, {}), /width/);
  await assert.rejects(render(cloud, cam, { near: -1 }), /near/);
  await assert.rejects(render(cloud, cam, { background: [0, Number.NaN, 0] }), /background/);
});

test("reusing a previous result's buffers gives the same pixels as fresh ones", async () => {
  const cam = axisCamera(64, 48, 50);
  const a = randomCloud(11, 500, 1, 3), b = randomCloud(12, 500, 1, 3);
  const freshB = await render(b, cam, { threads: 2, features: "f_pc_" });
  const first = await render(a, cam, { threads: 2, features: "f_pc_" });
  const reused = await render(b, cam, { threads: 2, features: "f_pc_", reuse: first });
  assert.equal(reused.rgb, first.rgb, "the arrays are reused");
  assert.deepEqual(reused.rgb, freshB.rgb);
  assert.deepEqual(reused.alpha, freshB.alpha);
  assert.deepEqual(reused.depth, freshB.depth);
  assert.deepEqual(reused.features, freshB.features);
  const other = await render(b, axisCamera(32, 32, 50), { threads: 1, reuse: first });
  assert.notEqual(other.rgb, first.rgb, "a result of another size is not reused");
});

test("edge cases: an empty cloud, a Gaussian filling the view, a zero quaternion, an image not a tile multiple", async () => {
  const empty = await render(allocateCloud(0, 0), axisCamera(33, 17, 20), { threads: 2, background: [0.2, 0.4, 0.6] });
  assert.ok(empty.alpha.every((a) => a === 0));
  assert.ok(Math.abs(empty.rgb[3 * 100 + 2] - 0.6) < 1e-6);

  // σ = 50 m at 1 m with f = 100 px: 5000 px, so the corners see e^(−(166² + 55²)/(2·5000²)) ≈ 0.9994 of the peak.
  const huge = isotropic([{ pos: [0, 0, 1], sigma: 50, opacity: 0.5, color: [1, 1, 1] }]);
  huge.rotations.fill(0); // an unnormalized (zero) quaternion from a careless caller must not poison the image
  const out = await render(huge, axisCamera(333, 111, 100), { threads: 2 });
  assert.ok(out.alpha.every((a) => Math.abs(a - 0.5) < 1e-3), "a Gaussian much larger than the view covers every pixel evenly");
  assert.ok(out.rgb.every(Number.isFinite));
});
