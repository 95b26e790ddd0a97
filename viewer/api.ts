/** The viewer's test and automation hook, `window.rtgs2Viewer`. Types only. */

export type Mode = "rgb" | "depth" | "pca" | "labels" | "segmentation";

/** One live segmentation of the current view. */
export interface SegmentationInfo {
  /** jax-js device the network ran on. */
  device: string;
  /** Network input size. */
  width: number;
  height: number;
  /** `[height·width]` argmax classes, rows from the top. */
  labels: number[];
  /** Offscreen RGB + feature passes and their read-back. */
  readMs: number;
  /** Network forward, input upload and logits read-back included. */
  networkMs: number;
}

export interface ViewerApi {
  ready: Promise<{ backend: string; count: number; modes: Mode[]; loadMs: number }>;
  backend?: string;
  /** Render one frame now and wait for the GPU. */
  renderNow(): Promise<{ sortMs: number; frameMs: number }>;
  /** Render `frames` frames, turning the camera slightly each time (so each frame sorts anew). */
  bench(frames: number): Promise<{ fps: number; sortMs: number; frameMs: number; width: number; height: number }>;
  setCamera(i: number): void;
  setMode(m: Mode): void;
  /** Segment the current view now (loads the network on first use); also paints the overlay in segmentation mode. */
  segment(): Promise<SegmentationInfo>;
  /** The network's inputs for the current view (its offscreen passes, read back), without running it. */
  networkInputs(): Promise<{ width: number; height: number; rgb: number[]; features: number[] }>;
  /** The network alone on given inputs (`[H·W·3]` RGB, `[H·W·C]` features): logits `[H·W·K]` (parity tests). */
  runNetwork(rgb: number[], features: number[], width: number, height: number): Promise<{ logits: number[]; device: string; ms: number }>;
  error?: string;
}

declare global {
  interface Window {
    rtgs2Viewer: ViewerApi;
  }
}
