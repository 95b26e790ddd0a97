import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  applyRemap,
  GSNERF_REPLICA_IDS,
  IGNORE_INDEX,
  identityRemap,
  nyu40Remap,
  parseScanNetLabelTsv,
  readScanNetLabelTsv,
  REPLICA_CLASS_NAMES,
  replicaClassTable,
  replicaRemap,
  RTGS2_REPLICA_IDS,
  SCANNET20,
  scannetClassTable,
  scannetRemap,
  SRAY_REPLICA_IDS,
} from "../../src/datasets/class-tables.ts";
import { InvalidFileError, MissingFileError } from "../../src/core/errors.ts";
import { tempDir, writeText } from "./helpers.ts";

// Hand-copied from DATA.md §3, so the constants are checked against the spec, not against themselves.
const DATA_MD_REPLICA =
  "1 backpack, 2 base-cabinet, 3 basket, 4 bathtub, 5 beam, 6 beanbag, 7 bed, 8 bench, 9 bike, 10 bin, 11 blanket, 12 blinds, 13 book, 14 bottle, 15 box, 16 bowl, 17 camera, 18 cabinet, 19 candle, 20 chair, 21 chopping-board, 22 clock, 23 cloth, 24 clothing, 25 coaster, 26 comforter, 27 computer-keyboard, 28 cup, 29 cushion, 30 curtain, 31 ceiling, 32 cooktop, 33 countertop, 34 desk, 35 desk-organizer, 36 desktop-computer, 37 door, 38 exercise-ball, 39 faucet, 40 floor, 41 handbag, 42 hair-dryer, 43 handrail, 44 indoor-plant, 45 knife-block, 46 kitchen-utensil, 47 lamp, 48 laptop, 49 major-appliance, 50 mat, 51 microwave, 52 monitor, 53 mouse, 54 nightstand, 55 pan, 56 panel, 57 paper-towel, 58 phone, 59 picture, 60 pillar, 61 pillow, 62 pipe, 63 plant-stand, 64 plate, 65 pot, 66 rack, 67 refrigerator, 68 remote-control, 69 scarf, 70 sculpture, 71 shelf, 72 shoe, 73 shower-stall, 74 sink, 75 small-appliance, 76 sofa, 77 stair, 78 stool, 79 switch, 80 table, 81 table-runner, 82 tablet, 83 tissue-paper, 84 toilet, 85 toothbrush, 86 towel, 87 tv-screen, 88 tv-stand, 89 umbrella, 90 utensil-holder, 91 vase, 92 vent, 93 wall, 94 wall-cabinet, 95 wall-plug, 96 wardrobe, 97 window, 98 rug, 99 logo, 100 bag, 101 set-of-clothing";
const DATA_MD_RTGS2 = [
  0, 3, 7, 8, 10, 11, 12, 13, 14, 17, 18, 19, 20, 22, 23, 26, 29, 31, 34, 35, 37, 40, 44, 47, 52, 54, 56, 59, 60, 61,
  63, 64, 65, 76, 78, 79, 80, 82, 83, 87, 91, 92, 93, 95, 97, 98,
];
const DATA_MD_SRAY = [
  3, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 22, 23, 26, 29, 31, 34, 35, 37, 40, 44, 47, 52, 54, 56, 59, 60,
  61, 62, 63, 64, 65, 70, 71, 76, 78, 79, 80, 82, 83, 87, 88, 91, 92, 93, 95, 97, 98,
];
const DATA_MD_GSNERF = [12, 17, 20, 22, 31, 37, 40, 44, 47, 56, 64, 79, 80, 87, 91, 92, 93, 95, 97];
const DATA_MD_SCANNET20 =
  "1 wall, 2 floor, 3 cabinet, 4 bed, 5 chair, 6 sofa, 7 table, 8 door, 9 window, 10 bookshelf, 11 picture, 12 counter, 14 desk, 16 curtain, 24 refrigerator, 28 shower curtain, 33 toilet, 34 sink, 36 bathtub, 39 otherfurniture";

function parseIdList(text: string): { id: number; name: string }[] {
  return text.split(", ").map((entry) => {
    const m = /^(\d+) (.+)$/.exec(entry);
    assert.ok(m, entry);
    return { id: Number(m[1]), name: m[2] };
  });
}

test("Replica id → name table matches DATA.md (101 classes plus void)", () => {
  const spec = parseIdList(DATA_MD_REPLICA);
  assert.equal(spec.length, 101);
  assert.equal(REPLICA_CLASS_NAMES.length, 102);
  assert.equal(REPLICA_CLASS_NAMES[0], "void");
  for (const { id, name } of spec) assert.equal(REPLICA_CLASS_NAMES[id], name, `id ${id}`);
});

test("RT-GS2's 46 classes: listed ids map to their position, every other Replica id to 0", () => {
  assert.equal(DATA_MD_RTGS2.length, 46);
  assert.deepEqual([...RTGS2_REPLICA_IDS], DATA_MD_RTGS2);
  const { lut, known } = replicaRemap("rtgs2");
  assert.equal(lut.length, 102);
  for (let raw = 0; raw <= 101; raw++) {
    const pos = DATA_MD_RTGS2.indexOf(raw);
    assert.equal(lut[raw], pos >= 0 ? pos : 0, `raw ${raw}`);
    assert.equal(known[raw], 1);
  }
  assert.equal(lut[98], 45);
  const table = replicaClassTable("rtgs2");
  assert.equal(table.length, 46);
  assert.deepEqual(table.slice(0, 3).map((c) => c.name), ["unlabelled", "basket", "bed"]);
  assert.ok(table.every((c, i) => c.id === i && c.color.length === 3));
});

