/**
 * Class tables of the real datasets (DATA.md §3) and the lookup tables that turn the raw ids stored in a
 * dataset's label images into training indices. In every table a class's training index is its position in
 * the list; raw ids outside the list go to 0 or to the ignore index, as the table's source code does.
 *
 * The lists are constants copied from the datasets' and papers' code; test/datasets/class-tables.test.ts checks
 * them against hand-copied literals from DATA.md, so an edit here has to be an edit there too.
 */
import { readTextChecked } from "../core/fs.ts";
import { ConfigError, InvalidFileError } from "../core/errors.ts";
import { defaultPalette, IGNORE_LABEL, type Rgb255 } from "../core/image.ts";

/** The ignore index of every label map and class table. */
export const IGNORE_INDEX = IGNORE_LABEL;

/** One class of a class table: `id` is its training index (its position in the table). */
export interface ClassInfo {
  id: number;
  name: string;
  /** Display colour, 0–255 per channel. */
  color: Rgb255;
}

/**
 * Raw label id → training index. `lut[raw]` is the training index or `IGNORE_INDEX`; `known[raw]` is 1 for the
 * ids the dataset defines. A raw id past the end of `lut`, or with `known` 0, is not one the dataset can
 * contain: reading it is an error (a corrupt or mismatched label image), not a silent ignore.
 */
export interface LabelRemap {
  /** What the mapping is, for error messages ("Replica ids → RT-GS2's 46 classes"). */
  readonly name: string;
  readonly lut: Uint16Array;
  readonly known: Uint8Array;
}

// ---------------------------------------------------------------------------------------------------------------
// Replica

/** Replica's 102 class names (`info_semantic.json`), indexed by Replica id; 0 is void. */
export const REPLICA_CLASS_NAMES: readonly string[] = Object.freeze([
  "void", "backpack", "base-cabinet", "basket", "bathtub", "beam", "beanbag", "bed", "bench", "bike", "bin",
  "blanket", "blinds", "book", "bottle", "box", "bowl", "camera", "cabinet", "candle", "chair", "chopping-board",
  "clock", "cloth", "clothing", "coaster", "comforter", "computer-keyboard", "cup", "cushion", "curtain", "ceiling",
  "cooktop", "countertop", "desk", "desk-organizer", "desktop-computer", "door", "exercise-ball", "faucet", "floor",
  "handbag", "hair-dryer", "handrail", "indoor-plant", "knife-block", "kitchen-utensil", "lamp", "laptop",
  "major-appliance", "mat", "microwave", "monitor", "mouse", "nightstand", "pan", "panel", "paper-towel", "phone",
  "picture", "pillar", "pillow", "pipe", "plant-stand", "plate", "pot", "rack", "refrigerator", "remote-control",
  "scarf", "sculpture", "shelf", "shoe", "shower-stall", "sink", "small-appliance", "sofa", "stair", "stool",
  "switch", "table", "table-runner", "tablet", "tissue-paper", "toilet", "toothbrush", "towel", "tv-screen",
  "tv-stand", "umbrella", "utensil-holder", "vase", "vent", "wall", "wall-cabinet", "wall-plug", "wardrobe",
  "window", "rug", "logo", "bag", "set-of-clothing",
]);

/** Largest Replica class id. */
export const REPLICA_MAX_ID = REPLICA_CLASS_NAMES.length - 1;

/**
 * RT-GS2's 46 Replica classes (official code, `remap_semantic_replica.py`), as Replica ids. Every other id
 * becomes 0, which stays a trained and scored class ("unlabelled").
 */
export const RTGS2_REPLICA_IDS: readonly number[] = Object.freeze([
  0, 3, 7, 8, 10, 11, 12, 13, 14, 17, 18, 19, 20, 22, 23, 26, 29, 31, 34, 35, 37, 40, 44, 47, 52, 54, 56, 59, 60,
  61, 63, 64, 65, 76, 78, 79, 80, 82, 83, 87, 91, 92, 93, 95, 97, 98,
]);

/** S-Ray's 51 Replica classes; every other id (void included) is ignored. */
export const SRAY_REPLICA_IDS: readonly number[] = Object.freeze([
  3, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 22, 23, 26, 29, 31, 34, 35, 37, 40, 44, 47, 52, 54, 56, 59,
  60, 61, 62, 63, 64, 65, 70, 71, 76, 78, 79, 80, 82, 83, 87, 88, 91, 92, 93, 95, 97, 98,
]);

/** GSNeRF's 19 Replica classes; every other id (void included) is ignored. */
export const GSNERF_REPLICA_IDS: readonly number[] = Object.freeze([
  12, 17, 20, 22, 31, 37, 40, 44, 47, 56, 64, 79, 80, 87, 91, 92, 93, 95, 97,
]);

/** The Replica class mappings of prior work: RT-GS2 (46, default), S-Ray (51) and GSNeRF (19). */
export type ReplicaMapping = "rtgs2" | "sray" | "gsnerf";

