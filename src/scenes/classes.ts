/**
 * The frozen class table of the synthetic indoor dataset. Ids are array positions; `dataset.json` records the table
 * with `SYNTH_CLASS_TABLE_VERSION`, and a checkpoint trained on another version is refused, so any change here
 * (order, names, additions) must bump the version.
 */

/** One class: id, name and display colour (0–255 RGB). */
export interface SynthClass {
  id: number;
  name: string;
  color: readonly [number, number, number];
}

/** Bump on any change to `SYNTH_CLASSES`. */
export const SYNTH_CLASS_TABLE_VERSION = "synth-v1";

const TABLE: readonly (readonly [string, readonly [number, number, number]])[] = [
  ["wall", [174, 199, 232]],
  ["floor", [152, 223, 138]],
  ["ceiling", [120, 120, 120]],
  ["door", [214, 39, 40]],
  ["window", [197, 176, 213]],
  ["curtain", [219, 219, 141]],
  ["picture", [196, 156, 148]],
  ["rug", [140, 86, 75]],
  ["table", [255, 152, 150]],
  ["desk", [247, 182, 210]],
  ["chair", [188, 189, 34]],
  ["sofa", [140, 86, 160]],
  ["bed", [255, 187, 120]],
  ["nightstand", [31, 119, 180]],
  ["cabinet", [44, 160, 44]],
  ["refrigerator", [255, 127, 14]],
  ["shelf", [148, 103, 189]],
  ["counter", [23, 190, 207]],
  ["lamp", [227, 119, 194]],
  ["ceiling-light", [255, 255, 100]],
  ["monitor", [82, 84, 163]],
  ["plant", [44, 100, 44]],
  ["book", [158, 218, 229]],
  ["vase", [100, 200, 100]],
  ["pillow", [200, 80, 120]],
  ["box", [112, 128, 144]],
  ["cup", [230, 100, 50]],
  ["bottle", [60, 60, 200]],
];

/** The class table, frozen. */
export const SYNTH_CLASSES: readonly SynthClass[] = Object.freeze(
  TABLE.map(([name, color], id) => Object.freeze({ id, name, color })),
);

/** Label of pixels and Gaussians with no class. */
export { IGNORE_LABEL as IGNORE_INDEX } from "../core/image.ts";

/** Class id by name; throws on a typo so builders cannot silently emit a wrong id. */
export function classId(name: string): number {
  const c = SYNTH_CLASSES.find((k) => k.name === name);
  if (!c) throw new Error(`unknown synthetic class "${name}"`);
  return c.id;
}
