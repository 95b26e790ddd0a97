/** The synthetic indoor dataset generator (DATA.md §1): public entry points. */
export { SYNTH_CLASSES, SYNTH_CLASS_TABLE_VERSION, IGNORE_INDEX, classId, type SynthClass } from "./classes.ts";
export { generateLayout, roomTypeOf, ROOM_TYPES, type RoomType, type SceneLayout, type SceneObject } from "./layout.ts";
export { cameraWalk, clearance, MIN_CLEARANCE, HFOV } from "./trajectory.ts";
export { rasterizeMesh, type MeshRaster, type RasterMesh } from "./mesh-raster.ts";
export { renderGroundTruth, type GroundTruthFrame } from "./ground-truth.ts";
export { sampleGaussians, type GaussianSamplingOptions } from "./gaussians.ts";
export { buildScene, writeScene, sceneName, type SceneSpec, type SceneModel, type WrittenScene } from "./scene.ts";
export { synthesizeDataset, defaultTestScenes, type SynthOptions, type SynthResult, type DatasetJson } from "./dataset.ts";
export { writeContactSheet } from "./contact-sheet.ts";
export type { SceneMesh } from "./mesh.ts";
