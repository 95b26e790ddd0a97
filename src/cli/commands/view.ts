import type { Command } from "commander";
import { parseIntFlag } from "../options.ts";
import { startViewServer } from "../../viewer-server/server.ts";

export function registerView(program: Command): void {
  program
    .command("view")
    .description("browser viewer on 127.0.0.1: splats (WebGPU, WebGL2 fallback), depth, feature PCA, lifted labels, live segmentation (--model)")
    .argument("<scene>", "scene folder (any supported layout) or a single splat file")
    .option("--model <ckpt>", "VDVI checkpoint for the live segmentation mode (runs in the page through jax-js; served at /api/model.safetensors)")
    .option("--port <port>", "TCP port (0 picks a free one)", "0")
    .option("--no-open", "accepted for scripts; the server never opens a browser itself")
    .action(async (scene: string, opts: { model?: string; port: string }) => {
      const port = parseIntFlag(opts.port, "--port", 0, 65535);
      const server = await startViewServer({ scene, model: opts.model, port });
      process.stdout.write(`${server.url}\n`);
      process.stderr.write(
        `serving ${server.info.name}: ${server.info.count.toLocaleString("en-US")} splats, ${server.info.cameras} cameras` +
          `${server.info.orbitCameras ? " (orbit views)" : ""}; Ctrl-C stops\n`,
      );
      await new Promise<void>((done) => {
        const stop = () => void server.close().then(done);
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });
}
