/**
 * Live segmentation in the browser viewer: the VDVI network running through jax-js in headless Chromium against
 * the same network in Node (wasm), and the segmentation mode drawing its overlay.
 *
 * Parity: a tiny VDVI config with seeded random weights (perturbed so no branch is near zero), saved as a
 * float32 checkpoint and served with `--model`; fixed seeded inputs at 64×48. The page loads the checkpoint with
 * its own loader (`viewer/network.ts`) and runs it on the jax-js device under test; Node loads it with
 * `loadVdviCheckpoint` and runs `VdviNet.apply` on wasm. Tolerance: max |Δlogit| ≤ 1e-4 with logits of order 1–10.
 * Both sides compute in float32, but each device sums the matmuls and the layer-norm / softmax reductions in its
 * own order (tiled GPU kernels vs the wasm loops) and its own exp/erf, which moves each result by a few float32
 * ulps per layer; measured 2.7e-6 on SwiftShader WebGPU and 2.2e-6 on browser wasm, so 1e-4 leaves ~40× room for
 * a real GPU's fused multiply-adds. A wrong weight, a transposed layout, a missing BatchNorm statistic or another
 * padding moves logits by 0.1 or more (the first test checks that the logits respond at that scale).
 *
 * jax-js's `webgl` device is not tested: on SwiftShader (ANGLE) the jitted network loses the WebGL context
 * (CONTEXT_LOST_WEBGL, then FRAMEBUFFER_UNSUPPORTED 36061 at the next dispatch), narrowed to MiT's depthwise 3×3
 * conv → geluFast jitted together, so the fallback tested is `wasm` (the viewer's default without WebGPU).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { orbitCameras } from "../../src/core/camera-convert.ts";
import { Rng } from "../../src/core/rng.ts";
import { vdviConfig } from "../../src/models/configs.ts";
import { VdviNet } from "../../src/models/vdvi/index.ts";
import { numpy as np } from "../../src/nn/jax.ts";
import { mapParams, type ParamTree } from "../../src/nn/params.ts";
import { closeRenderWorkers, render } from "../../src/render/render.ts";
import type { GaussianCloud } from "../../src/splat/cloud.ts";
import { writePly } from "../../src/splat/io/index.ts";
import { syntheticRoomCloud } from "../../src/splat/synthetic.ts";
import { loadVdviCheckpoint, saveVdviCheckpoint } from "../../src/train/semantic/checkpoint.ts";
import { startViewServer, type ViewServer } from "../../src/viewer-server/server.ts";
import { argmaxClasses } from "../../viewer/network.ts";
import type {} from "../../viewer/api.ts";
import { decodePng, launchChromium, openViewer, pixelStd } from "./chromium.ts";

const SIZE = { width: 160, height: 120 };
const NET = { width: 64, height: 48 };
const C = 32;
const TOL = 1e-4;
const CLASSES = [
  { id: 0, name: "wall", color: [174, 199, 232] as [number, number, number] },
  { id: 1, name: "floor", color: [152, 223, 138] as [number, number, number] },
  { id: 2, name: "chair", color: [214, 39, 40] as [number, number, number] },
  { id: 3, name: "table", color: [255, 187, 120] as [number, number, number] },
];

let cloud: GaussianCloud;
let srv: ViewServer;
let ckpt: string;
let input: { rgb: Float32Array; features: Float32Array };
let nodeLogits: Float32Array;

/** Logits of the checkpoint on `rgb`/`features` in Node (wasm), through the standard loader. */
function nodeForward(rgb: Float32Array, features: Float32Array, w: number, h: number): Float32Array {
  const c = loadVdviCheckpoint(ckpt);
  const out = c.net.apply(c.params, c.state, { rgb: np.array(rgb).reshape([1, h, w, 3]), features: np.array(features).reshape([1, h, w, C]) }, { train: false });
  out.z.dispose();
  for (const s of Object.values(out.state)) {
    s.runningMean.dispose();
    s.runningVar.dispose();
  }
  return out.logits.dataSync() as Float32Array;
}

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-viewer-seg-"));
  cloud = syntheticRoomCloud(3000, 5);
  const frng = new Rng(11);
  // Features that vary smoothly with position (a real encoder's are spatially coherent), so views differ.
  for (let c = 0; c < C; c++) {
    const w = [frng.normal(), frng.normal(), frng.normal()];
    const b = frng.uniform(0, 6);
    cloud.extras.set(
      `f_pc_${c}`,
      Float32Array.from({ length: cloud.count }, (_, i) => Math.sin(w[0] * cloud.positions[i * 3] + w[1] * cloud.positions[i * 3 + 1] + w[2] * cloud.positions[i * 3 + 2] + b)),
    );
  }
  writePly(join(dir, "room.ply"), cloud);

  const config = vdviConfig("tiny");
  const net = new VdviNet(config);
  const prng = new Rng(7);
  const params = mapParams(net.init(new Rng(3)) as unknown as ParamTree, (x) => {
    const noise = Float32Array.from({ length: x.size }, () => prng.normal(0, 0.2));
    return x.add(np.array(noise).reshape(x.shape));
  });
  const state = net.initState();
  for (const [k, s] of Object.entries(state)) {
    const n = s.runningMean.size;
    s.runningMean.dispose();
    s.runningVar.dispose();
    state[k] = {
      runningMean: np.array(Float32Array.from({ length: n }, () => prng.normal(0, 0.1))),
      runningVar: np.array(Float32Array.from({ length: n }, () => prng.uniform(0.5, 1.5))),
    };
  }
  ckpt = join(dir, "tiny.safetensors");
  saveVdviCheckpoint(ckpt, params as never, state, { config, classes: CLASSES, encoder: "random:0", step: 0, epoch: 0, best: null });

  const irng = new Rng(21);
  const P = NET.width * NET.height;
  input = {
    rgb: Float32Array.from({ length: P * 3 }, () => irng.uniform()),
    features: Float32Array.from({ length: P * C }, () => irng.normal(0, 0.5)),
  };
  nodeLogits = nodeForward(input.rgb, input.features, NET.width, NET.height);
  srv = await startViewServer({ scene: join(dir, "room.ply"), model: ckpt, port: 0, defaultSize: SIZE });
});

