/**
 * The browser viewer's assets: `viewer/index.html` and `viewer/main.ts` bundled by esbuild's JS API at server
 * start (about a second; nothing is written to disk), so a fresh clone needs no build step. Cached per process.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export interface ViewerAssets {
  html: string;
  js: string;
}

/** The `viewer/` folder of this checkout. */
export const VIEWER_DIR = fileURLToPath(new URL("../../viewer/", import.meta.url));

let cached: Promise<ViewerAssets> | undefined;

/** Bundle the viewer (once per process). */
export function buildViewerAssets(): Promise<ViewerAssets> {
  cached ??= (async () => {
    const result = await build({
      entryPoints: [`${VIEWER_DIR}main.ts`],
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      write: false,
      logLevel: "silent",
    });
    const js = result.outputFiles[0].text;
    const html = readFileSync(`${VIEWER_DIR}index.html`, "utf8");
    return { html, js };
  })();
  cached.catch(() => (cached = undefined));
  return cached;
}
