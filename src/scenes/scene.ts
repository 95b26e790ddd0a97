/**
 * One synthetic scene end to end: layout → camera walk → ground-truth frames → Gaussians, and writing it in the
 * DATA.md layout. Scene i depends only on the dataset seed and i.
 */
import { join } from "node:path";
import type { Camera } from "../core/camera.ts";
import { writeInriaCameras } from "../core/camera-convert.ts";
import { depthToMillimetres, writeLabelPng, writePng } from "../core/image.ts";
import { Rng } from "../core/rng.ts";
import type { GaussianCloud } from "../splat/cloud.ts";
import { writePly } from "../splat/io/index.ts";
import { SYNTH_CLASS_TABLE_VERSION } from "./classes.ts";
import { sampleGaussians } from "./gaussians.ts";
import { renderGroundTruth } from "./ground-truth.ts";
import { generateLayout, type SceneLayout } from "./layout.ts";
import type { MeshRaster } from "./mesh-raster.ts";
import { cameraWalk } from "./trajectory.ts";

/** What a scene is made from. */
export interface SceneSpec {
  seed: number;
  index: number;
  frames: number;
  width: number;
  height: number;
  gaussians: number;
}

/** Scene folder name of scene `index`. */
export function sceneName(index: number): string {
  return `scene_${String(index).padStart(3, "0")}`;
}

/** Layout, cameras and Gaussians of a scene (no images). */
export interface SceneModel {
  layout: SceneLayout;
  cameras: Camera[];
  cloud: GaussianCloud;
}

/** Build a scene's layout, camera walk and Gaussians. */
export function buildScene(spec: SceneSpec): SceneModel {
  const rng = new Rng(spec.seed).fork(`scene-${spec.index}`);
  const layout = generateLayout(spec.seed, spec.index);
  const cameras = cameraWalk(layout, rng.fork("cameras"), spec.frames, spec.width, spec.height);
  const cloud = sampleGaussians(layout.mesh, layout.lighting, spec.gaussians, rng.fork("gaussians"), {
    bounds: { min: [0, 0, 0], max: [layout.width, layout.height, layout.depth] },
  });
  return { layout, cameras, cloud };
}

/** Summary of a written scene. */
export interface WrittenScene {
  name: string;
  gaussians: number;
  frames: number;
  roomType: string;
}

/** Generate scene `spec` and write it under `outDir/<sceneName>`; every file is written atomically. */
export function writeScene(outDir: string, spec: SceneSpec): WrittenScene {
  const name = sceneName(spec.index);
  const dir = join(outDir, name);
  const { layout, cameras, cloud } = buildScene(spec);
  let reuse: MeshRaster | undefined;
  cameras.forEach((cam, f) => {
    const gt = renderGroundTruth(layout.mesh, layout.lighting, cam, reuse);
    const file = `${cam.name ?? String(f).padStart(6, "0")}.png`;
    writePng(join(dir, "rgb", file), { width: gt.width, height: gt.height, channels: 3, data: gt.rgb });
    writeLabelPng(join(dir, "depth", file), depthToMillimetres(gt.depth), gt.width, gt.height);
    writeLabelPng(join(dir, "semantic", file), gt.semantic, gt.width, gt.height);
    writeLabelPng(join(dir, "instance", file), gt.instance, gt.width, gt.height);
  });
  writeInriaCameras(join(dir, "cameras.json"), cameras);
  writePly(join(dir, "point_cloud.ply"), cloud, {
    comments: [`rtgs2 synth seed ${spec.seed} scene ${spec.index} room ${layout.roomType} classes ${SYNTH_CLASS_TABLE_VERSION}`],
  });
  return { name, gaussians: cloud.count, frames: cameras.length, roomType: layout.roomType };
}
