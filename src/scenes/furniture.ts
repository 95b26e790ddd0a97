/**
 * Parametric furniture built from boxes and cylinders with random proportions. Each builder draws in a local frame:
 * origin at the centre of the footprint on the supporting surface, y up, front facing +z, width along x. It returns
 * the horizontal surfaces (local coordinates) that small objects may stand on.
 *
 * Context-only pairs share one builder on purpose: `tableLike` makes both desks and tables, `cabinetLike` both
 * cabinets and refrigerators, with overlapping size ranges, so only placement tells them apart.
 */
import type { Rng } from "../core/rng.ts";
import { drawMaterial, type MaterialStyle } from "./materials.ts";
import type { MeshBuilder } from "./mesh.ts";

/** A rectangle at height y, in the builder's local frame, where small objects may be put (clear height `room`). */
export interface Surface {
  x0: number;
  x1: number;
  z0: number;
  z1: number;
  y: number;
  room: number;
}

const ALL_PALETTES = ["wood", "neutral", "muted", "dark", "bright"] as const;
/** Styles deliberately overlap: every palette and most patterns serve many classes. */
export const STYLES = {
  solid: { palettes: ["wood", "neutral", "muted", "dark"], patterns: ["wood", "plain", "noise", "wood"], maxKs: 0.2 },
  fabric: { palettes: ["muted", "bright", "neutral", "dark", "wood"], patterns: ["plain", "noise", "stripes", "checker"], maxKs: 0 },
  metal: { palettes: ["neutral", "dark", "muted"], patterns: ["plain", "noise"], maxKs: 0.3 },
  any: { palettes: ALL_PALETTES, patterns: ["plain", "noise", "wood", "stripes", "checker"], maxKs: 0.25 },
  wall: { palettes: ["neutral", "muted", "neutral", "wood"], patterns: ["plain", "noise", "stripes", "plain"], maxKs: 0 },
  floor: { palettes: ["wood", "neutral", "dark", "muted"], patterns: ["wood", "checker", "noise", "plain"], maxKs: 0.15 },
  ceiling: { palettes: ["neutral", "muted"], patterns: ["plain", "noise"], maxKs: 0 },
} satisfies Record<string, MaterialStyle>;

/** Register a fresh material in `style` and make it current. */
export function useMaterial(b: MeshBuilder, rng: Rng, style: MaterialStyle): number {
  const m = b.addMaterial(drawMaterial(rng, style));
  b.current.material = m;
  return m;
}

/** Table or desk: a top slab on four legs (square or round legs). */
export function tableLike(b: MeshBuilder, rng: Rng, w: number, d: number, h: number): Surface[] {
  const top = rng.uniform(0.025, 0.05);
  const leg = rng.uniform(0.035, 0.07);
  const topMat = useMaterial(b, rng, STYLES.solid);
  b.box([-w / 2, h - top, -d / 2], [w / 2, h, d / 2], true);
  if (rng.bernoulli(0.5)) useMaterial(b, rng, STYLES.metal);
  else b.current.material = topMat;
  const inset = rng.uniform(0.02, 0.08);
  const round = rng.bernoulli(0.4);
  for (const sx of [-1, 1]) {
    for (const sz of [-1, 1]) {
      const x = sx * (w / 2 - inset - leg / 2), z = sz * (d / 2 - inset - leg / 2);
      if (round) b.cylinder(x, 0, z, leg / 2, h - top, 8);
      else b.box([x - leg / 2, 0, z - leg / 2], [x + leg / 2, h - top, z + leg / 2]);
    }
  }
  return [{ x0: -w / 2 + 0.05, x1: w / 2 - 0.05, z0: -d / 2 + 0.05, z1: d / 2 - 0.05, y: h, room: 0.6 }];
}

/** Chair: seat, four legs and a backrest at the back (−z), facing +z. */
export function chair(b: MeshBuilder, rng: Rng): void {
  const w = rng.uniform(0.4, 0.55), d = rng.uniform(0.4, 0.52), seat = rng.uniform(0.42, 0.5);
  const back = rng.uniform(0.35, 0.55);
  useMaterial(b, rng, rng.bernoulli(0.5) ? STYLES.fabric : STYLES.solid);
  b.box([-w / 2, seat - 0.05, -d / 2], [w / 2, seat, d / 2], true);
  b.box([-w / 2, seat, -d / 2], [w / 2, seat + back, -d / 2 + 0.05]);
  useMaterial(b, rng, rng.bernoulli(0.5) ? STYLES.metal : STYLES.solid);
  const leg = rng.uniform(0.025, 0.045);
  for (const sx of [-1, 1]) for (const sz of [-1, 1]) b.boxAt(sx * (w / 2 - leg), (seat - 0.05) / 2, sz * (d / 2 - leg), leg, seat - 0.05, leg);
}