const REPLICA_MAPPINGS: Record<ReplicaMapping, { ids: readonly number[]; other: "zero" | "ignore"; label: string }> = {
  rtgs2: { ids: RTGS2_REPLICA_IDS, other: "zero", label: "RT-GS2's 46 classes" },
  sray: { ids: SRAY_REPLICA_IDS, other: "ignore", label: "S-Ray's 51 classes" },
  gsnerf: { ids: GSNERF_REPLICA_IDS, other: "ignore", label: "GSNeRF's 19 classes" },
};

function replicaMapping(mapping: ReplicaMapping) {
  const m = REPLICA_MAPPINGS[mapping];
  if (!m) throw new ConfigError("mapping", `unknown Replica mapping "${String(mapping)}"; use rtgs2, sray or gsnerf`);
  return m;
}

/**
 * The lookup table from Replica ids (0..101) to the training indices of `mapping` (default RT-GS2's 46 classes,
 * where other ids become 0; S-Ray and GSNeRF ignore them).
 */
export function replicaRemap(mapping: ReplicaMapping = "rtgs2"): LabelRemap {
  const m = replicaMapping(mapping);
  return remapFromIds(`Replica ids → ${m.label}`, REPLICA_MAX_ID, m.ids, m.other);
}

/**
 * The class table of a Replica mapping: names from `REPLICA_CLASS_NAMES` (RT-GS2's class 0, which collects every
 * unlisted id, is "unlabelled" rather than "void"), colours from `defaultPalette`.
 */
export function replicaClassTable(mapping: ReplicaMapping = "rtgs2"): ClassInfo[] {
  const { ids } = replicaMapping(mapping);
  const colors = defaultPalette(ids.length);
  return ids.map((raw, i) => ({ id: i, name: raw === 0 ? "unlabelled" : REPLICA_CLASS_NAMES[raw], color: colors[i] }));
}

// ---------------------------------------------------------------------------------------------------------------
// ScanNet

/**
 * ScanNet's 20 benchmark classes as NYU40 ids, with their names and the colours of ScanNet's own
 * `create_color_palette` (BenchmarkScripts/util.py). Every other NYU40 id is ignored.
 */
export const SCANNET20: readonly { nyu40id: number; name: string; color: Rgb255 }[] = Object.freeze([
  { nyu40id: 1, name: "wall", color: [174, 199, 232] },
  { nyu40id: 2, name: "floor", color: [152, 223, 138] },
  { nyu40id: 3, name: "cabinet", color: [31, 119, 180] },
  { nyu40id: 4, name: "bed", color: [255, 187, 120] },
  { nyu40id: 5, name: "chair", color: [188, 189, 34] },
  { nyu40id: 6, name: "sofa", color: [140, 86, 75] },
  { nyu40id: 7, name: "table", color: [255, 152, 150] },
  { nyu40id: 8, name: "door", color: [214, 39, 40] },
  { nyu40id: 9, name: "window", color: [197, 176, 213] },
  { nyu40id: 10, name: "bookshelf", color: [148, 103, 189] },
  { nyu40id: 11, name: "picture", color: [196, 156, 148] },
  { nyu40id: 12, name: "counter", color: [23, 190, 207] },
  { nyu40id: 14, name: "desk", color: [247, 182, 210] },
  { nyu40id: 16, name: "curtain", color: [219, 219, 141] },
  { nyu40id: 24, name: "refrigerator", color: [255, 127, 14] },
  { nyu40id: 28, name: "shower curtain", color: [158, 218, 229] },
  { nyu40id: 33, name: "toilet", color: [44, 160, 44] },
  { nyu40id: 34, name: "sink", color: [112, 128, 144] },
  { nyu40id: 36, name: "bathtub", color: [227, 119, 194] },
  { nyu40id: 39, name: "otherfurniture", color: [82, 84, 163] },
]);

/** The class table of ScanNet's 20 classes (training index = position in `SCANNET20`). */
export function scannetClassTable(): ClassInfo[] {
  return SCANNET20.map((c, i) => ({ id: i, name: c.name, color: c.color }));
}

/** The lookup table from NYU40 ids (0..40) to ScanNet's 20 training indices; other ids are ignored. */
export function nyu40Remap(): LabelRemap {
  return remapFromIds("NYU40 ids → ScanNet's 20 classes", 40, SCANNET20.map((c) => c.nyu40id), "ignore");
}

/** Name of ScanNet's label map, shipped at the root of the dataset. */
export const SCANNET_LABEL_TSV = "scannetv2-labels.combined.tsv";

/**
 * Raw ScanNet label id → NYU40 id, from the text of `scannetv2-labels.combined.tsv` (tab-separated, header row,
 * columns `id` and `nyu40id` found by name). Raw id 0 (unannotated) is not in the file; it maps to NYU40 0.
 */
