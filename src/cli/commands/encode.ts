/**
 * `rtgs2 encode [--encoder CKPT] (--data DIR | --scene DIR) [--sidecar] [--chunk N] [--up DIR] [--json]`: the frozen
 * Gaussian encoder over every scene, its 32-d features stored as `f_pc_0..31` in a project scene's ply or in a
 * `features.safetensors` sidecar (src/pipeline/encode.ts; ARCHITECTURE.md §4, §5). Scenes already encoded with
 * the same encoder are skipped. jax-js is imported only when the command runs.
 */
import type { Command } from "commander";
import { createProgress } from "../../core/progress.ts";
import { parseIntFlag, printJson, say } from "../options.ts";
import { parseUpChoice } from "../../models/gaussian-encoder/orientation.ts";

interface EncodeFlags {
  encoder?: string;
  data?: string;
  scene?: string;
  sidecar?: boolean;
  chunk?: string;
  up: string;
  json?: boolean;
}

export function registerEncode(program: Command): void {
  program
    .command("encode")
    .description("per-Gaussian encoder features (f_pc_0..31) for every scene of a dataset, or for one scene")
    .option("--encoder <ckpt>", "Gaussian-encoder checkpoint, or random:<seed> for the untrained control (default: the package's checkpoints/encoder-lite.safetensors)")
    .option("--data <dir>", "project-layout dataset folder (every train and test scene)")
    .option("--scene <dir>", "one scene folder of any supported layout")
    .option("--sidecar", "write SCENE/features.safetensors instead of rewriting a project scene's ply")
    .option("--chunk <n>", "most Gaussians in one chunk's core (memory bound)", "60000")
    .option(
      "--up <dir>",
      "the scene's up, turned to the encoder's when it was pre-trained about one axis: auto (the cameras' mean image up, snapped to an axis within 15°), none, or +x -x +y -y +z -z",
      "auto",
    )
    .option("--json", "print one JSON object")
    .action(async (flags: EncodeFlags) => {
      const chunkPoints = parseIntFlag(flags.chunk ?? "60000", "--chunk", 1000);
      const up = parseUpChoice(flags.up);
      const { encodeScenes, scenesToEncode, loadEncoder, defaultEncoderPath } = await import("../../pipeline/encode.ts");
      const scenes = scenesToEncode({ data: flags.data, scene: flags.scene });
      // Fail on a missing or bad checkpoint before starting the engine.
      const encoderPath = flags.encoder ?? defaultEncoderPath();
      loadEncoder(encoderPath);
      const { initEngine } = await import("../../nn/engine/index.ts");
      await initEngine();
      const bar = createProgress("encode", scenes.length);
      const result = encodeScenes(scenes, encoderPath, {
        sidecar: flags.sidecar === true,
        chunkPoints,
        up,
        onScene: (_r, done) => bar.update(done),
      });
      bar.done();
      if (flags.json) {
        return printJson({
          scenes: result.scenes,
          gaussians: result.gaussians,
          seconds: result.seconds,
          encoder: result.encoder,
          encoded: result.results.filter((r) => !r.skipped).length,
          skipped: result.results.filter((r) => r.skipped).length,
          results: result.results,
        });
      }
      for (const r of result.results) {
        const turned = r.rotated && r.up !== null ? ` (scene up ${r.up.map((v) => v.toFixed(3)).join(",")} turned to the encoder's)` : "";
        say(false, `${r.scene}: ${r.gaussians} Gaussians ${r.skipped ? "already encoded" : `encoded in ${r.seconds.toFixed(1)} s${turned}`} → ${r.path}`);
      }
      say(false, `${result.scenes} scenes, ${result.gaussians} Gaussians, ${result.seconds.toFixed(1)} s (encoder ${result.encoder.slice(0, 12)})`);
    });
}
