import type { Command } from "commander";
import { ConfigError } from "../../core/errors.ts";
import { renderViews, type ViewSelection } from "../../pipeline/render-views.ts";
import { parseIntFlag, parseSize, parseThreads, printJson, say } from "../options.ts";

interface RenderFlags {
  view?: string;
  orbit?: string;
  size: string;
  out: string;
  features?: boolean;
  threads?: string;
  json?: boolean;
}

export function registerRender(program: Command): void {
  program
    .command("render")
    .description("render RGB, alpha, depth (16-bit mm) and optionally a feature PCA preview to PNG")
    .argument("<scene-or-file>", "a scene folder (point_cloud.ply + cameras.json, or Inria output) or a splat file")
    .option("--view <n>", "render camera N of the scene's cameras.json (sorted by id)")
    .option("--orbit <k>", "render K cameras orbiting the splats (for files without cameras)")
    .option("--size <WxH>", "image size in pixels", "640x480")
    .requiredOption("--out <dir>", "output folder")
    .option("--features", "also splat the f_pc_* channels and write a PCA preview")
    .option("--threads <n>", "worker threads (default: all cores; never changes the pixels)")
    .option("--json", "print one JSON object")
    .action(async (input: string, flags: RenderFlags) => {
      if ((flags.view === undefined) === (flags.orbit === undefined)) {
        throw new ConfigError("render", "give exactly one of --view N or --orbit K");
      }
      const views: ViewSelection =
        flags.view !== undefined ? { view: parseIntFlag(flags.view, "--view", 0) } : { orbit: parseIntFlag(flags.orbit!, "--orbit", 1, 360) };
      const { width, height } = parseSize(flags.size);
      const t0 = performance.now();
      const result = await renderViews({
        input,
        views,
        width,
        height,
        outDir: flags.out,
        features: flags.features,
        threads: parseThreads(flags.threads),
      });
      if (flags.json) return printJson({ files: result.files, views: result.cameras, splats: result.splats });
      const seconds = (performance.now() - t0) / 1000;
      say(false, `rendered ${result.cameras} view(s) of ${result.splats.toLocaleString("en-US")} splats in ${seconds.toFixed(1)} s → ${flags.out}`);
      for (const f of result.files) say(false, `  ${f}`);
    });
}