test("S-Ray's 51 and GSNeRF's 19 classes: other ids (void included) are ignored", () => {
  assert.equal(DATA_MD_SRAY.length, 51);
  assert.equal(DATA_MD_GSNERF.length, 19);
  assert.deepEqual([...SRAY_REPLICA_IDS], DATA_MD_SRAY);
  assert.deepEqual([...GSNERF_REPLICA_IDS], DATA_MD_GSNERF);
  for (const [mapping, ids] of [
    ["sray", DATA_MD_SRAY],
    ["gsnerf", DATA_MD_GSNERF],
  ] as const) {
    const { lut } = replicaRemap(mapping);
    for (let raw = 0; raw <= 101; raw++) {
      const pos = ids.indexOf(raw);
      assert.equal(lut[raw], pos >= 0 ? pos : IGNORE_INDEX, `${mapping} raw ${raw}`);
    }
    assert.deepEqual(
      replicaClassTable(mapping).map((c) => c.name),
      ids.map((id) => REPLICA_CLASS_NAMES[id]),
    );
  }
  assert.deepEqual(Array.from(applyRemap(Uint16Array.of(0, 12, 97, 65535), replicaRemap("gsnerf"), "x")), [
    IGNORE_INDEX,
    0,
    18,
    IGNORE_INDEX,
  ]);
});

test("ScanNet's 20 classes: NYU40 ids and names from DATA.md; other NYU40 ids ignored", () => {
  const spec = parseIdList(DATA_MD_SCANNET20);
  assert.equal(spec.length, 20);
  assert.deepEqual(
    SCANNET20.map((c) => ({ id: c.nyu40id, name: c.name })),
    spec,
  );
  assert.deepEqual(
    scannetClassTable().map((c) => c.name),
    spec.map((s) => s.name),
  );
  const { lut } = nyu40Remap();
  for (let nyu = 0; nyu <= 40; nyu++) {
    const pos = spec.findIndex((s) => s.id === nyu);
    assert.equal(lut[nyu], pos >= 0 ? pos : IGNORE_INDEX, `nyu40 ${nyu}`);
  }
});

const TSV_HEADER = "id\traw_category\tcategory\tcount\tnyu40id\teigen13id\tnyuClass\tnyu40class";

test("scannetv2-labels.combined.tsv: raw id → nyu40id → 20 classes; unlisted raw ids are unknown", () => {
  const tsv = [
    TSV_HEADER,
    "1\twall\twall\t8277\t1\t12\twall\twall",
    "2\tchair\tchair\t4646\t5\t4\tchair\tchair",
    "22\tbooks\tbook\t1678\t23\t2\tbook\tbooks",
    "56\ttrash can\ttrash can\t1090\t39\t6\tgarbage bin\totherfurniture",
    "1000\tthing\tthing\t1\t\t\t\t",
    "",
  ].join("\n");
  const map = parseScanNetLabelTsv(tsv, "labels.tsv");
  assert.deepEqual([...map], [
    [0, 0],
    [1, 1],
    [2, 5],
    [22, 23],
    [56, 39],
    [1000, 0],
  ]);
  const remap = scannetRemap(map);
  const out = applyRemap(Uint16Array.of(0, 1, 2, 22, 56, 1000, 65535), remap, "label.png");
  assert.deepEqual(Array.from(out), [IGNORE_INDEX, 0, 4, IGNORE_INDEX, 19, IGNORE_INDEX, IGNORE_INDEX]);
  assert.throws(
    () => applyRemap(Uint16Array.of(1, 3), remap, "label-filt/7.png", 2),
    (e: unknown) => e instanceof InvalidFileError && e.file === "label-filt/7.png" && /unknown label id 3 at pixel \(1, 0\)/.test(e.message),
  );
  assert.throws(
    () => applyRemap(Uint16Array.of(2000), remap, "label-filt/8.png"),
    (e: unknown) => e instanceof InvalidFileError && /unknown label id 2000/.test(e.message),
  );
});

test("a bad or missing label tsv is a typed error naming the file", () => {
  assert.throws(() => parseScanNetLabelTsv("id\tname\n1\twall\n", "a.tsv"), (e: unknown) => e instanceof InvalidFileError && /nyu40id/.test(e.message));
  assert.throws(
    () => parseScanNetLabelTsv(`${TSV_HEADER}\n1\twall\twall\t1\t41\t\t\t\n`, "b.tsv"),
    (e: unknown) => e instanceof InvalidFileError && /line 2: nyu40id "41"/.test(e.message),
  );
  assert.throws(
    () => parseScanNetLabelTsv(`${TSV_HEADER}\n1\ta\ta\t1\t1\n1\tb\tb\t1\t2\n`, "c.tsv"),
    (e: unknown) => e instanceof InvalidFileError && /id 1 is listed twice/.test(e.message),
  );
  const dir = tempDir("tsv");
  assert.throws(() => readScanNetLabelTsv(join(dir, "none.tsv")), (e: unknown) => e instanceof MissingFileError && e.file.endsWith("none.tsv"));
  writeText(join(dir, "ok.tsv"), `${TSV_HEADER}\n5\tdoor\tdoor\t1\t8\n`);
  assert.equal(readScanNetLabelTsv(join(dir, "ok.tsv")).get(5), 8);
});

test("identity remap: training indices pass, ids past the class count are unknown", () => {
  const remap = identityRemap(3);
  assert.deepEqual(Array.from(applyRemap(Uint16Array.of(0, 2, 65535), remap, "s.png")), [0, 2, 65535]);
  assert.throws(() => applyRemap(Uint16Array.of(3), remap, "s.png"), (e: unknown) => e instanceof InvalidFileError && /unknown label id 3/.test(e.message));
});
