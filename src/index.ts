/**
 * rtgs2 as a library. The high-level entry points; everything else is importable from its module under src/.
 */
export { readSplat, readSplatSync, parseSplat, writeSplat, detectFormat, type SplatFile, type SplatFormat } from "./splat/io/index.ts";
export { allocateCloud, featureMatrix, cloudBounds, type GaussianCloud, type ShDegree } from "./splat/cloud.ts";
export { render, closeRenderWorkers, type RenderOptions, type RenderResult, type RenderStats } from "./render/render.ts";
export { featurePca } from "./render/feature-preview.ts";
export { lookAtCamera, projectPoint, cameraCenter, type Camera } from "./core/camera.ts";
export {
  orbitCameras,
  readInriaCameras,
  readTransformsJson,
  readReplicaTrajectory,
  readScanNetPose,
  cameraFromOpenCvC2W,
  cameraFromOpenGlC2W,
} from "./core/camera-convert.ts";
export { readPng, writePng, type Image } from "./core/image.ts";
export { Rng } from "./core/rng.ts";
export * from "./core/errors.ts";
export {
  Segmenter,
  segmentSize,
  resizeLabels,
  DEFAULT_VDVI_CHECKPOINT,
  type SegmentResult,
  type SegmentOptions,
  type SegmentTiming,
} from "./pipeline/segment.ts";
export { evaluate, type EvalOptions, type EvalResult } from "./eval/evaluate.ts";
export { trainSemantic, type TrainOptions, type TrainResult } from "./train/semantic/train.ts";
export { loadSceneFeatures, type SceneFeatures, type FeatureSource } from "./train/semantic/features.ts";
