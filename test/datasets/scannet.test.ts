import { test } from "node:test";
import assert from "node:assert/strict";
import jpeg from "jpeg-js";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cameraCenter } from "../../src/core/camera.ts";
import { InvalidFileError, MissingFileError } from "../../src/core/errors.ts";
import { imageSize, loadDepth, loadLabels, loadRgb } from "../../src/datasets/frames.ts";
import { readScanNetScene } from "../../src/datasets/scannet.ts";
import { c2wYaw, matrixLines, near, tempDir, writeGaussians, writeJpegHeader, writeText, writeU16 } from "./helpers.ts";

// Colour 16×12 (ScanNet's 1296×968 in miniature), depth 8×6 (its 640×480), cameras at 8×6.
const CW = 16;
const CH = 12;
const W = 8;
const H = 6;

const TSV = [
  "id\traw_category\tcategory\tcount\tnyu40id\teigen13id\tnyuClass\tnyu40class",
  "1\twall\twall\t8277\t1\t12\twall\twall",
  "2\tchair\tchair\t4646\t5\t4\tchair\tchair",
  "22\tbooks\tbook\t1678\t23\t2\tbook\tbooks",
  "",
].join("\n");

/** `ScanNet/scans/scene0000_00` with frames 0, 1 (pose −inf: tracking lost) and 2; the tsv at `ScanNet/`. */
function writeScanNet(): string {
  const root = join(tempDir("scannet"), "ScanNet");
  const dir = join(root, "scans", "scene0000_00");
  writeText(join(root, "scannetv2-labels.combined.tsv"), TSV);
  writeGaussians(join(dir, "3dgs", "point_cloud", "iteration_7000", "point_cloud.ply"), 3);
  // fx 10, cx 7.5 in the integer-centre convention: 8 here, then halved to the 8×6 camera.
  writeText(join(dir, "intrinsic", "intrinsic_color.txt"), matrixLines([10, 0, 7.5, 0, 0, 12, 5.5, 0, 0, 0, 1, 0, 0, 0, 0, 1]));
  for (const i of [0, 1, 2]) {
    writeJpegHeader(join(dir, "color", `${i}.jpg`), CW, CH);
    writeU16(join(dir, "depth", `${i}.png`), W, H, 2000 + i);
    // Raw ids at colour resolution: left half wall (1), right half chair (2); books (22) in the top-left pixel.
    writeU16(join(dir, "label-filt", `${i}.png`), CW, CH, Array.from({ length: CW * CH }, (_, p) => (p === 0 ? 22 : p % CW < CW / 2 ? 1 : 2)));
    const pose = i === 1 ? Array<number>(16).fill(-Infinity) : c2wYaw(0.1 * i, [i, 0, 2]);
    writeText(join(dir, "pose", `${i}.txt`), matrixLines(pose));
  }
  return dir;
}

test("reads a SensReader export: invalid pose skipped with a warning, intrinsics +0.5 and scaled", () => {
  const dir = writeScanNet();
  const warnings: string[] = [];
  const scene = readScanNetScene(dir, { width: W, height: H, onWarning: (m) => warnings.push(m) });
  assert.equal(scene.layout, "scannet");
  assert.equal(scene.name, "scene0000_00");
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /pose[/\\]1\.txt: invalid pose \(-inf, tracking lost\); frame 1 skipped/);
  assert.deepEqual(scene.cameras.map((c) => c.name), ["0", "2"]);
  const c = scene.cameras[1];
  assert.deepEqual([c.width, c.height, c.fx, c.fy, c.cx, c.cy], [8, 6, 5, 6, 4, 3]);
  const centre = cameraCenter(c);
  assert.ok(near(centre[0], 2) && near(centre[2], 2));
  assert.equal(scene.frames[1].rgb, join(dir, "color", "2.jpg"));
  assert.equal(scene.frames[1].semantic, join(dir, "label-filt", "2.png"));
  assert.equal(scene.loadGaussians().count, 3);
  assert.equal(scene.classes.length, 20);
  assert.ok(near(loadDepth(scene, 1)[5], 2.002));
  // 16×12 → 8×6 by nearest neighbour at pixel centres; wall → 0, chair → 4, books (NYU40 23) → ignore.
  const labels = loadLabels(scene, 0);
  assert.equal(labels.length, W * H);
  assert.deepEqual(Array.from(labels.slice(0, W)), [0, 0, 0, 0, 4, 4, 4, 4]);
  assert.deepEqual(imageSize(join(dir, "color", "0.jpg")), { width: CW, height: CH });
});

