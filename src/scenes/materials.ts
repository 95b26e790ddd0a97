/**
 * Procedural materials. Every class draws its colours from palettes that several classes share, and its pattern
 * from the same few kinds, so colour alone says little about the class (DATA.md §1). Patterns are smooth at the
 * scale of a few centimetres so the Gaussians of a 150k-splat room can represent them.
 */
import type { Rng } from "../core/rng.ts";

export type Rgb = [number, number, number];
export type Pattern = "plain" | "noise" | "wood" | "stripes" | "checker";

/** A surface material: a two-colour pattern in world space plus a Blinn–Phong specular term. */
export interface Material {
  pattern: Pattern;
  base: Rgb;
  alt: Rgb;
  /** Pattern period in metres. */
  scale: number;
  /** Specular strength (0 = purely diffuse) and exponent. */
  ks: number;
  shininess: number;
  /** Offsets the pattern so two objects with one material kind do not line up. */
  phase: number;
}

/** Palettes shared across classes; a class picks from several, and every palette serves several classes. */
export const PALETTES: Readonly<Record<string, readonly Rgb[]>> = {
  wood: [
    [0.55, 0.38, 0.24],
    [0.68, 0.5, 0.32],
    [0.42, 0.28, 0.18],
    [0.78, 0.63, 0.45],
    [0.33, 0.22, 0.15],
  ],
  neutral: [
    [0.85, 0.84, 0.8],
    [0.72, 0.7, 0.66],
    [0.6, 0.6, 0.6],
    [0.9, 0.88, 0.82],
    [0.45, 0.45, 0.47],
    [0.78, 0.74, 0.68],
  ],
  muted: [
    [0.42, 0.5, 0.6],
    [0.5, 0.58, 0.45],
    [0.62, 0.42, 0.4],
    [0.58, 0.55, 0.4],
    [0.4, 0.42, 0.52],
    [0.66, 0.6, 0.7],
  ],
  bright: [
    [0.8, 0.3, 0.25],
    [0.25, 0.45, 0.75],
    [0.85, 0.7, 0.25],
    [0.3, 0.65, 0.4],
    [0.75, 0.45, 0.65],
  ],
  dark: [
    [0.15, 0.15, 0.16],
    [0.22, 0.2, 0.18],
    [0.18, 0.2, 0.25],
    [0.28, 0.26, 0.24],
  ],
};

/** A style a part may take: which palettes and patterns it draws from, and how shiny it may be. */
export interface MaterialStyle {
  palettes: readonly string[];
  patterns: readonly Pattern[];
  /** Upper bound of the specular strength; 0 keeps the part matte. */
  maxKs?: number;
}

const mix = (a: Rgb, b: Rgb, t: number): Rgb => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];

/** Draw a material in `style`: a palette colour with a little jitter, a pattern, and a specular term. */
export function drawMaterial(rng: Rng, style: MaterialStyle): Material {
  const palette = PALETTES[rng.pick(style.palettes)];
  const jitter = (c: Rgb): Rgb => c.map((v) => Math.min(1, Math.max(0, v * rng.uniform(0.85, 1.12) + rng.normal(0, 0.02)))) as Rgb;
  const base = jitter(rng.pick(palette));
  const pattern = rng.pick(style.patterns);
  // The second colour is either a shade of the first or another colour of the same palette, at moderate contrast.
  const other = rng.bernoulli(0.5) ? jitter(rng.pick(palette)) : (base.map((v) => v * rng.uniform(0.6, 0.85)) as Rgb);
  const alt = mix(base, other, pattern === "wood" ? rng.uniform(0.35, 0.6) : rng.uniform(0.25, 0.55));
  const maxKs = style.maxKs ?? 0.15;
  const shiny = maxKs > 0 && rng.bernoulli(0.5);
  return {
    pattern,
    base,
    alt,
    scale: pattern === "wood" ? rng.uniform(0.15, 0.35) : pattern === "noise" ? rng.uniform(0.2, 0.6) : rng.uniform(0.2, 0.45),
    ks: shiny ? rng.uniform(0.05, maxKs) : 0,
    shininess: rng.uniform(4, 12),
    phase: rng.uniform(0, 100),
  };
}

/** Hash of an integer lattice point to [0, 1). */
function hash2(i: number, j: number, seed: number): number {
  let h = Math.imul(i, 0x27d4eb2d) ^ Math.imul(j, 0x165667b1) ^ Math.imul(seed | 0, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Smooth value noise in [0, 1]. */
function valueNoise(x: number, y: number, seed: number): number {
  const i = Math.floor(x), j = Math.floor(y);
  const fx = x - i, fy = y - j;
  const sx = fx * fx * (3 - 2 * fx), sy = fy * fy * (3 - 2 * fy);
  const a = hash2(i, j, seed), b = hash2(i + 1, j, seed), c = hash2(i, j + 1, seed), d = hash2(i + 1, j + 1, seed);
  return a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy;
}

const smooth = (t: number) => (t <= 0 ? 0 : t >= 1 ? 1 : t * t * (3 - 2 * t));

/**
 * Albedo of `m` at world point (px, py, pz) on a surface with normal (nx, ny, nz), written to `out`. The pattern
 * lives in the plane across the normal's dominant axis, so boxes get consistent textures on every face.
 */
export function albedoAt(m: Material, px: number, py: number, pz: number, nx: number, ny: number, nz: number, out: Rgb): Rgb {
  let t = 0;
  if (m.pattern !== "plain") {
    const ax = Math.abs(nx), ay = Math.abs(ny), az = Math.abs(nz);
    const [a, b] = ay >= ax && ay >= az ? [px, pz] : ax >= az ? [pz, py] : [px, py];
    const u = a / m.scale + m.phase, v = b / m.scale + m.phase * 0.37;
    const seed = Math.floor(m.phase * 1000);
    switch (m.pattern) {
      case "noise":
        t = 0.6 * valueNoise(u, v, seed) + 0.4 * valueNoise(2.1 * u, 2.1 * v, seed + 1);
        break;
      case "wood": {
        // Rings along one axis, warped by low-frequency noise: the grain of a plank.
        const w = u + 1.5 * valueNoise(u * 0.3, v * 0.08, seed);
        t = smooth(0.5 + 0.8 * Math.sin(2 * Math.PI * w));
        break;
      }
      case "stripes":
        t = smooth(0.5 + 1.2 * Math.sin(2 * Math.PI * u));
        break;
      case "checker":
        t = smooth(0.5 + 1.5 * Math.sin(Math.PI * u) * Math.sin(Math.PI * v));
        break;
    }
  }
  out[0] = m.base[0] + (m.alt[0] - m.base[0]) * t;
  out[1] = m.base[1] + (m.alt[1] - m.base[1]) * t;
  out[2] = m.base[2] + (m.alt[2] - m.base[2]) * t;
  return out;
}
