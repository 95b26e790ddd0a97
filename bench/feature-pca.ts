/**
 * The README's stage-1 picture (issue 6): for a few frames of a test room, the ground-truth RGB and classes, then
 * the per-Gaussian features of each given encoding splatted by the tile renderer and projected to RGB by PCA
 * (`featurePca`: 3 principal components of the covered pixels, 1–99 % stretch).
 *
 *   node --import tsx bench/feature-pca.ts --out FILE.png --frames 0,12,24 SCENE_DIR [SCENE_DIR …]
 *
 * Every SCENE_DIR is the same room encoded by a different encoder (`rtgs2 encode --scene`); the first one's
 * rgb/ and semantic/ give the first two columns.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readInriaCameras } from "../src/core/camera-convert.ts";
import { colorizeLabels, composeGrid, readLabelPng, readPng, writePng, type Image } from "../src/core/image.ts";
import { featurePca } from "../src/render/feature-preview.ts";
import { closeRenderWorkers, render } from "../src/render/render.ts";
import { SYNTH_CLASSES } from "../src/scenes/classes.ts";
import { readSplatSync } from "../src/splat/io/index.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { out: { type: "string" }, frames: { type: "string", default: "0,12,24" } },
});
if (values.out === undefined || positionals.length === 0) {
  process.stderr.write("usage: feature-pca.ts --out FILE.png [--frames 0,12,24] SCENE_DIR [SCENE_DIR …]\n");
  process.exit(2);
}
const frames = values.frames.split(",").map(Number);
const first = positionals[0];
const cameras = readInriaCameras(join(first, "cameras.json"));
const clouds = positionals.map((dir) => readSplatSync(join(dir, "point_cloud.ply")).cloud);
const rows: Image[][] = [];
for (const f of frames) {
  const file = `${String(f).padStart(6, "0")}.png`;
  const rgb = readPng(join(first, "rgb", file));
  const sem = readLabelPng(join(first, "semantic", file));
  const row: Image[] = [rgb, colorizeLabels(sem.labels, rgb.width, rgb.height, SYNTH_CLASSES.map((c) => c.color))];
  for (const cloud of clouds) {
    const out = await render(cloud, cameras[f], { features: "f_pc_" });
    row.push(featurePca(out.features as Float32Array, out.featureChannels, rgb.width, rgb.height, out.alpha));
  }
  rows.push(row);
}
await closeRenderWorkers();
writePng(values.out, composeGrid(rows));
process.stdout.write(`${values.out}: ${frames.length} frames × ${2 + clouds.length} columns\n`);
