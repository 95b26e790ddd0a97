/**
 * Camera walks: a smooth closed loop at eye height (1.2–1.8 m) through the free space of the room, looking around
 * (yaw toward the room centre with a slow sweep, slight pitch and roll jitter). Every camera keeps at least
 * `MIN_CLEARANCE` from walls, floor, ceiling and every object's bounding box.
 */
import { focalFromFov, lookAtCamera, type Camera } from "../core/camera.ts";
import type { Rng } from "../core/rng.ts";
import type { SceneLayout } from "./layout.ts";
import type { V3 } from "./mesh.ts";

/** No camera comes closer than this to any surface (metres). */
export const MIN_CLEARANCE = 0.4;
/** Replica-like horizontal field of view. */
export const HFOV = Math.PI / 2;

/** Distance from p to the nearest surface bound: room walls, floor, ceiling, object boxes. */
export function clearance(layout: SceneLayout, p: readonly number[]): number {
  let d = Math.min(p[0], layout.width - p[0], p[2], layout.depth - p[2], p[1], layout.height - p[1]);
  for (const o of layout.objects) {
    const dx = Math.max(o.min[0] - p[0], 0, p[0] - o.max[0]);
    const dy = Math.max(o.min[1] - p[1], 0, p[1] - o.max[1]);
    const dz = Math.max(o.min[2] - p[2], 0, p[2] - o.max[2]);
    d = Math.min(d, Math.hypot(dx, dy, dz));
  }
  return d;
}

/** Closed Catmull–Rom spline through `pts` at parameter s ∈ [0, 1). */
function loopSpline(pts: V3[], s: number): V3 {
  const n = pts.length;
  const f = s * n, k = Math.floor(f) % n, t = f - Math.floor(f);
  const p0 = pts[(k + n - 1) % n], p1 = pts[k], p2 = pts[(k + 1) % n], p3 = pts[(k + 2) % n];
  const t2 = t * t, t3 = t2 * t;
  return [0, 1, 2].map(
    (a) => 0.5 * (2 * p1[a] + (-p0[a] + p2[a]) * t + (2 * p0[a] - 5 * p1[a] + 4 * p2[a] - p3[a]) * t2 + (-p0[a] + 3 * p1[a] - 3 * p2[a] + p3[a]) * t3),
  ) as V3;
}

/** Positions along a candidate loop, or null if any sample comes too close to a surface. */
function tryLoop(layout: SceneLayout, rng: Rng, samples: number): ((s: number) => V3) | null {
  const { width: W, depth: D } = layout;
  const cx = W / 2, cz = D / 2;
  const k = 4 + rng.int(3);
  const base = rng.uniform(1.3, 1.65);
  const pts: V3[] = [];
  const phase = rng.uniform(0, 2 * Math.PI);
  for (let i = 0; i < k; i++) {
    const a = phase + (2 * Math.PI * (i + rng.uniform(-0.25, 0.25))) / k;
    const r = rng.uniform(0.1, 0.45);
    pts.push([cx + r * W * Math.cos(a), base + rng.uniform(-0.12, 0.12), cz + r * D * Math.sin(a)]);
  }
  for (let i = 0; i < samples; i++) {
    const p = loopSpline(pts, i / samples);
    if (p[1] < 1.2 || p[1] > 1.8 || clearance(layout, p) < MIN_CLEARANCE + 0.02) return null;
  }
  return (s) => loopSpline(pts, s);
}

/** The walk of `frames` cameras for a layout at `width`×`height`. */
export function cameraWalk(layout: SceneLayout, rng: Rng, frames: number, width: number, height: number): Camera[] {
  let path: ((s: number) => V3) | null = null;
  for (let attempt = 0; attempt < 200 && !path; attempt++) path = tryLoop(layout, rng, Math.max(200, frames * 8));
  if (!path) path = fallbackSpot(layout);
  const fx = focalFromFov(HFOV, width);
  const sweep = rng.uniform(0.5, 0.9), sweeps = 1 + rng.int(3), sweepPhase = rng.uniform(0, 2 * Math.PI);
  const pitch0 = rng.uniform(-0.25, -0.05), rollPhase = rng.uniform(0, 2 * Math.PI);
  const cams: Camera[] = [];
  for (let f = 0; f < frames; f++) {
    const s = f / frames;
    const eye = path(s);
    const toCentre = Math.atan2(layout.width / 2 - eye[0], layout.depth / 2 - eye[2]);
    const yaw = toCentre + sweep * Math.sin(2 * Math.PI * sweeps * s + sweepPhase);
    const pitch = pitch0 + 0.08 * Math.sin(2 * Math.PI * 3 * s + sweepPhase);
    const roll = 0.04 * Math.sin(2 * Math.PI * 5 * s + rollPhase);
    const fwd: V3 = [Math.cos(pitch) * Math.sin(yaw), Math.sin(pitch), Math.cos(pitch) * Math.cos(yaw)];
    const cam = lookAtCamera(eye, [eye[0] + fwd[0], eye[1] + fwd[1], eye[2] + fwd[2]], [0, 1, 0], { width, height, fx });
    // Roll: rotate the camera's x and y axes about its optical axis.
    const m = cam.viewMatrix, c = Math.cos(roll), sn = Math.sin(roll);
    for (let col = 0; col < 4; col++) {
      const x = m[col], y = m[4 + col];
      m[col] = c * x + sn * y;
      m[4 + col] = -sn * x + c * y;
    }
    cam.name = String(f).padStart(6, "0");
    cams.push(cam);
  }
  return cams;
}

/** When no loop fits (a crowded room), turn on the spot with the most clearance. */
function fallbackSpot(layout: SceneLayout): (s: number) => V3 {
  let best: V3 = [layout.width / 2, 1.5, layout.depth / 2], bestD = -1;
  for (let i = 1; i < 40; i++) {
    for (let j = 1; j < 40; j++) {
      for (const y of [1.3, 1.5, 1.7]) {
        const p: V3 = [(layout.width * i) / 40, y, (layout.depth * j) / 40];
        const d = clearance(layout, p);
        if (d > bestD) [best, bestD] = [p, d];
      }
    }
  }
  return () => best;
}
