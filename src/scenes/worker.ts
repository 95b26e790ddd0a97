/** Synth worker entry: generates and writes one scene per message. */
import { serveWorker } from "../core/worker-pool.ts";
import { writeScene, type SceneSpec } from "./scene.ts";

await serveWorker((payload) => {
  const { outDir, spec } = payload as { outDir: string; spec: SceneSpec };
  return writeScene(outDir, spec);
});