after(async () => {
  await srv?.close();
  await closeRenderWorkers();
});

function open(browser: Browser, query: string, errors: string[]): Promise<Page> {
  return openViewer(browser, `${srv.url}?${query}`, errors);
}

async function browserLogits(page: Page) {
  return page.evaluate(
    ([rgb, features, w, h]) => window.rtgs2Viewer.runNetwork(rgb, features, w, h),
    [Array.from(input.rgb), Array.from(input.features), NET.width, NET.height] as const,
  );
}

/** The Node side of a view: the CPU render of preset camera `i` at the network size, prepared as Segmenter does. */
async function cpuInputs(i: number) {
  const cam = orbitCameras(cloud.positions, 8, SIZE)[i];
  const sx = NET.width / SIZE.width, sy = NET.height / SIZE.height;
  const small = { ...cam, width: NET.width, height: NET.height, fx: cam.fx * sx, fy: cam.fy * sy, cx: cam.cx * sx, cy: cam.cy * sy };
  const r = await render(cloud, small, { threads: 1, features: "f_pc_" });
  return { rgb: r.rgb.map((v) => Math.round(Math.min(1, Math.max(0, v)) * 255) / 255), features: r.features! };
}

/**
 * The page's network inputs (offscreen passes read back) against the CPU render of the same camera. Tolerance:
 * RGB mean |Δ| ≤ 1/255 and ≤ 0.5 % of values off by more than 8/255 (the renderer parity of browser.test.ts);
 * features mean |Δ| ≤ 2e-3 and ≤ 0.5 % off by more than 0.02 — the passes accumulate in float16 (relative
 * step 2⁻¹¹ per blend on values of magnitude ≤ 1), the CPU in float32.
 */
