/** Small vector helpers and the viewer's camera: rtgs2's convention (OpenCV world-to-camera, row-major). */
export type V3 = [number, number, number];

export const add = (a: V3, b: V3): V3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
export const sub = (a: V3, b: V3): V3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
export const scale = (a: V3, s: number): V3 => [a[0] * s, a[1] * s, a[2] * s];
export const dot = (a: V3, b: V3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
export const cross = (a: V3, b: V3): V3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
export const norm = (a: V3): V3 => scale(a, 1 / (Math.hypot(a[0], a[1], a[2]) || 1));

/** Rotate `v` by `angle` radians about unit `axis` (Rodrigues). */
export function rotate(v: V3, axis: V3, angle: number): V3 {
  const c = Math.cos(angle), s = Math.sin(angle);
  const k = dot(axis, v) * (1 - c);
  const x = cross(axis, v);
  return [v[0] * c + x[0] * s + axis[0] * k, v[1] * c + x[1] * s + axis[1] * k, v[2] * c + x[2] * s + axis[2] * k];
}

/** A camera as served by /api/cameras.json. */
export interface CameraJson {
  name: string;
  width: number;
  height: number;
  fx: number;
  fy: number;
  cx: number;
  cy: number;
  viewMatrix: number[];
}

/** Camera pose: rows of the world-to-camera rotation (right, down, forward in world axes) and the centre. */
export interface Pose {
  right: V3;
  down: V3;
  forward: V3;
  center: V3;
}

export function poseFromView(m: ArrayLike<number>): Pose {
  const right: V3 = [m[0], m[1], m[2]], down: V3 = [m[4], m[5], m[6]], forward: V3 = [m[8], m[9], m[10]];
  const t: V3 = [m[3], m[7], m[11]];
  // centre = −Rᵀt
  const center: V3 = [
    -(right[0] * t[0] + down[0] * t[1] + forward[0] * t[2]),
    -(right[1] * t[0] + down[1] * t[1] + forward[1] * t[2]),
    -(right[2] * t[0] + down[2] * t[1] + forward[2] * t[2]),
  ];
  return { right, down, forward, center };
}

/** Row-major 4×4 world-to-camera of a pose. */
export function viewFromPose(p: Pose): Float64Array {
  const m = new Float64Array(16);
  const rows = [p.right, p.down, p.forward];
  for (let r = 0; r < 3; r++) {
    m[r * 4] = rows[r][0];
    m[r * 4 + 1] = rows[r][1];
    m[r * 4 + 2] = rows[r][2];
    m[r * 4 + 3] = -dot(rows[r], p.center);
  }
  m[15] = 1;
  return m;
}

/** Re-orthonormalize a pose (drift after many incremental rotations). */
export function orthonormalize(p: Pose): Pose {
  const forward = norm(p.forward);
  const right = norm(cross(p.down, forward));
  const down = cross(forward, right);
  return { right, down, forward, center: p.center };
}
