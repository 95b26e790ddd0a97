/**
 * The scene mesh: triangles with a per-triangle outward normal, class, instance and material. Ground-truth images
 * are rasterized from it and the Gaussians are sampled on it, so both see exactly the same surfaces.
 */
import type { Material } from "./materials.ts";

export type V3 = [number, number, number];

/** A finished scene mesh (struct of typed arrays). */
export interface SceneMesh {
  /** [V·3] metres, y up. */
  positions: Float32Array;
  /** [T·3] vertex indices. */
  indices: Uint32Array;
  /** [T·3] unit outward normal per triangle. */
  normals: Float32Array;
  triClass: Uint16Array;
  triInstance: Uint16Array;
  triMaterial: Uint16Array;
  materials: Material[];
}

/** Yaw about +y and a translation: where a piece of furniture's local frame sits in the room. */
export interface Placement {
  x: number;
  z: number;
  /** Floor height offset (objects standing on other objects). */
  y: number;
  yaw: number;
}

/** Accumulates quads, boxes and cylinders into a `SceneMesh`. */
export class MeshBuilder {
  private readonly pos: number[] = [];
  private readonly idx: number[] = [];
  private readonly nrm: number[] = [];
  private readonly cls: number[] = [];
  private readonly inst: number[] = [];
  private readonly mat: number[] = [];
  readonly materials: Material[] = [];
  /** Class, instance and material that the next primitives get. */
  current = { cls: 0, instance: 0, material: 0 };
  /** Local-to-world placement applied to the next primitives. */
  placement: Placement = { x: 0, y: 0, z: 0, yaw: 0 };

  /** Register a material; returns its index. */
  addMaterial(m: Material): number {
    this.materials.push(m);
    return this.materials.length - 1;
  }

  private toWorld(p: V3): V3 {
    const c = Math.cos(this.placement.yaw), s = Math.sin(this.placement.yaw);
    return [this.placement.x + c * p[0] + s * p[2], this.placement.y + p[1], this.placement.z - s * p[0] + c * p[2]];
  }

  /** One triangle in local coordinates; its normal follows the winding (a→b→c counter-clockwise seen from outside). */
  triangle(a: V3, b: V3, c: V3): void {
    const wa = this.toWorld(a), wb = this.toWorld(b), wc = this.toWorld(c);
    const e1 = [wb[0] - wa[0], wb[1] - wa[1], wb[2] - wa[2]];
    const e2 = [wc[0] - wa[0], wc[1] - wa[1], wc[2] - wa[2]];
    const n = [e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0]];
    const len = Math.hypot(n[0], n[1], n[2]);
    if (len < 1e-12) return;
    const base = this.pos.length / 3;
    this.pos.push(...wa, ...wb, ...wc);
    this.idx.push(base, base + 1, base + 2);
    this.nrm.push(n[0] / len, n[1] / len, n[2] / len);
    this.cls.push(this.current.cls);
    this.inst.push(this.current.instance);
    this.mat.push(this.current.material);
  }

  /** Parallelogram o, o+du, o+du+dv, o+dv; the normal is du × dv. */
  quad(o: V3, du: V3, dv: V3): void {
    const p1: V3 = [o[0] + du[0], o[1] + du[1], o[2] + du[2]];
    const p2: V3 = [p1[0] + dv[0], p1[1] + dv[1], p1[2] + dv[2]];
    const p3: V3 = [o[0] + dv[0], o[1] + dv[1], o[2] + dv[2]];
    this.triangle(o, p1, p2);
    this.triangle(o, p2, p3);
  }

  /** Axis-aligned (in the local frame) box from min to max with outward faces; `bottom` false skips the floor face. */
  box(min: V3, max: V3, bottom = false): void {
    const [x0, y0, z0] = min, [x1, y1, z1] = max;
    const dx = x1 - x0, dy = y1 - y0, dz = z1 - z0;
    this.quad([x0, y1, z0], [0, 0, dz], [dx, 0, 0]); // top (+y)
    if (bottom) this.quad([x0, y0, z0], [dx, 0, 0], [0, 0, dz]);
    this.quad([x0, y0, z1], [dx, 0, 0], [0, dy, 0]); // +z
    this.quad([x1, y0, z0], [-dx, 0, 0], [0, dy, 0]); // −z
    this.quad([x1, y0, z0], [0, dy, 0], [0, 0, dz]); // +x
    this.quad([x0, y0, z0], [0, 0, dz], [0, dy, 0]); // −x
  }

  /** Box given by its centre and size. */
  boxAt(cx: number, cy: number, cz: number, sx: number, sy: number, sz: number, bottom = false): void {
    this.box([cx - sx / 2, cy - sy / 2, cz - sz / 2], [cx + sx / 2, cy + sy / 2, cz + sz / 2], bottom);
  }

  /** Vertical cylinder (faceted) standing at (cx, y0, cz); caps as fans. */
  cylinder(cx: number, y0: number, cz: number, radius: number, height: number, segments = 14, bottom = false, topRadius = radius): void {
    const y1 = y0 + height;
    for (let k = 0; k < segments; k++) {
      const a0 = (2 * Math.PI * k) / segments, a1 = (2 * Math.PI * (k + 1)) / segments;
      const b0: V3 = [cx + radius * Math.cos(a0), y0, cz + radius * Math.sin(a0)];
      const b1: V3 = [cx + radius * Math.cos(a1), y0, cz + radius * Math.sin(a1)];
      const t0: V3 = [cx + topRadius * Math.cos(a0), y1, cz + topRadius * Math.sin(a0)];
      const t1: V3 = [cx + topRadius * Math.cos(a1), y1, cz + topRadius * Math.sin(a1)];
      this.triangle(b0, t1, b1);
      this.triangle(b0, t0, t1);
      if (topRadius > 0) this.triangle([cx, y1, cz], t1, t0);
      if (bottom) this.triangle([cx, y0, cz], b0, b1);
    }
  }

  /** World-space bounds of the triangles added since triangle `start`. */
  boundsSince(start: number): { min: V3; max: V3 } {
    const min: V3 = [Infinity, Infinity, Infinity], max: V3 = [-Infinity, -Infinity, -Infinity];
    for (let v = start * 9; v < this.pos.length; v += 3) {
      for (let a = 0; a < 3; a++) {
        const x = this.pos[v + a];
        if (x < min[a]) min[a] = x;
        if (x > max[a]) max[a] = x;
      }
    }
    return { min, max };
  }

  get triangleCount(): number {
    return this.idx.length / 3;
  }

  build(): SceneMesh {
    return {
      positions: Float32Array.from(this.pos),
      indices: Uint32Array.from(this.idx),
      normals: Float32Array.from(this.nrm),
      triClass: Uint16Array.from(this.cls),
      triInstance: Uint16Array.from(this.inst),
      triMaterial: Uint16Array.from(this.mat),
      materials: this.materials,
    };
  }
}

/** Area of triangle t. */
export function triangleArea(mesh: SceneMesh, t: number): number {
  const p = mesh.positions, i = mesh.indices;
  const a = i[t * 3] * 3, b = i[t * 3 + 1] * 3, c = i[t * 3 + 2] * 3;
  const e1x = p[b] - p[a], e1y = p[b + 1] - p[a + 1], e1z = p[b + 2] - p[a + 2];
  const e2x = p[c] - p[a], e2y = p[c + 1] - p[a + 1], e2z = p[c + 2] - p[a + 2];
  return 0.5 * Math.hypot(e1y * e2z - e1z * e2y, e1z * e2x - e1x * e2z, e1x * e2y - e1y * e2x);
}
