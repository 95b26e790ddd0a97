/**
 * The timm `convnext_tiny` → RGB-branch mapping, on a generated file with timm's exact names and shapes:
 * every tensor lands where our layers read it (stem conv and depthwise conv checked against a plain-JS
 * computation in timm's OIHW layout), the head is ignored, and a missing or mis-shaped tensor is named.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { numpy as np } from "../../src/nn/jax.ts";
import { Rng } from "../../src/core/rng.ts";
import { InvalidFileError } from "../../src/core/errors.ts";
import { flattenParams } from "../../src/nn/params.ts";
import { writeSafetensors, type HostTensor } from "../../src/nn/safetensors.ts";
import { Conv2d, DepthwiseConv2d } from "../../src/nn/layers/index.ts";
import { vdviConfig } from "../../src/models/configs.ts";
import { ConvNext, convNextFromTimm, loadTimmConvNext } from "../../src/models/vdvi/index.ts";

const dir = mkdtempSync(join(tmpdir(), "rtgs2-timm-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

/** timm convnext_tiny's state dict: names and shapes (timm ≥ 0.9 naming), filled with seeded noise. */
function timmTensors(rng: Rng): Map<string, HostTensor> {
  const dims = [96, 192, 384, 768];
  const depths = [3, 3, 9, 3];
  const t = new Map<string, HostTensor>();
  const add = (name: string, shape: number[]): void => {
    const n = shape.reduce((a, b) => a * b, 1);
    t.set(name, { dtype: "F32", shape, data: rng.fillNormal(new Float32Array(n), 0, 0.1) });
  };
  add("stem.0.weight", [96, 3, 4, 4]);
  add("stem.0.bias", [96]);
  add("stem.1.weight", [96]);
  add("stem.1.bias", [96]);
  for (let s = 0; s < 4; s++) {
    const C = dims[s];
    if (s > 0) {
      add(`stages.${s}.downsample.0.weight`, [dims[s - 1]]);
      add(`stages.${s}.downsample.0.bias`, [dims[s - 1]]);
      add(`stages.${s}.downsample.1.weight`, [C, dims[s - 1], 2, 2]);
      add(`stages.${s}.downsample.1.bias`, [C]);
    }
    for (let b = 0; b < depths[s]; b++) {
      const p = `stages.${s}.blocks.${b}`;
      add(`${p}.gamma`, [C]);
      add(`${p}.conv_dw.weight`, [C, 1, 7, 7]);
      add(`${p}.conv_dw.bias`, [C]);
      add(`${p}.norm.weight`, [C]);
      add(`${p}.norm.bias`, [C]);
      add(`${p}.mlp.fc1.weight`, [4 * C, C]);
      add(`${p}.mlp.fc1.bias`, [4 * C]);
      add(`${p}.mlp.fc2.weight`, [C, 4 * C]);
      add(`${p}.mlp.fc2.bias`, [C]);
    }
  }
  add("head.norm.weight", [768]);
  add("head.norm.bias", [768]);
  add("head.fc.weight", [1000, 768]);
  add("head.fc.bias", [1000]);
  return t;
}

test("a timm convnext_tiny file maps onto every RGB-branch parameter, in our layouts", () => {
  const cfg = vdviConfig("paper").rgb;
  const tensors = timmTensors(new Rng(1));
  const path = join(dir, "convnext_tiny.safetensors");
  writeSafetensors(path, tensors);
  const loaded = loadTimmConvNext(path, cfg);
  // Same paths and shapes as a fresh init; every value comes from the file (not zeros/ones).
  const fresh = flattenParams(new ConvNext("rgb", 3, cfg).init(new Rng(0)));
  const got = flattenParams(loaded);
  assert.deepEqual(
    got.map(([k, a]) => [k, a.shape]),
    fresh.map(([k, a]) => [k, a.shape]),
  );
  assert.equal(got.length, tensors.size - 4);
  const g = (s: string): Float32Array => tensors.get(s)?.data as Float32Array;
  assert.deepEqual(loaded[2].blocks[5].gamma.ref.dataSync(), g("stages.2.blocks.5.gamma"));

  // Stem conv: our OHWI conv on an 8×8 image against Σ W[o,i,ky,kx]·img[4y+ky, 4x+kx, i] + b[o] from timm's OIHW.
  const img = new Rng(2).fillNormal(new Float32Array(8 * 8 * 3));
  const stem = new Conv2d("stem", 3, 96, 4, { stride: 4, padding: 0 });
  const y = stem.apply(loaded[0].down.conv, np.array(img).reshape([1, 8, 8, 3])).dataSync() as Float32Array;
  const W = g("stem.0.weight");
  const B = g("stem.0.bias");
  for (const [oy, ox, o] of [
    [0, 0, 0],
    [1, 0, 17],
    [1, 1, 95],
  ]) {
    let ref = B[o];
    for (let i = 0; i < 3; i++)
      for (let ky = 0; ky < 4; ky++)
        for (let kx = 0; kx < 4; kx++) ref += W[((o * 3 + i) * 4 + ky) * 4 + kx] * img[((4 * oy + ky) * 8 + 4 * ox + kx) * 3 + i];
    assert.ok(Math.abs(y[(oy * 2 + ox) * 96 + o] - ref) < 1e-4, `stem output (${oy}, ${ox}, ${o}): ${y[(oy * 2 + ox) * 96 + o]} vs ${ref}`);
  }
  // Depthwise 7×7 of block 0: centre pixel of a 7×7 map sees the whole kernel.
  const map = new Rng(3).fillNormal(new Float32Array(7 * 7 * 96));
  const dw = new DepthwiseConv2d("dw", 96, 7);
  const z = dw.apply(loaded[0].blocks[0].dw, np.array(map).reshape([1, 7, 7, 96])).dataSync() as Float32Array;
  const K = g("stages.0.blocks.0.conv_dw.weight");
  for (const c of [0, 50, 95]) {
    let ref = g("stages.0.blocks.0.conv_dw.bias")[c];
    for (let ky = 0; ky < 7; ky++) for (let kx = 0; kx < 7; kx++) ref += K[(c * 7 + ky) * 7 + kx] * map[(ky * 7 + kx) * 96 + c];
    assert.ok(Math.abs(z[(3 * 7 + 3) * 96 + c] - ref) < 1e-4, `dw channel ${c}`);
  }
});

test("a missing or mis-shaped timm tensor is named in the error", () => {
  const cfg = vdviConfig("paper").rgb;
  const missing = timmTensors(new Rng(4));
  missing.delete("stages.2.blocks.7.mlp.fc2.bias");
  assert.throws(() => convNextFromTimm({ tensors: missing, metadata: {} }, cfg, "x.safetensors"), (e: Error) => e instanceof InvalidFileError && e.message.includes("stages.2.blocks.7.mlp.fc2.bias") && e.message.includes("missing"));
  const wrong = timmTensors(new Rng(5));
  wrong.set("stages.1.downsample.1.weight", { dtype: "F32", shape: [192, 96, 3, 3], data: new Float32Array(192 * 96 * 9) });
  assert.throws(() => convNextFromTimm({ tensors: wrong, metadata: {} }, cfg, "x.safetensors"), (e: Error) => e instanceof InvalidFileError && e.message.includes("stages.1.downsample.1.weight") && e.message.includes("[192, 96, 3, 3]"));
});
