import type { Command } from "commander";
import { join } from "node:path";
import { orbitCameras } from "../../core/camera-convert.ts";
import { writePng } from "../../core/image.ts";
import { createProgress } from "../../core/progress.ts";
import { render } from "../../render/render.ts";
import { syntheticRoomCloud } from "../../splat/synthetic.ts";
import { printJson, say } from "../options.ts";

/**
 * Until the segmentation pipeline exists, the demo renders a procedural room with the CPU rasterizer and says
 * plainly that this is all it does.
 */
export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("run rtgs2 on built-in synthetic data (today: renders a procedural room; segmentation is not built yet)")
    .option("--out <dir>", "output folder", "demo-output")
    .option("--json", "print one JSON object")
    .action(async (flags: { out: string; json?: boolean }) => {
      const t0 = performance.now();
      say(flags.json, "rtgs2 demo: the segmentation pipeline is not implemented yet (see README, 'Not implemented yet').");
      say(flags.json, "Rendering a procedural 150k-splat room with the CPU rasterizer instead…");
      const cloud = syntheticRoomCloud(150_000);
      // Views from the open side of the room (its two walls would hide the inside from behind).
      const cams = [-70, -35, 0].map((azimuthOffsetDeg) => orbitCameras(cloud.positions, 1, { width: 640, height: 480, azimuthOffsetDeg, elevationDeg: 25 })[0]);
      const files: string[] = [];
      const progress = createProgress("render", cams.length);
      for (const [i, cam] of cams.entries()) {
        const out = await render(cloud, cam);
        const file = join(flags.out, `room-${i}.png`);
        writePng(file, { width: out.width, height: out.height, channels: 3, data: out.rgb });
        files.push(file);
        progress.tick();
      }
      progress.done();
      const seconds = (performance.now() - t0) / 1000;
      if (flags.json) return printJson({ report: null, mIoU: null, seconds, files });
      say(false, `Wrote ${files.length} renders to ${flags.out}/ in ${seconds.toFixed(1)} s: ${files.join(", ")}`);
    });
}
