/**
 * A contact sheet of one generated scene: for a few frames, a row of RGB, depth, class and instance images,
 * read back from the files on disk (so it shows exactly what a reader gets). Used for the README picture.
 */
import { join } from "node:path";
import { colorizeLabels, composeGrid, createImage, defaultPalette, readLabelPng, readPng, writePng, type Image } from "../core/image.ts";
import { SYNTH_CLASSES } from "./classes.ts";

/** Compose the sheet for `frames` (indices) of the scene folder `sceneDir`, and write it to `outPath`. */
export function writeContactSheet(sceneDir: string, frames: readonly number[], outPath: string): Image {
  const tiles: Image[][] = frames.map((f) => {
    const file = `${String(f).padStart(6, "0")}.png`;
    const rgb = readPng(join(sceneDir, "rgb", file));
    const depth = readLabelPng(join(sceneDir, "depth", file));
    const sem = readLabelPng(join(sceneDir, "semantic", file));
    const inst = readLabelPng(join(sceneDir, "instance", file));
    const { width: w, height: h } = rgb;
    // Near is bright; 0 (invalid) stays black. Scaled to the frame's own far depth.
    const d = createImage(w, h, 3);
    let far = 1;
    for (const v of depth.labels) far = Math.max(far, v);
    depth.labels.forEach((v, i) => d.data.fill(v > 0 ? 1 - (0.85 * v) / far : 0, i * 3, i * 3 + 3));
    return [
      rgb,
      d,
      colorizeLabels(sem.labels, w, h, SYNTH_CLASSES.map((c) => c.color)),
      colorizeLabels(inst.labels, w, h, defaultPalette(97)),
    ];
  });
  const sheet = composeGrid(tiles);
  writePng(outPath, sheet);
  return sheet;
}
