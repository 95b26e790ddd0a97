/**
 * A tiny synthetic dataset for the stage-3 tests: a few scenes × few frames at 64×48 with few Gaussians, whose
 * `f_pc_*` features are a deterministic function of each Gaussian's ground-truth class and position (a noisy
 * class code, L2-normalized), written into the plys with an encoder comment. The features carry the class, so a
 * tiny network can learn the task in a few hundred steps: the test checks the training machinery, not the model.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthesizeDataset } from "../../src/scenes/dataset.ts";
import { readSplatSync, writeSplat } from "../../src/splat/io/index.ts";

/** Encoder id written into the fixture plys. */
export const FIXTURE_ENCODER = "fixture-class-code-v1";

/** Class code features of one Gaussian: the class's fixed random ±1 code plus a small positional term, unit length. */
export function classFeature(label: number, x: number, y: number, z: number, out: Float32Array): void {
  let n = 0;
  for (let k = 0; k < 32; k++) {
    // A fixed pseudo-random sign per (class, channel); unknown labels get an all-small vector.
    const h = Math.sin((label + 1) * 12.9898 + k * 78.233) * 43758.5453;
    const sign = label === 65535 ? 0 : h - Math.floor(h) < 0.5 ? -1 : 1;
    const v = sign + 0.1 * Math.sin(3 * x + 5 * y + 7 * z + k);
    out[k] = v;
    n += v * v;
  }
  const inv = 1 / Math.sqrt(n);
  for (let k = 0; k < 32; k++) out[k] *= inv;
}

/** Write class-code features into every scene ply of `dir`. */
export function addFixtureFeatures(dir: string, scenes: readonly string[]): void {
  for (const name of scenes) {
    const path = join(dir, name, "point_cloud.ply");
    const { cloud } = readSplatSync(path);
    const label = cloud.extras.get("label");
    if (label === undefined) throw new Error(`${path}: no label property`);
    const cols = Array.from({ length: 32 }, () => new Float32Array(cloud.count));
    const f = new Float32Array(32);
    for (let i = 0; i < cloud.count; i++) {
      const p = cloud.positions;
      classFeature(label[i], p[i * 3], p[i * 3 + 1], p[i * 3 + 2], f);
      for (let k = 0; k < 32; k++) cols[k][i] = f[k];
    }
    cols.forEach((c, k) => cloud.extras.set(`f_pc_${k}`, c));
    writeSplat(path, cloud, { comments: [`rtgs2 encoder ${FIXTURE_ENCODER}`] });
  }
}

/** A fresh tiny dataset in a temporary folder; `cleanup()` removes it. */
export async function tinyDataset(options: { scenes?: number; frames?: number; gaussians?: number; seed?: number } = {}): Promise<{
  dir: string;
  train: string[];
  test: string[];
  cleanup: () => void;
}> {
  const root = mkdtempSync(join(tmpdir(), "rtgs2-sem-"));
  const dir = join(root, "ds");
  const r = await synthesizeDataset({
    outDir: dir,
    scenes: options.scenes ?? 3,
    frames: options.frames ?? 9,
    width: 64,
    height: 48,
    seed: options.seed ?? 1,
    gaussians: options.gaussians ?? 4000,
    testScenes: 1,
    threads: 1,
    quiet: true,
  });
  addFixtureFeatures(dir, [...r.train, ...r.test]);
  return { dir, train: r.train, test: r.test, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
