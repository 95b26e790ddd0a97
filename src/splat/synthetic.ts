/**
 * A procedural "dollhouse" cloud for benchmarks and tests when no file is at hand: a floor, two walls, box
 * furniture and spheres, covered by flat surface Gaussians with textured colours, SH degree 3 and varied opacity.
 * Gaussian size shrinks as 1/√N so coverage, and the work per pixel, stay comparable across splat counts,
 * as they do between a coarse and a dense 3DGS reconstruction of the same room.
 */
import { Rng } from "../core/rng.ts";
import { allocateCloud, shRestCount, SH_C0, type GaussianCloud } from "./cloud.ts";

type V3 = [number, number, number];
interface Patch {
  area: number;
  /** Point and outward normal for u, v ∈ [0, 1]². */
  sample(u: number, v: number): { p: V3; n: V3 };
}

function rect(origin: V3, du: V3, dv: V3, normal: V3): Patch {
  const area = Math.hypot(...du) * Math.hypot(...dv);
  return {
    area,
    sample: (u, v) => ({ p: [0, 1, 2].map((a) => origin[a] + u * du[a] + v * dv[a]) as V3, n: normal }),
  };
}

/** The five visible faces of an axis-aligned box standing on the floor (y is down: the floor is at y = 0). */
function box(cx: number, cz: number, w: number, h: number, d: number): Patch[] {
  const x0 = cx - w / 2, z0 = cz - d / 2;
  return [
    rect([x0, -h, z0], [w, 0, 0], [0, 0, d], [0, -1, 0]),
    rect([x0, -h, z0], [w, 0, 0], [0, h, 0], [0, 0, -1]),
    rect([x0, -h, z0 + d], [w, 0, 0], [0, h, 0], [0, 0, 1]),
    rect([x0, -h, z0], [0, 0, d], [0, h, 0], [-1, 0, 0]),
    rect([x0 + w, -h, z0], [0, 0, d], [0, h, 0], [1, 0, 0]),
  ];
}

function sphere(c: V3, r: number): Patch {
  return {
    area: 4 * Math.PI * r * r,
    sample: (u, v) => {
      const z = 2 * u - 1, phi = 2 * Math.PI * v, s = Math.sqrt(1 - z * z);
      const n: V3 = [s * Math.cos(phi), s * Math.sin(phi), z];
      return { p: [c[0] + r * n[0], c[1] + r * n[1], c[2] + r * n[2]], n };
    },
  };
}

/** A seeded synthetic room of `count` Gaussians, SH degree 3, y down (the 3DGS RDF habit). */
export function syntheticRoomCloud(count: number, seed = 1): GaussianCloud {
  const rng = new Rng(seed);
  const W = 6, D = 5, H = 3;
  const patches: Patch[] = [
    rect([-W / 2, 0, -D / 2], [W, 0, 0], [0, 0, D], [0, -1, 0]),
    rect([-W / 2, -H, D / 2], [W, 0, 0], [0, H, 0], [0, 0, -1]),
    rect([W / 2, -H, -D / 2], [0, 0, D], [0, H, 0], [-1, 0, 0]),
    ...box(-1.5, 1, 1.6, 0.75, 0.9),
    ...box(1.4, 1.6, 0.8, 1.8, 0.5),
    ...box(0.3, -0.8, 0.5, 0.45, 0.5),
    sphere([-1.4, -1.0, 1.1], 0.25),
    sphere([0.8, -0.3, -0.2], 0.3),
    sphere([2, -0.5, -1.5], 0.5),
  ];
  const total = patches.reduce((s, p) => s + p.area, 0);
  const cdf = patches.map(((acc) => (p: Patch) => (acc += p.area / total))(0));
  const sigma = 0.8 * Math.sqrt(total / count);
  const cloud = allocateCloud(count, 3);
  const K = shRestCount(3);
  for (let i = 0; i < count; i++) {
    const pick = rng.uniform();
    let k = 0;
    while (k < patches.length - 1 && cdf[k] < pick) k++;
    const { p, n } = patches[k].sample(rng.uniform(), rng.uniform());
    cloud.positions.set(p, i * 3);
    const s = sigma * Math.exp(0.3 * rng.normal());
    cloud.logScales.set([Math.log(s), Math.log(s * rng.uniform(0.5, 1)), Math.log(0.1 * s)], i * 3);
    cloud.rotations.set(quatZTo(n), i * 4);
    cloud.opacityLogits[i] = 2 + 1.5 * rng.normal();
    // Smooth per-patch colour with a stripe texture, so renders have structure.
    const stripe = 0.5 + 0.5 * Math.sin(7 * p[0] + 5 * p[2] - 3 * p[1]);
    for (let c = 0; c < 3; c++) {
      const base = 0.25 + 0.5 * ((((k + 1) * (c + 3) * 37) % 11) / 10);
      cloud.shDc[i * 3 + c] = (base * (0.7 + 0.3 * stripe) + 0.03 * rng.normal() - 0.5) / SH_C0;
    }
    for (let j = 0; j < K * 3; j++) cloud.shRest[i * K * 3 + j] = 0.05 * rng.normal();
  }
  return cloud;
}

/** Unit quaternion (w, x, y, z) rotating +z onto unit vector n. */
function quatZTo(n: V3): [number, number, number, number] {
  if (n[2] < -0.999999) return [0, 1, 0, 0];
  const w = 1 + n[2], x = -n[1], y = n[0];
  const len = Math.hypot(w, x, y);
  return [w / len, x / len, y / len, 0];
}
