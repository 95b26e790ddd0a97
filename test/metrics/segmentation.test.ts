import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, ShapeError } from "../../src/core/errors.ts";
import {
  ConfusionMatrix,
  evaluateSegmentation,
  segmentationJson,
  segmentationMetrics,
} from "../../src/metrics/segmentation.ts";

const IGN = 65535;
const near = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

// The hand case used below (K = 4; class 3 never appears in the ground truth):
//   gt   0 0 0 0 | 1 1 1 | 2 2     | ign ign
//   pred 0 0 1 0 | 1 1 0 | 2 65535 | 2   0
// Ignored GT pixels drop out whatever their prediction. Confusion rows (gt) × columns (pred 0, 1, 2, 3, none):
//   gt0: 3 1 0 0 0   gt1: 1 2 0 0 0   gt2: 0 0 1 0 1
// TP = (3, 2, 1), GT pixels = (4, 3, 2), predicted = (4, 3, 1).
//   IoU0 = 3 / (4 + 4 − 3) = 60 %, IoU1 = 2 / (3 + 3 − 2) = 50 %, IoU2 = 1 / (2 + 1 − 1) = 50 %
//   Acc0 = 3/4 = 75 %, Acc1 = 2/3 = 66.67 %, Acc2 = 1/2 = 50 % (the unlabelled prediction is a miss, no FP)
//   mIoU = 160/3 = 53.33, mAcc = (75 + 200/3 + 50)/3 = 63.89, oAcc = 6/9 = 66.67
// Top-2 = the two most frequent GT classes, 0 (4 px) and 1 (3 px):
//   mIoU = 55, mAcc = (75 + 200/3)/2 = 70.83, oAcc = (3 + 2)/(4 + 3) = 71.43
const gt = Uint16Array.from([0, 0, 0, 0, 1, 1, 1, 2, 2, IGN, IGN]);
const pred = Uint16Array.from([0, 0, 1, 0, 1, 1, 0, 2, IGN, 2, 0]);

test("confusion matrix and all-class / top-K metrics match the hand computation", () => {
  const cm = new ConfusionMatrix(4).add(pred, gt);
  assert.deepEqual(Array.from(cm.counts), [3, 1, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0]);
  assert.equal(cm.total(), 9);
  const m = segmentationMetrics(cm, { topK: 2, classNames: ["wall", "floor", "chair", "lamp"] });
  assert.deepEqual(
    m.perClass.map((c) => [c.id, c.name, c.pixels]),
    [
      [0, "wall", 4],
      [1, "floor", 3],
      [2, "chair", 2],
    ],
  );
  near(m.perClass[0].iou, 60);
  near(m.perClass[1].iou, 50);
  near(m.perClass[2].iou, 50);
  near(m.perClass[0].acc, 75);
  near(m.perClass[1].acc, 200 / 3);
  near(m.perClass[2].acc, 50);
  near(m.mIoU, 160 / 3);
  near(m.mAcc, (75 + 200 / 3 + 50) / 3);
  near(m.oAcc, 200 / 3);
  assert.equal(m.pixels, 9);
  assert.deepEqual(m.classIds, [0, 1, 2]);
  assert.deepEqual(m.top.classIds, [0, 1]);
  near(m.top.mIoU, 55);
  near(m.top.mAcc, (75 + 200 / 3) / 2);
  near(m.top.oAcc, 500 / 7);
});

test("a class predicted but absent from the ground truth is not averaged, yet its false positives still count", () => {
  // gt 0 0 1 1, pred 0 3 1 1: class 3 is absent from GT. Class 0: TP 1, FN 1, FP 0 -> IoU 50, Acc 50.
  // Class 1: TP 2 -> IoU 100, Acc 100. mIoU = 75, mAcc = 75, oAcc = 3/4 = 75.
  const m = evaluateSegmentation([{ pred: Uint16Array.from([0, 3, 1, 1]), gt: Uint16Array.from([0, 0, 1, 1]) }], 4);
  assert.deepEqual(m.classIds, [0, 1]);
  near(m.mIoU, 75);
  near(m.mAcc, 75);
  near(m.oAcc, 75);
  // The default K = 20 exceeds the 2 present classes, so top-K equals all-class.
  assert.equal(m.topK, 20);
  near(m.top.mIoU, 75);
});

test("pooling: one matrix over all views, not the mean of per-view scores", () => {
  // View 1: gt 0 0 0 0, pred 0 0 0 0 (class 0 perfect). View 2: gt 1, pred 0.
  // Pooled: class 0 TP 4, FP 1 -> IoU 80; class 1 TP 0 -> IoU 0. mIoU = 40 (per-view means would give 50).
  // oAcc = 4/5 = 80.
  const views = [
    { pred: new Uint16Array(4), gt: new Uint16Array(4) },
    { pred: Uint16Array.from([0]), gt: Uint16Array.from([1]) },
  ];
  const m = evaluateSegmentation(views, 2);
  near(m.mIoU, 40);
  near(m.oAcc, 80);
  const a = new ConfusionMatrix(2).add(views[0].pred, views[0].gt);
  const b = new ConfusionMatrix(2).add(views[1].pred, views[1].gt);
  assert.deepEqual(Array.from(a.merge(b).counts), Array.from(new ConfusionMatrix(2).add(views[0].pred, views[0].gt).add(views[1].pred, views[1].gt).counts));
});

test("top-K breaks frequency ties by the lower class id", () => {
  // Classes 2 and 1 both have 2 GT pixels, class 0 has 1: top-2 = [1, 2] in that order (ties: lower id first).
  const gt2 = Uint16Array.from([2, 2, 1, 1, 0]);
  const m = evaluateSegmentation([{ pred: gt2, gt: gt2 }], 3, { topK: 2 });
  assert.deepEqual(m.top.classIds, [1, 2]);
  near(m.top.oAcc, 100);
});

test("JSON shape follows the CLI contract", () => {
  const m = segmentationMetrics(new ConfusionMatrix(4).add(pred, gt));
  const json = segmentationJson(m);
  assert.deepEqual(Object.keys(json).sort(), ["mAcc", "mIoU", "oAcc", "perClass", "top20"]);
  assert.deepEqual(Object.keys(json.top20).sort(), ["mAcc", "mIoU", "oAcc"]);
  assert.doesNotThrow(() => JSON.parse(JSON.stringify(json)));
});

test("bad input: mismatched lengths raise ShapeError naming the function and both shapes; bad labels and K are rejected", () => {
  assert.throws(
    () => new ConfusionMatrix(3).add(new Uint16Array(5), new Uint16Array(4)),
    (e: unknown) => e instanceof ShapeError && /ConfusionMatrix\.add/.test(e.message) && /\[4\]/.test(e.message) && /\[5\]/.test(e.message),
  );
  assert.throws(() => new ConfusionMatrix(3).add(Uint16Array.from([0]), Uint16Array.from([3])), ConfigError);
  assert.throws(() => new ConfusionMatrix(0), ConfigError);
  assert.throws(() => new ConfusionMatrix(2).merge(new ConfusionMatrix(3)), ShapeError);
  assert.throws(() => segmentationMetrics(new ConfusionMatrix(2), { topK: 0 }), ConfigError);
});
