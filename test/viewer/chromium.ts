/**
 * Headless Chromium for the viewer tests (playwright-core driving Debian's `chromium`). WebGPU runs on SwiftShader
 * (a software GPU) with `--enable-unsafe-webgpu --enable-features=Vulkan --use-vulkan=swiftshader
 * --use-angle=vulkan`: with `--enable-unsafe-webgpu` alone an adapter and device come up but presenting to a
 * canvas fails ("A valid external Instance reference no longer exists" and the device is lost). Those flags
 * take WebGL2 away, so the WebGL2 fallback runs in a second browser with the default flags (ANGLE on SwiftShader).
 */
import { existsSync } from "node:fs";
import { chromium, type Browser, type ConsoleMessage, type Page } from "playwright-core";
import assert from "node:assert/strict";
import type {} from "../../viewer/api.ts";
import { PNG } from "pngjs";

export const CHROMIUM = process.env.RTGS2_CHROMIUM ?? "/usr/bin/chromium";

export const WEBGPU_FLAGS = ["--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-vulkan=swiftshader", "--use-angle=vulkan"];

export async function launchChromium(backend: "webgpu" | "webgl2"): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `chromium not found at ${CHROMIUM}: the viewer tests need it (apt-get install chromium mesa-vulkan-drivers, or set RTGS2_CHROMIUM)`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: backend === "webgpu" ? WEBGPU_FLAGS : [] });
}

/** RGBA8 pixels of a PNG. */
export function decodePng(buf: Buffer): { width: number; height: number; data: Uint8Array } {
  const png = PNG.sync.read(buf);
  return { width: png.width, height: png.height, data: new Uint8Array(png.data) };
}

/**
 * Compare a screenshot (RGBA8) with a float RGB image (clamped to [0, 1], ×255): mean absolute difference per
 * channel in 8-bit steps, the largest difference, and the fraction of channel values off by more than 8.
 */
export function compareToFloat(shot: { width: number; height: number; data: Uint8Array }, rgb: Float32Array) {
  let sum = 0, max = 0, over = 0;
  const n = shot.width * shot.height;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const want = Math.round(Math.min(1, Math.max(0, rgb[i * 3 + c])) * 255);
      const d = Math.abs(shot.data[i * 4 + c] - want);
      sum += d;
      if (d > max) max = d;
      if (d > 8) over++;
    }
  }
  return { mad: sum / (3 * n), max, overFraction: over / (3 * n) };
}

/** Standard deviation of the screenshot's RGB values: ~0 for a blank canvas. */
export function pixelStd(shot: { data: Uint8Array }): number {
  let s = 0, s2 = 0, n = 0;
  for (let i = 0; i < shot.data.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      const v = shot.data[i + c];
      s += v;
      s2 += v * v;
      n++;
    }
  }
  const m = s / n;
  return Math.sqrt(Math.max(0, s2 / n - m * m));
}

/**
 * Open the viewer at `url` in a 320×240 page and wait until it is ready (failing the test with the viewer's own
 * error otherwise); console errors and page errors go to `errors` when given.
 */
export async function openViewer(browser: Browser, url: string, errors?: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 320, height: 240 }, deviceScaleFactor: 1 });
  if (errors !== undefined) {
    page.on("console", (m: ConsoleMessage) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(e.message));
  }
  await page.goto(url);
  const ready = await page.evaluate(() =>
    window.rtgs2Viewer.ready.then(
      (r) => ({ ok: true as const, ...r }),
      (e: unknown) => ({ ok: false as const, error: String(e) }),
    ),
  );
  assert.ok(ready.ok, `viewer failed: ${"error" in ready ? ready.error : ""}`);
  return page;
}