/** Sofa: base, backrest, two arms. Returns the seat as a surface for pillows. */
export function sofa(b: MeshBuilder, rng: Rng, w: number, d: number): Surface[] {
  const seat = rng.uniform(0.38, 0.48), back = rng.uniform(0.7, 0.95), arm = rng.uniform(0.1, 0.22), armH = rng.uniform(0.55, 0.68);
  useMaterial(b, rng, STYLES.fabric);
  b.box([-w / 2 + arm, 0.05, -d / 2 + 0.18], [w / 2 - arm, seat, d / 2]);
  b.box([-w / 2 + arm, 0.05, -d / 2], [w / 2 - arm, back, -d / 2 + 0.18]);
  b.box([-w / 2, 0.05, -d / 2], [-w / 2 + arm, armH, d / 2]);
  b.box([w / 2 - arm, 0.05, -d / 2], [w / 2, armH, d / 2]);
  useMaterial(b, rng, STYLES.solid);
  for (const sx of [-1, 1]) for (const sz of [-1, 1]) b.boxAt(sx * (w / 2 - 0.05), 0.025, sz * (d / 2 - 0.05), 0.05, 0.05, 0.05);
  return [{ x0: -w / 2 + arm + 0.05, x1: w / 2 - arm - 0.05, z0: -d / 2 + 0.2, z1: -d / 2 + 0.45, y: seat, room: 0.5 }];
}

/** Bed: frame, mattress, headboard at −z. Returns the pillow zone at the head end. */
export function bed(b: MeshBuilder, rng: Rng, w: number, d: number): Surface[] {
  const frame = rng.uniform(0.2, 0.35), mattress = rng.uniform(0.15, 0.25), head = rng.uniform(0.8, 1.2);
  useMaterial(b, rng, STYLES.solid);
  b.box([-w / 2, 0, -d / 2], [w / 2, frame, d / 2]);
  b.box([-w / 2, 0, -d / 2], [w / 2, head, -d / 2 + 0.06]);
  useMaterial(b, rng, STYLES.fabric);
  b.box([-w / 2 + 0.03, frame, -d / 2 + 0.06], [w / 2 - 0.03, frame + mattress, d / 2 - 0.03]);
  const y = frame + mattress;
  return [{ x0: -w / 2 + 0.1, x1: w / 2 - 0.1, z0: -d / 2 + 0.12, z1: -d / 2 + 0.5, y, room: 0.5 }];
}

/** Cabinet or refrigerator: a body with one or two front doors and handles. */
export function cabinetLike(b: MeshBuilder, rng: Rng, w: number, d: number, h: number): Surface[] {
  useMaterial(b, rng, rng.bernoulli(0.5) ? STYLES.metal : STYLES.solid);
  b.box([-w / 2, 0, -d / 2], [w / 2, h, d / 2 - 0.015]);
  const doors = h > 1.2 && rng.bernoulli(0.5) ? 2 : 1;
  const split = rng.uniform(0.3, 0.65) * h;
  const handleMat = b.current.material;
  for (let k = 0; k < doors; k++) {
    const y0 = doors === 1 ? 0.03 : k === 0 ? 0.03 : split + 0.01;
    const y1 = doors === 1 ? h - 0.03 : k === 0 ? split - 0.01 : h - 0.03;
    b.current.material = handleMat;
    b.box([-w / 2 + 0.02, y0, d / 2 - 0.015], [w / 2 - 0.02, y1, d / 2]);
    useMaterial(b, rng, STYLES.metal);
    const hx = (rng.bernoulli(0.5) ? 1 : -1) * (w / 2 - 0.07);
    const hy = k === 0 && doors === 2 ? y1 - 0.15 : (y0 + y1) / 2;
    b.boxAt(hx, hy, d / 2 + 0.02, 0.025, Math.min(0.3, (y1 - y0) * 0.4), 0.03);
  }
  return h < 1.3 ? [{ x0: -w / 2 + 0.05, x1: w / 2 - 0.05, z0: -d / 2 + 0.05, z1: d / 2 - 0.05, y: h, room: 0.6 }] : [];
}

