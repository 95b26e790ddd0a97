/**
 * The viewer in headless Chromium against the CPU rasterizer: the same dataset camera, the same size, screenshots
 * compared pixel by pixel, for the WebGPU renderer (SwiftShader) and the WebGL2 fallback.
 *
 * Tolerance: mean absolute difference ≤ 1 (of 255) per channel and at most 0.5 % of values off by more than 8.
 * Both renderers evaluate the same Gaussians at the same pixels (quads cover exactly the tile rectangle ∩ the
 * α ≥ 1/255 ellipse box), so what remains is float32 vs float64 arithmetic, the float16 accumulation target
 * (~1e-3 relative per blend) and 8-bit rounding: measured MAD 0.06, max 2. A wrong convention (a half-pixel
 * offset, a missing 0.3 dilation, back-to-front order, another camera) gives MAD of several units or more; the
 * test checks that too by comparing with the render of another camera.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { orbitCameras } from "../../src/core/camera-convert.ts";
import type { Camera } from "../../src/core/camera.ts";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeRenderWorkers, render } from "../../src/render/render.ts";
import type { GaussianCloud } from "../../src/splat/cloud.ts";
import { writePly } from "../../src/splat/io/index.ts";
import { syntheticRoomCloud } from "../../src/splat/synthetic.ts";
import { startViewServer, type ViewServer } from "../../src/viewer-server/server.ts";
import { hashColor } from "../../viewer/prepare.ts";
import type {} from "../../viewer/api.ts";
import { compareToFloat, decodePng, launchChromium, openViewer, pixelStd } from "./chromium.ts";

const SIZE = { width: 160, height: 120 };
let cloud: GaussianCloud;
let cams: Camera[];
let srv: ViewServer;

before(async () => {
  cloud = syntheticRoomCloud(3000, 5);
  cloud.extras.set("label", Uint16Array.from({ length: cloud.count }, (_, i) => (i * 7919) % 6));
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-viewer-"));
  writePly(join(dir, "room.ply"), cloud);
  srv = await startViewServer({ scene: join(dir, "room.ply"), port: 0, defaultSize: SIZE });
  cams = orbitCameras(cloud.positions, 8, SIZE);
});

after(async () => {
  await srv?.close();
  await closeRenderWorkers();
});

function open(browser: Browser, query: string): Promise<Page> {
  return openViewer(browser, `${srv.url}?ui=0&${query}`);
}

async function shot(page: Page) {
  const img = decodePng(await page.locator("#canvas").screenshot());
  assert.equal(img.width, SIZE.width);
  assert.equal(img.height, SIZE.height);
  return img;
}

/** Per-Gaussian class colours as the viewer draws them (no class table: hashColor), as 3-channel features. */
function labelFeatures(): Float32Array {
  const labels = cloud.extras.get("label")!;
  const out = new Float32Array(cloud.count * 3);
  for (let i = 0; i < cloud.count; i++) {
    const c = hashColor(labels[i]);
    for (let k = 0; k < 3; k++) out[i * 3 + k] = c[k] / 255;
  }
  return out;
}

/** `extra`: also the other-camera control and the depth mode (run on one back-end only, to keep each test short). */
async function checkBackend(backend: "webgpu" | "webgl2", extra: boolean) {
  const browser = await launchChromium(backend);
  try {
    const page = await open(browser, `backend=${backend}&cam=2`);
    assert.equal(await page.evaluate(() => window.rtgs2Viewer.backend), backend);
    const img = await shot(page);
    assert.ok(pixelStd(img) > 10, "canvas is blank");
    const ref = await render(cloud, cams[2], { threads: 1 });
    const cmp = compareToFloat(img, ref.rgb);
    assert.ok(cmp.mad <= 1 && cmp.overFraction <= 0.005, `${backend} vs CPU: ${JSON.stringify(cmp)}`);
    if (extra) {
      // The comparison can tell views apart: another camera's CPU render is far off.
      const other = compareToFloat(img, (await render(cloud, cams[3], { threads: 1 })).rgb);
      assert.ok(other.mad > 5, `another camera should differ: ${JSON.stringify(other)}`);
    }

    // Lifted labels: class colours blended with the same weights, no background (black).
    await page.evaluate(async () => {
      window.rtgs2Viewer.setMode("labels");
      await window.rtgs2Viewer.renderNow();
    });
    const lab = await shot(page);
    const refLab = await render(cloud, cams[2], { threads: 1, features: { values: labelFeatures(), channels: 3 } });
    const cmpLab = compareToFloat(lab, refLab.features!);
    assert.ok(cmpLab.mad <= 1 && cmpLab.overFraction <= 0.005, `${backend} labels vs CPU: ${JSON.stringify(cmpLab)}`);

    if (!extra) return;
    // Depth mode draws something different from RGB.
    await page.evaluate(async () => {
      window.rtgs2Viewer.setMode("depth");
      await window.rtgs2Viewer.renderNow();
    });
    const depth = await shot(page);
    assert.ok(pixelStd(depth) > 10 && compareToFloat(depth, ref.rgb).mad > 5, "depth view");
  } finally {
    await browser.close();
  }
}

test("WebGPU renderer (SwiftShader) matches the CPU rasterizer for a dataset camera", async () => {
  await checkBackend("webgpu", false);
});

test("WebGL2 fallback matches the CPU rasterizer for a dataset camera", async () => {
  await checkBackend("webgl2", true);
});

test("the viewer refuses a backend it cannot get with a visible error, and the server refuses traversal from the page", async () => {
  const browser = await launchChromium("webgl2");
  try {
    const page = await browser.newPage();
    await page.goto(`${srv.url}?ui=0&backend=webgpu`);
    // Default flags: presenting WebGPU to a canvas fails or WebGPU is missing; either way the viewer must say so
    // when WebGPU was asked for explicitly, rather than render nothing silently.
    const res = await page.evaluate(() => window.rtgs2Viewer.ready.then(() => "ok", (e: unknown) => `error: ${String(e)}`));
    if (res !== "ok") assert.match(await page.locator("#error").innerText(), /error/);
    const status = await page.evaluate(async () => (await fetch("/scene/%2e%2e/%2e%2e/etc/passwd")).status);
    assert.equal(status, 403);
  } finally {
    await browser.close();
  }
});
