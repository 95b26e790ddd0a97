/** A small hand-made ReportData with every section, shared by the report tests. */
import { createImage } from "../../src/core/image.ts";
import type { ReportData } from "../../src/report/index.ts";

export const W = 8;
export const H = 6;
const IGN = 65535;

/** A class name that would break the page if it were not escaped. */
export const NASTY = `<img src=x onerror="alert(1)">&'`;

// 3-class hand-made confusion matrix, K × (K + 1): rows = gt, last column = "no class predicted".
//   gt0: 8 1 1 | 0    gt1: 2 6 0 | 2    gt2: 0 0 5 | 0
export const COUNTS = [8, 1, 1, 0, 2, 6, 0, 2, 0, 0, 5, 0];

export function gtLabels(): Uint16Array {
  const gt = new Uint16Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) gt[y * W + x] = x < 3 ? 0 : x < 6 ? 1 : 2;
  gt[0] = IGN;
  gt[1] = IGN;
  return gt;
}

export function predLabels(): Uint16Array {
  const pred = gtLabels();
  pred[0] = 2; // under an ignored pixel: not an error
  pred[W + 4] = 0; // two wrong pixels
  pred[2 * W + 7] = 1;
  return pred;
}

export function rgbImage() {
  const img = createImage(W, H, 3);
  for (let i = 0; i < W * H; i++) img.data.set([(i % W) / W, Math.floor(i / W) / H, 0.5], i * 3);
  return img;
}

export function fullReport(): ReportData {
  const depth = new Float32Array(W * H);
  for (let i = 0; i < depth.length; i++) depth[i] = 1 + (i % W) * 0.25;
  depth[5] = 0; // invalid
  const features = new Float32Array(W * H * 4);
  for (let i = 0; i < W * H; i++) features.set([Math.sin(i), Math.cos(i), i / 48, 1 - i / 48], i * 4);
  return {
    title: "test report",
    notice: "hand-made data for tests",
    dataset: {
      name: "tiny <rooms>",
      classes: [
        { id: 0, name: "wall", color: [174, 199, 232] },
        { id: 1, name: "floor", color: [152, 223, 138] },
        { id: 2, name: NASTY, color: [214, 39, 40] },
      ],
    },
    headline: { mIoU: 61.5, mAcc: 70.25, oAcc: 80, fps: 12.5, viewConsistency: 0.9, gtCeiling: 0.97, top: { k: 2, mIoU: 62, mAcc: 71, oAcc: 81 } },
    samples: [
      { name: "scene_a · frame 0", width: W, height: H, rgb: rgbImage(), gt: gtLabels(), pred: predLabels(), features: { features, channels: 4 }, depth },
      { name: "scene_b · frame 8", width: W, height: H, gt: gtLabels(), pred: gtLabels() },
    ],
    perClass: [
      { id: 0, iou: 80 / 1.3, acc: 80, pixels: 10 },
      { id: 1, iou: 50, acc: 60, pixels: 10 },
      { id: 2, iou: 5 / 6 * 100, acc: 100, pixels: 5 },
    ],
    confusion: { numClasses: 3, counts: COUNTS },
    training: {
      log: [
        { step: 0, loss: 2.5 },
        { step: 10, loss: 1.5, "val.mIoU": 30 },
        { step: 20, loss: 1.0, "val.mIoU": 45 },
        { step: 30, loss: 0.8, "val.mIoU": 52, note: "text fields are ignored" },
      ],
      caption: "tiny run",
    },
    fps: {
      entries: [{ label: "lite 320×240", fps: 12.5, breakdown: { render: 20, rgbBranch: 25, featureBranch: 15, fusion: 10, decoder: 10 }, encodeSeconds: 3.2 }],
      machine: "test machine",
      method: "network parts apportioned by multiply-adds",
    },
    comparison: { ours: [{ setting: "generalization", label: "rtgs2 lite", mIoU: 61.5, mAcc: 70.25, oAcc: 80, fps: 12.5 }] },
    consistency: {
      scenes: [
        { scene: "scene_a", perView: 0.88, lifted: 0.95, gtCeiling: 0.97 },
        { scene: "scene_b", perView: 0.9, gtCeiling: 0.98 },
      ],
    },
    provenance: { checkpoint: "checkpoints/vdvi-lite.safetensors", encoder: "sha256:abc", seed: 7, machine: "test machine", date: "2026-11-25T00:00:00Z" },
  };
}