async function checkInputs(page: Page, cam: number, label: string) {
  const got = await page.evaluate(() => window.rtgs2Viewer.networkInputs());
  assert.deepEqual([got.width, got.height], [NET.width, NET.height]);
  const want = await cpuInputs(cam);
  const stats = (a: number[], b: Float32Array, step: number) => {
    let sum = 0, over = 0;
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i] - b[i]);
      sum += d;
      if (d > step) over++;
    }
    return { mad: sum / a.length, over: over / a.length };
  };
  const rgb = stats(got.rgb, want.rgb, 8 / 255);
  const feat = stats(got.features, want.features, 0.02);
  console.log(`# ${label} network inputs vs CPU render: RGB MAD ${(rgb.mad * 255).toFixed(3)}/255, features MAD ${feat.mad.toExponential(2)}, ${(100 * feat.over).toFixed(2)} % > 0.02`);
  assert.ok(rgb.mad <= 1 / 255 && rgb.over <= 0.005, `RGB ${JSON.stringify(rgb)}`);
  assert.ok(feat.mad <= 2e-3 && feat.over <= 0.005, `features ${JSON.stringify(feat)}`);
  // The comparison tells cameras apart: another view's features are far off.
  const other = stats(got.features, (await cpuInputs(cam + 1)).features, 0.02);
  assert.ok(other.mad > 10 * feat.mad && other.mad > 0.02, `another camera: ${JSON.stringify(other)}`);
  return want;
}

/** Fraction of the page's labels equal to the Node network's on the CPU-rendered inputs. */
function agreement(pageLabels: number[], want: { rgb: Float32Array; features: Float32Array }): number {
  const labels = argmaxClasses(nodeForward(want.rgb, want.features, NET.width, NET.height), CLASSES.length);
  let agree = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === pageLabels[i]) agree++;
  return agree / labels.length;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test("the Node reference can tell weights apart (the tolerance is meaningful)", () => {
  let scale = 0;
  for (const v of nodeLogits) scale = Math.max(scale, Math.abs(v));
  assert.ok(scale > 0.3 && scale < 100, `logit scale ${scale}`);
  // The same network on another input differs far beyond the tolerance.
  const other = nodeForward(input.rgb.map((v) => 1 - v), input.features, NET.width, NET.height);
  assert.ok(maxAbsDiff(other, nodeLogits) > 50 * TOL);
});