test("the default warning goes to stderr", () => {
  const dir = writeScanNet();
  const written: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    readScanNetScene(dir);
  } finally {
    process.stderr.write = original;
  }
  assert.equal(written.length, 1);
  assert.match(written[0], /^warning: .*pose[/\\]1\.txt: invalid pose/);
});

test("default evaluation size is 640×480", () => {
  const c = readScanNetScene(writeScanNet(), { onWarning: () => {} }).cameras[0];
  assert.deepEqual([c.width, c.height, c.fx, c.cx], [640, 480, 400, 320]);
});

test("JPEG colour decodes at the camera's size; a header-only JPEG is a clear InvalidFileError", () => {
  const dir = writeScanNet();
  const scene = readScanNetScene(dir, { width: W, height: H, onWarning: () => {} });
  // A real JPEG of one flat colour: baseline JPEG keeps a flat block within a few levels.
  const rgba = new Uint8Array(CW * CH * 4);
  for (let p = 0; p < CW * CH; p++) rgba.set([200, 100, 50, 255], p * 4);
  writeFileSync(join(dir, "color", "0.jpg"), jpeg.encode({ data: rgba, width: CW, height: CH }, 95).data);
  const img = loadRgb(scene, 0);
  assert.deepEqual([img.width, img.height, img.channels], [W, H, 3]);
  for (const [c, v] of [200, 100, 50].entries()) assert.ok(Math.abs(img.data[c] * 255 - v) < 4, `channel ${c}: ${img.data[c] * 255}`);
  assert.throws(
    () => loadRgb(scene, 1),
    (e: unknown) => e instanceof InvalidFileError && e.file === join(dir, "color", "2.jpg") && /corrupt JPEG/.test(e.message),
  );
});

test("missing pose, unknown label id, wrong aspect, missing tsv and missing model name the file", () => {
  const dir = writeScanNet();
  const opts = { width: W, height: H, onWarning: () => {} };
  const pose2 = join(dir, "pose", "2.txt");
  rmSync(pose2);
  assert.throws(() => readScanNetScene(dir, opts), (e: unknown) => e instanceof MissingFileError && e.file === pose2 && /frame 2/.test(e.message));
  writeText(pose2, "1 0 0 0\n0 1 0 0\n0 0 1 0\n");
  assert.throws(() => readScanNetScene(dir, opts), (e: unknown) => e instanceof InvalidFileError && e.file === pose2);
  writeText(pose2, matrixLines(c2wYaw(0, [0, 0, 0])));

  const scene = readScanNetScene(dir, opts);
  const label0 = join(dir, "label-filt", "0.png");
  writeU16(label0, CW, CH, 5);
  assert.throws(
    () => loadLabels(scene, 0),
    (e: unknown) => e instanceof InvalidFileError && e.file === label0 && /unknown label id 5/.test(e.message),
  );
  writeU16(label0, CW, CW, 1);
  assert.throws(
    () => loadLabels(scene, 0),
    (e: unknown) => e instanceof InvalidFileError && e.file === label0 && /is 16×16, expected 8×6/.test(e.message),
  );

  const tsv = join(dir, "..", "..", "scannetv2-labels.combined.tsv");
  rmSync(tsv);
  assert.throws(
    () => readScanNetScene(dir, opts),
    (e: unknown) => e instanceof MissingFileError && e.file.endsWith("scannetv2-labels.combined.tsv") && /labelMap/.test(e.message),
  );
  writeText(join(dir, "labels.tsv"), TSV);
  assert.equal(readScanNetScene(dir, { ...opts, labelMap: join(dir, "labels.tsv") }).cameras.length, 2);

  rmSync(join(dir, "intrinsic", "intrinsic_color.txt"));
  assert.throws(
    () => readScanNetScene(dir, opts),
    (e: unknown) => e instanceof MissingFileError && e.file === join(dir, "intrinsic", "intrinsic_color.txt"),
  );
  rmSync(join(dir, "3dgs"), { recursive: true });
  assert.throws(
    () => readScanNetScene(dir, opts),
    (e: unknown) => e instanceof MissingFileError && e.file === join(dir, "3dgs", "point_cloud", "iteration_N", "point_cloud.ply"),
  );
  writeText(join(dir, "color", "0.jpg"), "not an image");
  assert.throws(() => imageSize(join(dir, "color", "0.jpg")), (e: unknown) => e instanceof InvalidFileError && /not a PNG or JPEG/.test(e.message));
});
