/** The viewer's test and automation hook, `window.rtgs2Viewer`. Types only. */

export type Mode = "rgb" | "depth" | "pca" | "labels";

export interface ViewerApi {
  ready: Promise<{ backend: string; count: number; modes: Mode[]; loadMs: number }>;
  backend?: string;
  /** Render one frame now and wait for the GPU. */
  renderNow(): Promise<{ sortMs: number; frameMs: number }>;
  /** Render `frames` frames, turning the camera slightly each time (so each frame sorts anew). */
  bench(frames: number): Promise<{ fps: number; sortMs: number; frameMs: number; width: number; height: number }>;
  setCamera(i: number): void;
  setMode(m: Mode): void;
  error?: string;
}

declare global {
  interface Window {
    rtgs2Viewer: ViewerApi;
  }
}