export function parseScanNetLabelTsv(text: string, source: string): Map<number, number> {
  const rows = text.split(/\r?\n/);
  const header = rows[0]?.split("\t").map((s) => s.trim()) ?? [];
  const idCol = header.indexOf("id");
  const nyuCol = header.indexOf("nyu40id");
  if (idCol < 0 || nyuCol < 0) {
    throw new InvalidFileError(source, `header must name columns "id" and "nyu40id", got ${JSON.stringify(rows[0] ?? "")}`);
  }
  const map = new Map<number, number>([[0, 0]]);
  for (let r = 1; r < rows.length; r++) {
    if (rows[r].trim() === "") continue;
    const cells = rows[r].split("\t");
    const raw = Number(cells[idCol]);
    // Some rows of the official file leave nyu40id empty; they are labels no benchmark class covers.
    const nyuText = (cells[nyuCol] ?? "").trim();
    const nyu = nyuText === "" ? 0 : Number(nyuText);
    if (!Number.isInteger(raw) || raw < 0 || raw >= IGNORE_INDEX) {
      throw new InvalidFileError(source, `line ${r + 1}: id "${cells[idCol]}" is not an integer in 0..65534`);
    }
    if (!Number.isInteger(nyu) || nyu < 0 || nyu > 40) {
      throw new InvalidFileError(source, `line ${r + 1}: nyu40id "${cells[nyuCol]}" is not an integer in 0..40`);
    }
    if (map.has(raw) && raw !== 0) throw new InvalidFileError(source, `line ${r + 1}: id ${raw} is listed twice`);
    map.set(raw, nyu);
  }
  if (map.size === 1) throw new InvalidFileError(source, "no label rows");
  return map;
}

/** Read `scannetv2-labels.combined.tsv` (see `parseScanNetLabelTsv`). */
export function readScanNetLabelTsv(path: string): Map<number, number> {
  return parseScanNetLabelTsv(readTextChecked(path), path);
}

/**
 * The lookup table from raw ScanNet label ids (as stored in `label-filt/*.png`) to ScanNet's 20 training
 * indices, through `rawToNyu40` (from `readScanNetLabelTsv`). Raw ids the tsv does not list are unknown.
 */
export function scannetRemap(rawToNyu40: ReadonlyMap<number, number>): LabelRemap {
  const nyu = nyu40Remap();
  let max = 0;
  for (const raw of rawToNyu40.keys()) max = Math.max(max, raw);
  const lut = new Uint16Array(max + 1).fill(IGNORE_INDEX);
  const known = new Uint8Array(max + 1);
  for (const [raw, n] of rawToNyu40) {
    lut[raw] = n < nyu.lut.length ? nyu.lut[n] : IGNORE_INDEX;
    known[raw] = 1;
  }
  return { name: "ScanNet raw ids → NYU40 → ScanNet's 20 classes", lut, known };
}

// ---------------------------------------------------------------------------------------------------------------
// Generic

/**
 * A lookup table for raw ids 0..maxId where `ids[i]` becomes training index i and every other id in range
 * becomes 0 (`other` = "zero") or the ignore index. The raw ignore value 65535 always stays ignore.
 */
export function remapFromIds(name: string, maxId: number, ids: readonly number[], other: "zero" | "ignore"): LabelRemap {
  if (!Number.isInteger(maxId) || maxId < 0 || maxId >= IGNORE_INDEX) {
    throw new ConfigError("maxId", `must be an integer in 0..65534, got ${maxId}`);
  }
  const lut = new Uint16Array(maxId + 1).fill(other === "zero" ? 0 : IGNORE_INDEX);
  ids.forEach((raw, i) => {
    if (!Number.isInteger(raw) || raw < 0 || raw > maxId) throw new ConfigError("ids", `id ${raw} is outside 0..${maxId}`);
    lut[raw] = i;
  });
  return { name, lut, known: new Uint8Array(maxId + 1).fill(1) };
}

/** Label images that already hold training indices 0..count−1 (the project layout): identity, 65535 stays. */
export function identityRemap(count: number, name = `training indices 0..${count - 1}`): LabelRemap {
  if (count === 0) return { name, lut: new Uint16Array(0), known: new Uint8Array(0) };
  return remapFromIds(name, count - 1, Array.from({ length: count }, (_, i) => i), "ignore");
}

/**
 * Map a raw label image through `remap` into a new array of training indices. 65535 stays ignore. `source`
 * (the file) is named in the error for an id the table does not define.
 */
export function applyRemap(raw: Uint16Array, remap: LabelRemap, source: string, width?: number): Uint16Array {
  const { lut, known } = remap;
  const out = new Uint16Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i];
    if (v === IGNORE_INDEX) {
      out[i] = IGNORE_INDEX;
    } else if (v < lut.length && known[v] === 1) {
      out[i] = lut[v];
    } else {
      const where = width ? ` at pixel (${i % width}, ${Math.floor(i / width)})` : ` at sample ${i}`;
      throw new InvalidFileError(source, `unknown label id ${v}${where}: not defined by ${remap.name}`);
    }
  }
  return out;
}
