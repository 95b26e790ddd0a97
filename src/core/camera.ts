/**
 * The one camera type of rtgs2: pinhole intrinsics plus a world-to-camera transform in the OpenCV convention
 * (x right, y down, z forward). Pixel (i, j) has its centre at (i + 0.5, j + 0.5). Every other convention is
 * converted at the edge by the functions in camera-convert.ts.
 */
import { ConfigError } from "./errors.ts";
import { cross3, normalize3, sub3, dot3, type Mat4, type Vec3 } from "./math.ts";

/** Pinhole intrinsics in rtgs2's convention: pixel (i, j) has its centre at (i + 0.5, j + 0.5). */
export interface Intrinsics {
  width: number;
  height: number;
  fx: number;
  fy: number;
  cx: number;
  cy: number;
}

export interface Camera extends Intrinsics {
  /** World-to-camera, row-major 4×4, OpenCV axes. */
  viewMatrix: Mat4;
  /** Optional name (image file name, frame id). */
  name?: string;
}

/** Focal length in pixels for a field of view (radians) spanning `pixels`. */
export function focalFromFov(fov: number, pixels: number): number {
  return pixels / (2 * Math.tan(fov / 2));
}

/** Camera centre in world coordinates: −Rᵀt. */
export function cameraCenter(cam: Camera): Vec3 {
  const m = cam.viewMatrix;
  return [
    -(m[0] * m[3] + m[4] * m[7] + m[8] * m[11]),
    -(m[1] * m[3] + m[5] * m[7] + m[9] * m[11]),
    -(m[2] * m[3] + m[6] * m[7] + m[10] * m[11]),
  ];
}

/** The world direction that points up in the camera's images (its −y axis). */
export function imageUp(cam: Camera): Vec3 {
  const m = cam.viewMatrix;
  return [-m[4], -m[5], -m[6]];
}

/** The normalized mean of the cameras' image-up directions: "up" for a scene that was captured upright. */
export function meanImageUp(cams: readonly Camera[]): Vec3 {
  const sum: Vec3 = [0, 0, 0];
  for (const c of cams) {
    const u = imageUp(c);
    for (let a = 0; a < 3; a++) sum[a] += u[a];
  }
  return normalize3(sum);
}

/** Project a world point to pixel coordinates (continuous; pixel centres at +0.5) and its view depth. */
export function projectPoint(cam: Camera, p: Vec3): { u: number; v: number; depth: number } {
  const m = cam.viewMatrix;
  const x = m[0] * p[0] + m[1] * p[1] + m[2] * p[2] + m[3];
  const y = m[4] * p[0] + m[5] * p[1] + m[6] * p[2] + m[7];
  const z = m[8] * p[0] + m[9] * p[1] + m[10] * p[2] + m[11];
  return { u: (cam.fx * x) / z + cam.cx, v: (cam.fy * y) / z + cam.cy, depth: z };
}

/**
 * A camera at `eye` looking at `target`. `up` is the world direction that appears upward in the image
 * (the camera's −y axis points along its projection).
 */
export function lookAtCamera(
  eye: Vec3,
  target: Vec3,
  up: Vec3,
  intr: { width: number; height: number; fx: number; fy?: number; cx?: number; cy?: number },
): Camera {
  const z = normalize3(sub3(target, eye));
  const xRaw = cross3(z, up);
  if (Math.hypot(...xRaw) < 1e-12) throw new ConfigError("up", "is parallel to the viewing direction");
  const x = normalize3(xRaw);
  const y = cross3(z, x); // completes a right-handed frame with y pointing down in the image
  const m = new Float64Array(16);
  const rows = [x, y, z];
  for (let r = 0; r < 3; r++) {
    m[r * 4] = rows[r][0];
    m[r * 4 + 1] = rows[r][1];
    m[r * 4 + 2] = rows[r][2];
    m[r * 4 + 3] = -dot3(rows[r], eye);
  }
  m[15] = 1;
  return {
    width: intr.width,
    height: intr.height,
    fx: intr.fx,
    fy: intr.fy ?? intr.fx,
    cx: intr.cx ?? intr.width / 2,
    cy: intr.cy ?? intr.height / 2,
    viewMatrix: m,
  };
}

/** Check that a camera is usable; `where` names its source in the error. */
export function validateCamera(cam: Camera, where: string): void {
  const bad = (f: string, why: string) => new ConfigError(`${where}.${f}`, why);
  for (const k of ["width", "height"] as const) {
    if (!Number.isInteger(cam[k]) || cam[k] <= 0 || cam[k] > 16384) throw bad(k, `must be an integer in 1..16384, got ${cam[k]}`);
  }
  for (const k of ["fx", "fy", "cx", "cy"] as const) {
    if (!Number.isFinite(cam[k])) throw bad(k, `must be finite, got ${cam[k]}`);
  }
  if (cam.fx <= 0 || cam.fy <= 0) throw bad("fx", "focal lengths must be positive");
  if (cam.viewMatrix.length !== 16 || !Array.from(cam.viewMatrix).every(Number.isFinite)) {
    throw bad("viewMatrix", "must be 16 finite numbers");
  }
}
