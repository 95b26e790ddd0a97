/** What both GPU back-ends implement, and the per-frame parameters they take. */
import type { Packed } from "./prepare.ts";

/** 0 RGB (SH colour), 1 depth, 2 the per-Gaussian alternative colour (feature PCA or class colour). */
export type ColorSource = 0 | 1 | 2;

export interface FrameParams {
  /** Row-major world-to-camera 4×4 (OpenCV). */
  view: ArrayLike<number>;
  fx: number;
  fy: number;
  cx: number;
  cy: number;
  width: number;
  height: number;
  near: number;
  center: [number, number, number];
  source: ColorSource;
  background: [number, number, number];
  /** Depth mode: metres mapped to the colour ramp's ends. */
  depthRange: [number, number];
}

export interface SplatRenderer {
  readonly backend: "webgpu" | "webgl2";
  upload(p: Packed): void;
  /** Per-Gaussian vec4 colours for ColorSource 2. */
  setAltColors(c: Float32Array): void;
  /** Draw `count` Gaussians in `order` (front to back) and show the result on the canvas. */
  draw(frame: FrameParams, order: Uint32Array, count: number): void;
  /** Resolves when the GPU has finished the submitted work. */
  finish(): Promise<void>;
  /** Per-Gaussian vec4 colour sets for {@link readChannels} (e.g. 3 feature channels each), kept on the GPU. */
  setChannelSets(sets: Float32Array[]): void;
  /**
   * Offscreen passes at `frame.width`×`frame.height`, the canvas untouched: for each source (`"rgb"`: the SH
   * colour; a number k: colour set k of {@link setChannelSets}) the accumulation target read back as float32
   * `[H·W·4]`, rows from the top: (Σ c·α·T per channel, 1 − T), no background (float16 precision).
   */
  readChannels(frame: FrameParams, order: Uint32Array, count: number, sources: ("rgb" | number)[]): Promise<Float32Array[]>;
}

/** Uniform block: 8 vec4 (128 B), the same for WGSL and GLSL. */
export function uniformData(f: FrameParams, shStride: number, shDegree: number): Float32Array {
  const u = new Float32Array(32);
  const v = f.view;
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) u[r * 4 + c] = v[r * 4 + c];
  u.set([f.fx, f.fy, f.cx, f.cy], 12);
  u.set([f.width, f.height, f.near, shDegree], 16);
  u.set([f.center[0], f.center[1], f.center[2], f.source], 20);
  u.set([f.background[0], f.background[1], f.background[2], shStride], 24);
  u.set([f.depthRange[0], f.depthRange[1], 0, 0], 28);
  return u;
}
