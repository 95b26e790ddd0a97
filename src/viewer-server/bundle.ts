/**
 * The browser viewer's assets: `viewer/index.html` and `viewer/main.ts` bundled by esbuild's JS API at server
 * start (a few seconds with jax-js; nothing is written to disk), so a fresh clone needs no build step. Cached per
 * process.
 *
 * The bundle includes the VDVI model code of `src/models/vdvi` as it is. Its one Node-only dependency is the jax
 * door `src/nn/jax.ts` (it evaluates the Node engine shim first); the plugin below resolves that module to
 * `viewer/jax.ts`, which re-exports `@jax-js/jax` alone.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

export interface ViewerAssets {
  html: string;
  js: string;
}

/** The `viewer/` folder of this checkout. */
export const VIEWER_DIR = fileURLToPath(new URL("../../viewer/", import.meta.url));

let cached: Promise<ViewerAssets> | undefined;

/** The Node jax door (`src/nn/jax.ts`, and so its Node-only engine shim) → the browser door `viewer/jax.ts`. */
const NODE_JAX = fileURLToPath(new URL("../nn/jax.ts", import.meta.url));
const browserJax: Plugin = {
  name: "rtgs2-browser-jax",
  setup(b) {
    b.onResolve({ filter: /\/jax\.ts$/ }, (args) => {
      const abs = fileURLToPath(new URL(args.path, `file://${args.resolveDir}/`));
      return abs === NODE_JAX ? { path: `${VIEWER_DIR}jax.ts` } : undefined;
    });
  },
};

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
      plugins: [browserJax],
    });
    const js = result.outputFiles[0].text;
    const html = readFileSync(`${VIEWER_DIR}index.html`, "utf8");
    return { html, js };
  })();
  cached.catch(() => (cached = undefined));
  return cached;
}
