/** Small in-memory scenes for the pre-training tests. */
import { Rng } from "../../src/core/rng.ts";
import { lookAtCamera } from "../../src/core/camera.ts";
import { allocateCloud } from "../../src/splat/cloud.ts";
import type { PretrainScene } from "../../src/train/pretrain/run.ts";

/** A ring of Gaussians seen by 12 cameras at its centre: neighbouring views overlap by about half. */
export function ringScene(seed: number): PretrainScene {
  const rng = new Rng(seed);
  const n = 500;
  const cloud = allocateCloud(n, 0);
  for (let i = 0; i < n; i++) {
    const t = rng.uniform(0, 2 * Math.PI);
    cloud.positions.set([3 * Math.cos(t), rng.uniform(-0.5, 0.5), 3 * Math.sin(t)], i * 3);
    cloud.logScales.set([-3, -3, -3], i * 3);
    cloud.opacityLogits[i] = rng.uniform(-2, 2);
    cloud.shDc.set([Math.cos(t), Math.sin(t), rng.uniform(-1, 1)], i * 3);
  }
  const cameras = Array.from({ length: 12 }, (_, v) => {
    const t = (2 * Math.PI * v) / 12;
    return lookAtCamera([0, 0, 0], [Math.cos(t), 0, Math.sin(t)], [0, -1, 0], { width: 64, height: 64, fx: 32 });
  });
  return { name: `ring${seed}`, cloud, cameras, trainViews: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11], valViews: [0, 1] };
}