test("WebGL2 renderer + jax-js wasm (the fallbacks): logits match the Node wasm run; the view's inputs and labels match Node's", async () => {
  const browser = await launchChromium("webgl2");
  try {
    const errors: string[] = [];
    const page = await open(browser, "ui=0&backend=webgl2&nn=wasm&cam=4", errors);
    const r = await browserLogits(page);
    assert.equal(r.device, "wasm");
    const d = maxAbsDiff(r.logits, nodeLogits);
    console.log(`# jax-js wasm: max |Δlogit| ${d.toExponential(2)} over ${r.logits.length} logits, ${r.ms.toFixed(0)} ms (first run, compile included)`);
    assert.ok(d <= TOL, `max |Δlogit| ${d} > ${TOL}`);
    const want = await checkInputs(page, 4, "WebGL2");
    const seg = await page.evaluate(() => window.rtgs2Viewer.segment());
    const frac = agreement(seg.labels, want);
    console.log(`# WebGL2 + wasm labels vs Node for camera 4: ${(100 * frac).toFixed(1)} % agree`);
    assert.ok(frac >= 0.95, `only ${(100 * frac).toFixed(1)} % of labels agree`);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

// One page for WebGPU (SwiftShader compiles the network's kernels once, ~25 s; the logits and the live view share
// the 64×48 shapes).
test("WebGPU: in-browser logits match the Node wasm run; segmentation mode draws its overlay and legend and agrees with the Node prediction for the camera", async () => {
  const browser = await launchChromium("webgpu");
  try {
    const errors: string[] = [];
    // No nn=: the default device order must pick WebGPU here.
    const page = await open(browser, `ui=0&backend=webgpu&cam=2&opacity=1`, errors);
    const r0 = await browserLogits(page);
    assert.equal(r0.device, "webgpu");
    const d = maxAbsDiff(r0.logits, nodeLogits);
    console.log(`# jax-js webgpu (SwiftShader): max |Δlogit| ${d.toExponential(2)} over ${r0.logits.length} logits, ${r0.ms.toFixed(0)} ms (first run, compile included)`);
    assert.ok(d <= TOL, `max |Δlogit| ${d} > ${TOL}`);

    const rgbShot = decodePng(await page.locator("#canvas").screenshot());
    assert.ok(pixelStd(rgbShot) > 10, "RGB canvas is blank");
    const seg = await page.evaluate(async () => {
      window.rtgs2Viewer.setMode("segmentation");
      const r = await window.rtgs2Viewer.segment();
      await window.rtgs2Viewer.renderNow();
      return r;
    });
    assert.equal(seg.device, "webgpu");
    assert.deepEqual([seg.width, seg.height], [NET.width, NET.height]);
    const segShot = decodePng(await page.locator("#canvas").screenshot());
    let changed = 0;
    for (let i = 0; i < segShot.data.length; i += 4) {
      if (Math.abs(segShot.data[i] - rgbShot.data[i]) + Math.abs(segShot.data[i + 1] - rgbShot.data[i + 1]) + Math.abs(segShot.data[i + 2] - rgbShot.data[i + 2]) > 24) changed++;
    }
    assert.ok(changed > 0.5 * SIZE.width * SIZE.height, `overlay changed only ${changed} pixels`);
    // At opacity 1 every pixel shows a class colour of the checkpoint.
    const palette = new Set(CLASSES.map((c) => c.color.join(",")));
    const px = (x: number, y: number) => Array.from(segShot.data.subarray((y * SIZE.width + x) * 4, (y * SIZE.width + x) * 4 + 3)).join(",");
    for (const [x, y] of [[5, 5], [80, 60], [150, 110]]) assert.ok(palette.has(px(x, y)), `pixel ${x},${y} = ${px(x, y)}`);
    // The opacity slider: at 0 the RGB view shows through unchanged.
    await page.evaluate(() => {
      const el = document.getElementById("opacity") as HTMLInputElement;
      el.value = "0";
      el.dispatchEvent(new Event("input"));
    });
    const clear = decodePng(await page.locator("#canvas").screenshot());
    let same = 0;
    for (let i = 0; i < clear.data.length; i += 4) if (Math.abs(clear.data[i] - rgbShot.data[i]) <= 2 && Math.abs(clear.data[i + 1] - rgbShot.data[i + 1]) <= 2) same++;
    assert.ok(same >= 0.99 * SIZE.width * SIZE.height, `opacity 0: only ${same} pixels as in RGB mode`);
        const legend = await page.locator("#legend .class").allTextContents();
    assert.ok(legend.length >= 1 && legend.every((t) => CLASSES.some((c) => t.startsWith(c.name))), `legend ${JSON.stringify(legend)}`);

    // The Node prediction for the same camera: CPU render at the network size, the same input preparation.
    const want = await checkInputs(page, 2, "WebGPU");
    const frac = agreement(seg.labels, want);
    console.log(`# browser vs Node labels for camera 2: ${(100 * frac).toFixed(1)} % agree; read ${seg.readMs.toFixed(0)} ms, network ${seg.networkMs.toFixed(0)} ms`);
    assert.ok(frac >= 0.95, `only ${(100 * frac).toFixed(1)} % of labels agree`);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
