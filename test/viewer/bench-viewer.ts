/**
 * Viewer frame rate in headless Chromium (not part of `npm test`):
 *   npx tsx test/viewer/bench-viewer.ts SCENE_OR_FILE [--size 640x480] [--frames 20] [--backend webgpu,webgl2]
 *     [--screenshot OUT.png] [--mode rgb|depth|pca|labels|segmentation] [--cam N]
 *     [--model CKPT [--nn webgpu|webgl|wasm] [--seg N]]
 * Prints one JSON object. Each frame turns the camera (so it sorts anew), draws, and waits for the GPU. Here the
 * GPU is SwiftShader, a software rasterizer on the CPU: these figures say nothing about a real GPU.
 * With `--model`, the live segmentation of the preset view is timed too, after the frame-rate run (which uses
 * `--mode`), in the segmentation mode: the first run (weights, jax-js device,
 * kernel compilation) and the mean of N more (offscreen passes + read-back, network forward + logits read-back).
 */
import { writeFileSync } from "node:fs";
import { parseSize } from "../../src/cli/options.ts";
import { startViewServer } from "../../src/viewer-server/server.ts";
import type { SegmentationInfo } from "../../viewer/api.ts";
import { launchChromium } from "./chromium.ts";

const args = process.argv.slice(2);
const flag = (name: string, def: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const scene = args[0];
const size = parseSize(flag("--size", "640x480"));
const frames = Number(flag("--frames", "20"));
const backends = flag("--backend", "webgpu,webgl2").split(",") as ("webgpu" | "webgl2")[];
const shotPath = flag("--screenshot", "");
const mode = flag("--mode", "rgb");
const cam = flag("--cam", "0");
const model = flag("--model", "");
const nn = flag("--nn", "");
const segRuns = Number(flag("--seg", "3"));

const srv = await startViewServer({ scene, port: 0, defaultSize: size, model: model || undefined });
const results: Record<string, unknown> = { scene, splats: srv.info.count, width: size.width, height: size.height, frames, gpu: "SwiftShader (software)" };
try {
  for (const backend of backends) {
    const browser = await launchChromium(backend);
    try {
      const page = await browser.newPage({ viewport: { width: size.width + (shotPath ? 260 : 0), height: size.height }, deviceScaleFactor: 1 });
      const ui = shotPath ? "1" : "0";
      await page.goto(`${srv.url}?backend=${backend}&size=${size.width}x${size.height}&cam=${cam}&mode=${mode}&ui=${ui}${nn ? `&nn=${nn}` : ""}`);
      await page.evaluate(() => window.rtgs2Viewer.ready);
      await page.evaluate(() => window.rtgs2Viewer.bench(2)); // warm-up
      const r: Record<string, unknown> = await page.evaluate((n) => window.rtgs2Viewer.bench(n), frames);
      if (model) {
        await page.evaluate(() => window.rtgs2Viewer.setMode("segmentation"));
        const t0 = Date.now();
        const first = await page.evaluate(() => window.rtgs2Viewer.segment());
        const firstMs = Date.now() - t0;
        const runs: SegmentationInfo[] = [];
        for (let k = 0; k < segRuns; k++) runs.push(await page.evaluate(() => window.rtgs2Viewer.segment()));
        const mean = (f: (x: SegmentationInfo) => number) => runs.reduce((a, x) => a + f(x), 0) / Math.max(1, runs.length);
        r.segmentation = {
          device: first.device,
          input: `${first.width}x${first.height}`,
          firstRunMs: firstMs,
          runs: runs.length,
          readMs: mean((x) => x.readMs),
          networkMs: mean((x) => x.networkMs),
          classesSeen: new Set(first.labels).size,
        };
      }
      results[backend] = r;
      if (shotPath && backend === backends[0]) {
        await page.evaluate(() => window.rtgs2Viewer.renderNow());
        await page.waitForTimeout(1200); // let the FPS overlay refresh
        writeFileSync(shotPath, await page.screenshot());
      }
    } finally {
      await browser.close();
    }
  }
} finally {
  await srv.close();
}
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
