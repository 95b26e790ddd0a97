/**
 * `rtgs2 synth`: a whole synthetic dataset in the DATA.md layout. Scenes are generated in parallel, one worker
 * thread per core, each pulling the next scene index when it finishes the last; the bytes never depend on the
 * thread count because scene i depends only on the seed and i.
 */
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../core/errors.ts";
import { writeFileAtomic } from "../core/fs.ts";
import { createProgress } from "../core/progress.ts";
import { WorkerPool } from "../core/worker-pool.ts";
import { IGNORE_INDEX, SYNTH_CLASSES, SYNTH_CLASS_TABLE_VERSION } from "./classes.ts";
import { sceneName, writeScene, type SceneSpec, type WrittenScene } from "./scene.ts";

export interface SynthOptions {
  outDir: string;
  scenes: number;
  frames: number;
  width: number;
  height: number;
  seed: number;
  /** Gaussians per scene (default 150 000). */
  gaussians?: number;
  /** The last T scenes form the test split; default max(1, round(N / 5)). */
  testScenes?: number;
  /** Worker threads (default: all cores); 1 generates on the calling thread. */
  threads?: number;
  /** Silence the progress bar. */
  quiet?: boolean;
}

/** The `--json` summary of `rtgs2 synth`. */
export interface SynthResult {
  scenes: number;
  frames: number;
  classes: number;
  gaussians: number;
  seconds: number;
  train: string[];
  test: string[];
}

/** The `dataset.json` document. */
export interface DatasetJson {
  name: string;
  classTableVersion: string;
  classes: { id: number; name: string; color: [number, number, number] }[];
  ignoreIndex: number;
  generator: { seed: number; scenes: number; frames: number; width: number; height: number; gaussians: number };
  scenes: { name: string; roomType: string; gaussians: number; frames: number }[];
  /** `val` maps each train scene to its novel-view frame indices (index % 8 == 0), held out for model selection. */
  splits: { train: string[]; test: string[]; val: Record<string, number[]> };
}

/** Default test-split size for N scenes (ARCHITECTURE.md §5): max(1, round(N / 5)), so one scene is all test. */
export function defaultTestScenes(n: number): number {
  return Math.max(1, Math.round(n / 5));
}

/** Generate the dataset. */
export async function synthesizeDataset(options: SynthOptions): Promise<SynthResult> {
  const t0 = performance.now();
  const { outDir, scenes: n, frames, width, height, seed } = options;
  const gaussians = options.gaussians ?? 150_000;
  const test = options.testScenes ?? defaultTestScenes(n);
  if (!Number.isInteger(test) || test < 0 || test > n) throw new ConfigError("--test-scenes", `must be an integer in 0..${n}, got ${test}`);
  if (gaussians < 1000) throw new ConfigError("--gaussians", `must be at least 1000, got ${gaussians}`);
  const specs: SceneSpec[] = Array.from({ length: n }, (_, index) => ({ seed, index, frames, width, height, gaussians }));
  const threads = Math.max(1, Math.min(options.threads ?? availableParallelism(), n));
  const progress = createProgress("synth scenes", n, { quiet: options.quiet });
  const written: WrittenScene[] = new Array(n);
  try {
    if (threads === 1) {
      for (const spec of specs) {
        written[spec.index] = writeScene(outDir, spec);
        progress.tick();
      }
    } else {
      // One single-worker pool per thread, so each worker takes the next scene as soon as it is free.
      const ext = import.meta.url.slice(import.meta.url.lastIndexOf("."));
      const pools = Array.from({ length: threads }, () => new WorkerPool(new URL(`./worker${ext}`, import.meta.url), 1));
      let next = 0;
      try {
        await Promise.all(
          pools.map(async (pool) => {
            while (next < n) {
              const spec = specs[next++];
              const [result] = await pool.broadcast<WrittenScene>(() => ({ outDir, spec }));
              written[spec.index] = result;
              progress.tick();
            }
          }),
        );
      } finally {
        await Promise.all(pools.map((p) => p.close()));
      }
    }
  } finally {
    progress.done();
  }
  const names = specs.map((s) => sceneName(s.index));
  const train = names.slice(0, n - test), testNames = names.slice(n - test);
  const val: Record<string, number[]> = {};
  for (const name of train) val[name] = Array.from({ length: Math.ceil(frames / 8) }, (_, k) => k * 8);
  const doc: DatasetJson = {
    name: `rtgs2-synth-seed${seed}`,
    classTableVersion: SYNTH_CLASS_TABLE_VERSION,
    classes: SYNTH_CLASSES.map((c) => ({ id: c.id, name: c.name, color: [...c.color] })),
    ignoreIndex: IGNORE_INDEX,
    generator: { seed, scenes: n, frames, width, height, gaussians },
    scenes: written.map((w) => ({ name: w.name, roomType: w.roomType, gaussians: w.gaussians, frames: w.frames })),
    splits: { train, test: testNames, val },
  };
  writeFileAtomic(join(outDir, "dataset.json"), JSON.stringify(doc, null, 1) + "\n");
  return {
    scenes: n,
    frames,
    classes: SYNTH_CLASSES.length,
    gaussians: written.reduce((s, w) => s + w.gaussians, 0),
    seconds: (performance.now() - t0) / 1000,
    train,
    test: testNames,
  };
}