/** Nightstand: a small drawer box. */
export function nightstand(b: MeshBuilder, rng: Rng, w: number, d: number, h: number): Surface[] {
  useMaterial(b, rng, STYLES.solid);
  b.box([-w / 2, 0, -d / 2], [w / 2, h, d / 2 - 0.01]);
  const drawers = rng.int(2) + 1;
  useMaterial(b, rng, STYLES.any);
  for (let k = 0; k < drawers; k++) {
    const y0 = 0.04 + ((h - 0.08) * k) / drawers, y1 = 0.04 + ((h - 0.08) * (k + 1)) / drawers - 0.02;
    b.box([-w / 2 + 0.03, y0, d / 2 - 0.01], [w / 2 - 0.03, y1, d / 2 + 0.005]);
  }
  return [{ x0: -w / 2 + 0.04, x1: w / 2 - 0.04, z0: -d / 2 + 0.04, z1: d / 2 - 0.04, y: h, room: 0.6 }];
}

/** Open shelf: sides, back, boards. Every board is a surface. */
export function shelf(b: MeshBuilder, rng: Rng, w: number, d: number, h: number): Surface[] {
  const t = rng.uniform(0.02, 0.035);
  useMaterial(b, rng, STYLES.solid);
  b.box([-w / 2, 0, -d / 2], [-w / 2 + t, h, d / 2]);
  b.box([w / 2 - t, 0, -d / 2], [w / 2, h, d / 2]);
  b.box([-w / 2 + t, 0, -d / 2], [w / 2 - t, h, -d / 2 + t]);
  const boards = Math.max(2, Math.round(h / rng.uniform(0.3, 0.42)));
  const out: Surface[] = [];
  for (let k = 0; k <= boards; k++) {
    const y = k === 0 ? 0.05 : k === boards ? h - t : (h * k) / boards;
    b.box([-w / 2 + t, y - t, -d / 2 + t], [w / 2 - t, y, d / 2]);
    const gap = k < boards ? h / boards - t - 0.01 : 0.5;
    out.push({ x0: -w / 2 + t + 0.02, x1: w / 2 - t - 0.02, z0: -d / 2 + t + 0.02, z1: d / 2 - 0.03, y, room: gap });
  }
  return out;
}

/** Kitchen counter segment: base cabinet with a top slab overhanging the front. */
export function counter(b: MeshBuilder, rng: Rng, w: number, d: number, h: number): Surface[] {
  useMaterial(b, rng, STYLES.solid);
  b.box([-w / 2, 0.08, -d / 2], [w / 2, h - 0.04, d / 2 - 0.03]);
  b.box([-w / 2 + 0.02, 0, -d / 2], [w / 2 - 0.02, 0.08, d / 2 - 0.08]);
  useMaterial(b, rng, rng.bernoulli(0.5) ? STYLES.metal : STYLES.any);
  b.box([-w / 2, h - 0.04, -d / 2], [w / 2, h, d / 2 + 0.01], true);
  return [{ x0: -w / 2 + 0.05, x1: w / 2 - 0.05, z0: -d / 2 + 0.05, z1: d / 2 - 0.08, y: h, room: 0.5 }];
}

/** Lamp: a pole on a foot with a shade; floor-standing when `height` is large, table lamp otherwise. */
export function lamp(b: MeshBuilder, rng: Rng, height: number): void {
  const foot = rng.uniform(0.08, 0.16) * Math.min(1, height);
  const shadeH = rng.uniform(0.15, 0.3) * Math.min(1.2, height + 0.3);
  useMaterial(b, rng, STYLES.metal);
  b.cylinder(0, 0, 0, foot, 0.03, 12);
  b.cylinder(0, 0.03, 0, 0.012, height - shadeH - 0.03, 6);
  useMaterial(b, rng, STYLES.fabric);
  const r = rng.uniform(0.1, 0.2) * Math.min(1.2, height + 0.4);
  b.cylinder(0, height - shadeH, 0, r, shadeH, 16, true, r * rng.uniform(0.6, 0.9));
}

