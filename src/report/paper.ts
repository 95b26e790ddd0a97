/**
 * RT-GS2's published figures (BMVC 2024, /work/shared/paper/rt-gs2.txt, Tables 1–3): mIoU / mAcc / oAcc in
 * percent, on 640×480 views, 27.03 FPS on an RTX 3090 with the paper config. They were measured on other data
 * (Replica, ScanNet, ScanNet++), so the report shows them only beside ours, never as a like-for-like comparison.
 */

export interface PaperRow {
  dataset: "Replica" | "ScanNet" | "ScanNet++";
  setting: "generalization" | "fine-tuned";
  mIoU: number;
  mAcc: number;
  oAcc: number;
  fps: number;
}

/** End-to-end FPS the paper reports (RTX 3090, 640×480, paper config). */
export const PAPER_FPS = 27.03;

/** The paper's "Ours" rows. */
export const PAPER_RESULTS: readonly PaperRow[] = Object.freeze([
  { dataset: "Replica", setting: "generalization", mIoU: 59.24, mAcc: 66.04, oAcc: 93.99, fps: PAPER_FPS },
  { dataset: "Replica", setting: "fine-tuned", mIoU: 93.75, mAcc: 96.19, oAcc: 99.33, fps: PAPER_FPS },
  { dataset: "ScanNet", setting: "generalization", mIoU: 53.27, mAcc: 62.43, oAcc: 81.2, fps: PAPER_FPS },
  { dataset: "ScanNet", setting: "fine-tuned", mIoU: 96.94, mAcc: 98.87, oAcc: 99.01, fps: PAPER_FPS },
  { dataset: "ScanNet++", setting: "generalization", mIoU: 66.14, mAcc: 77.32, oAcc: 83.79, fps: PAPER_FPS },
  { dataset: "ScanNet++", setting: "fine-tuned", mIoU: 91.85, mAcc: 95.73, oAcc: 96.24, fps: PAPER_FPS },
] as const);
