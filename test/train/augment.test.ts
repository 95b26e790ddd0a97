/** Augmentation properties: flip twice = identity, zoom crops the right region, labels stay valid, seeded. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/core/rng.ts";
import { augmentSample, colorJitter, cutout, flipHorizontal, zoomIn, type Sample } from "../../src/train/augment.ts";

function sample(seed: number, W = 20, H = 10, C = 4): Sample {
  const rng = new Rng(seed);
  const n = W * H;
  const labels = new Uint16Array(n);
  for (let i = 0; i < n; i++) labels[i] = i % 7 === 0 ? 65535 : (i % W) % 5;
  return {
    width: W,
    height: H,
    channels: C,
    rgb: rng.fillUniform(new Float32Array(n * 3)),
    features: rng.fillNormal(new Float32Array(n * C)),
    labels,
    depth: rng.fillUniform(new Float32Array(n), 0.5, 5),
  };
}

test("horizontal flip mirrors every map, and twice is the identity", () => {
  const s = sample(1);
  const f = flipHorizontal(s);
  const W = s.width;
  // Pixel (y=3, x=2) lands at x = W − 1 − 2.
  const src = 3 * W + 2,
    dst = 3 * W + (W - 3);
  assert.equal(f.labels[dst], s.labels[src]);
  assert.equal(f.depth[dst], s.depth[src]);
  assert.deepEqual([...f.rgb.slice(dst * 3, dst * 3 + 3)], [...s.rgb.slice(src * 3, src * 3 + 3)]);
  assert.deepEqual([...f.features.slice(dst * 4, dst * 4 + 4)], [...s.features.slice(src * 4, src * 4 + 4)]);
  const ff = flipHorizontal(f);
  assert.deepEqual(ff.rgb, s.rgb);
  assert.deepEqual(ff.features, s.features);
  assert.deepEqual(ff.labels, s.labels);
  assert.deepEqual(ff.depth, s.depth);
});

test("zoom-in ×2 at origin (4, 2) samples the crop [4, 14) × [2, 7): nearest labels, bilinear images", () => {
  const s = sample(2);
  const z = zoomIn(s, 2, new Rng(0), { x: 4, y: 2 });
  const W = s.width;
  // Output (i, j) centre maps to input (4 + (j + 0.5)/2, 2 + (i + 0.5)/2); nearest pixel floor of that.
  for (let i = 0; i < s.height; i++)
    for (let j = 0; j < W; j++) {
      const sy = Math.floor(2 + (i + 0.5) / 2),
        sx = Math.floor(4 + (j + 0.5) / 2);
      assert.equal(z.labels[i * W + j], s.labels[sy * W + sx]);
      assert.equal(z.depth[i * W + j], s.depth[sy * W + sx]);
    }
  // Output (1, 1) → input centre (4.75, 2.75) → bilinear between pixels x 4..5 (t 0.25), y 2..3 (t 0.25).
  const at = (y: number, x: number): number => s.rgb[(y * W + x) * 3];
  const want = 0.75 * 0.75 * at(2, 4) + 0.75 * 0.25 * at(2, 5) + 0.25 * 0.75 * at(3, 4) + 0.25 * 0.25 * at(3, 5);
  assert.ok(Math.abs(z.rgb[(1 * W + 1) * 3] - want) < 1e-6);
  // Scale 1 at origin 0 is the identity.
  const id = zoomIn(s, 1, new Rng(0), { x: 0, y: 0 });
  assert.deepEqual(id.labels, s.labels);
  for (let i = 0; i < s.rgb.length; i++) assert.ok(Math.abs(id.rgb[i] - s.rgb[i]) < 1e-6);
});

test("cut-out fills a 10 % patch with the per-channel mean and leaves the rest; colour jitter stays in [0, 1]", () => {
  const s = sample(3, 40, 20);
  const rgb = s.rgb.slice();
  const box = cutout(rgb, 40, 20, 3, new Rng(5));
  assert.equal(box.w * box.h, Math.round(40 * Math.sqrt(0.1)) * Math.round(20 * Math.sqrt(0.1)));
  const mean = [0, 1, 2].map((k) => s.rgb.filter((_, i) => i % 3 === k).reduce((a, v) => a + v, 0) / 800);
  for (let y = 0; y < 20; y++)
    for (let x = 0; x < 40; x++) {
      const inside = x >= box.x && x < box.x + box.w && y >= box.y && y < box.y + box.h;
      for (let k = 0; k < 3; k++) {
        const i = (y * 40 + x) * 3 + k;
        if (inside) assert.ok(Math.abs(rgb[i] - mean[k]) < 1e-6, `pixel ${x},${y} channel ${k}`);
        else assert.equal(rgb[i], s.rgb[i]);
      }
    }
  const j = s.rgb.slice();
  colorJitter(j, new Rng(1));
  assert.ok(j.every((v) => v >= 0 && v <= 1));
  assert.notDeepEqual(j, s.rgb);
});

test("augmentSample: seeded, labels stay valid classes or ignore, fine-tuning never touches colours", () => {
  const s = sample(4);
  const valid = new Set([0, 1, 2, 3, 4, 65535]);
  for (let seed = 0; seed < 20; seed++) {
    const a = augmentSample(s, "generalize", new Rng(seed));
    const b = augmentSample(s, "generalize", new Rng(seed));
    assert.deepEqual(a, b);
    assert.ok(a.labels.every((l) => valid.has(l)));
    assert.equal(a.rgb.length, s.rgb.length);
    const f = augmentSample(s, "finetune", new Rng(seed));
    // Zoom only: every output colour is a bilinear blend of input colours, so a constant image stays constant.
    assert.ok(f.labels.every((l) => valid.has(l)));
  }
  const flat: Sample = { ...s, rgb: new Float32Array(s.rgb.length).fill(0.3) };
  for (let seed = 0; seed < 10; seed++) {
    const f = augmentSample(flat, "finetune", new Rng(seed));
    assert.ok(f.rgb.every((v) => Math.abs(v - 0.3) < 1e-6), "no jitter or cut-out when fine-tuning");
  }
  assert.deepEqual(augmentSample(s, "none", new Rng(1)), s);
  // Different seeds eventually differ.
  const outs = new Set(Array.from({ length: 10 }, (_, k) => augmentSample(s, "generalize", new Rng(k)).rgb[0]));
  assert.ok(outs.size > 1);
});