/** Monitor or TV: a thin screen on a stand. */
export function monitor(b: MeshBuilder, rng: Rng, w: number): void {
  const h = w * rng.uniform(0.55, 0.65), t = rng.uniform(0.02, 0.05), lift = rng.uniform(0.08, 0.18);
  useMaterial(b, rng, STYLES.metal);
  b.box([-0.1 * w - 0.05, 0, -0.08], [0.1 * w + 0.05, 0.015, 0.08]);
  b.box([-0.02, 0.015, -0.02], [0.02, lift + 0.05, 0.01]);
  useMaterial(b, rng, { palettes: ["dark", "neutral", "muted"], patterns: ["plain", "noise"], maxKs: 0.3 });
  b.box([-w / 2, lift, 0.01], [w / 2, lift + h, 0.01 + t], true);
}

/** Plant: a pot with a cluster of foliage blocks. */
export function plant(b: MeshBuilder, rng: Rng, size: number): void {
  const potR = size * rng.uniform(0.18, 0.28), potH = size * rng.uniform(0.25, 0.4);
  useMaterial(b, rng, STYLES.any);
  b.cylinder(0, 0, 0, potR * 0.8, potH, 12, false, potR);
  useMaterial(b, rng, { palettes: ["muted", "dark", "bright", "wood"], patterns: ["noise", "stripes", "plain"], maxKs: 0.1 });
  const leaves = 3 + rng.int(4);
  for (let k = 0; k < leaves; k++) {
    const a = rng.uniform(0, 2 * Math.PI), r = rng.uniform(0, potR);
    const s = size * rng.uniform(0.25, 0.45);
    const y = potH + rng.uniform(0, size * 0.5);
    b.boxAt(r * Math.cos(a), y + s / 2, r * Math.sin(a), s * rng.uniform(0.6, 1.2), s, s * rng.uniform(0.6, 1.2));
  }
}

/** Book: a box standing upright (spine toward +z). */
export function book(b: MeshBuilder, rng: Rng, maxH: number): { w: number; d: number } {
  const h = Math.min(maxH, rng.uniform(0.17, 0.3)), thick = rng.uniform(0.02, 0.06), depth = rng.uniform(0.12, 0.22);
  useMaterial(b, rng, STYLES.any);
  b.box([-thick / 2, 0, -depth / 2], [thick / 2, h, depth / 2]);
  return { w: thick, d: depth };
}

/** Vase: a tapered cylinder, sometimes with a neck. */
export function vase(b: MeshBuilder, rng: Rng, maxH: number): void {
  const h = Math.min(maxH, rng.uniform(0.15, 0.35)), r = rng.uniform(0.04, 0.09);
  useMaterial(b, rng, STYLES.any);
  b.cylinder(0, 0, 0, r * 0.7, h * 0.6, 12, false, r);
  b.cylinder(0, h * 0.6, 0, r, h * 0.4, 12, false, r * 0.55);
}

/** Cup: a slightly flared short cylinder. */
export function cup(b: MeshBuilder, rng: Rng): void {
  useMaterial(b, rng, STYLES.any);
  const r = rng.uniform(0.035, 0.05);
  b.cylinder(0, 0, 0, r * 0.85, rng.uniform(0.07, 0.11), 10, false, r);
}

/** Bottle: body, shoulder and neck. */
export function bottle(b: MeshBuilder, rng: Rng, maxH: number): void {
  useMaterial(b, rng, STYLES.any);
  const r = rng.uniform(0.03, 0.045), h = Math.min(maxH, rng.uniform(0.2, 0.32));
  b.cylinder(0, 0, 0, r, h * 0.65, 10);
  b.cylinder(0, h * 0.65, 0, r, h * 0.15, 10, false, r * 0.35);
  b.cylinder(0, h * 0.8, 0, r * 0.35, h * 0.2, 8);
}

/** Pillow: a flattened box. */
export function pillow(b: MeshBuilder, rng: Rng, w: number, d: number): void {
  useMaterial(b, rng, STYLES.fabric);
  b.box([-w / 2, 0, -d / 2], [w / 2, rng.uniform(0.1, 0.18), d / 2]);
}

/** A plain box (storage box, parcel). */
export function boxObject(b: MeshBuilder, rng: Rng, w: number, d: number, h: number): void {
  useMaterial(b, rng, STYLES.any);
  b.box([-w / 2, 0, -d / 2], [w / 2, h, d / 2]);
}
