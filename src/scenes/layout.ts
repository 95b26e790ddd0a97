/**
 * Room layout: a rectangular room (office, bedroom, living room or kitchen) with walls, floor and ceiling, door and
 * window openings, furniture placed by simple rules (against walls, around tables, on shelves and desks) and small
 * objects on the surfaces. The result is the scene mesh plus per-object bounds (for camera clearance) and lights.
 *
 * World frame: metres, y up, floor at y = 0, the room spans x ∈ [0, W], z ∈ [0, D].
 */
import { Rng } from "../core/rng.ts";
import { classId } from "./classes.ts";
import type { Lighting } from "./lighting.ts";
import { MeshBuilder, type SceneMesh, type V3 } from "./mesh.ts";
import * as F from "./furniture.ts";
import { buildShadowMaps } from "./shadows.ts";
import type { Surface } from "./furniture.ts";

export const ROOM_TYPES = ["office", "bedroom", "living", "kitchen"] as const;
export type RoomType = (typeof ROOM_TYPES)[number];

/** One object instance: its class and world bounds. */
export interface SceneObject {
  cls: number;
  instance: number;
  min: V3;
  max: V3;
}

/** A generated room, before cameras and Gaussians. */
export interface SceneLayout {
  roomType: RoomType;
  width: number;
  depth: number;
  height: number;
  mesh: SceneMesh;
  /** Furniture and small objects (walls, floor, ceiling, doors and windows are not listed: they bound the room). */
  objects: SceneObject[];
  lighting: Lighting;
}

interface Rect {
  x0: number;
  x1: number;
  z0: number;
  z1: number;
}
interface Opening {
  u0: number;
  u1: number;
  v0: number;
  v1: number;
  kind: "door" | "window";
}
interface WorldSurface extends Rect {
  y: number;
  room: number;
  used: Rect[];
  /** The object the surface belongs to, so only suitable small objects go on it. */
  owner: string;
}
interface Wall {
  o: V3;
  e: V3;
  n: V3;
  length: number;
}

const K = {
  wall: classId("wall"), floor: classId("floor"), ceiling: classId("ceiling"), door: classId("door"), window: classId("window"),
  curtain: classId("curtain"), picture: classId("picture"), rug: classId("rug"), table: classId("table"), desk: classId("desk"),
  chair: classId("chair"), sofa: classId("sofa"), bed: classId("bed"), nightstand: classId("nightstand"), cabinet: classId("cabinet"),
  refrigerator: classId("refrigerator"), shelf: classId("shelf"), counter: classId("counter"), lamp: classId("lamp"),
  ceilingLight: classId("ceiling-light"), monitor: classId("monitor"), plant: classId("plant"), book: classId("book"),
  vase: classId("vase"), pillow: classId("pillow"), box: classId("box"), cup: classId("cup"), bottle: classId("bottle"),
};

/** Wall thickness: the depth of door and window reveals. */
const WALL_T = 0.12;
const overlaps = (a: Rect, b: Rect, m = 0) => a.x0 < b.x1 + m && b.x0 < a.x1 + m && a.z0 < b.z1 + m && b.z0 < a.z1 + m;

/** Room type of scene `index`: cycled from a seed-dependent offset so every type occurs in any 4 consecutive scenes. */
export function roomTypeOf(seed: number, index: number): RoomType {
  const offset = new Rng(seed).fork("room-type-offset").int(ROOM_TYPES.length);
  return ROOM_TYPES[(index + offset) % ROOM_TYPES.length];
}

/** Generate scene `index` of the dataset with seed `seed`; it depends on nothing else. */
export function generateLayout(seed: number, index: number): SceneLayout {
  const rng = new Rng(seed).fork(`scene-${index}`).fork("layout");
  return new RoomBuilder(rng, roomTypeOf(seed, index)).build();
}

class RoomBuilder {
  private readonly b = new MeshBuilder();
  private readonly W: number;
  private readonly D: number;
  private readonly H: number;
  private readonly walls: Wall[];
  private readonly openings: Opening[][] = [[], [], [], []];
  /** Footprints on the floor that nothing else may overlap. */
  private readonly floor: Rect[] = [];
  /** Per wall side, the along-wall spans covered by objects taller than 1 m (no pictures there). */
  private readonly wallSpans: [number, number][][] = [[], [], [], []];
  private readonly surfaces: WorldSurface[] = [];
  private readonly objects: SceneObject[] = [];
  private nextInstance = 1;
  private readonly lighting: Lighting;

  constructor(
    private readonly rng: Rng,
    private readonly type: RoomType,
  ) {
    const [lo, hi] = { office: [3.5, 7], bedroom: [3, 5.5], living: [4, 8], kitchen: [3, 6] }[type];
    this.W = round(rng.uniform(lo, hi));
    this.D = round(rng.uniform(lo, Math.min(hi, this.W * 1.6)));
    this.H = round(rng.uniform(2.4, 3));
    const { W, D } = this;
    this.walls = [
      { o: [0, 0, 0], e: [1, 0, 0], n: [0, 0, 1], length: W },
      { o: [W, 0, 0], e: [0, 0, 1], n: [-1, 0, 0], length: D },
      { o: [W, 0, D], e: [-1, 0, 0], n: [0, 0, -1], length: W },
      { o: [0, 0, D], e: [0, 0, -1], n: [1, 0, 0], length: D },
    ];
    const warm = rng.uniform(-0.08, 0.08);
    this.lighting = { ambient: [0.32 + warm, 0.32, 0.32 - warm].map((v) => v * rng.uniform(0.85, 1.1)) as [number, number, number], lights: [] };
  }

  build(): SceneLayout {
    this.planOpenings();
    this.buildShell();
    this.buildCeilingLights();
    ({ office: () => this.office(), bedroom: () => this.bedroom(), living: () => this.living(), kitchen: () => this.kitchen() })[this.type]();
    this.common();
    this.fillSurfaces();
    const mesh = this.b.build();
    this.lighting.shadows = buildShadowMaps(mesh, this.lighting);
    return {
      roomType: this.type,
      width: this.W,
      depth: this.D,
      height: this.H,
      mesh,
      objects: this.objects,
      lighting: this.lighting,
    };
  }

  // ---- shell --------------------------------------------------------------------------------------------------

  private planOpenings(): void {
    const rng = this.rng;
    const doorSide = rng.int(4);
    const L = this.walls[doorSide].length;
    const dw = rng.uniform(0.8, 1.0);
    const u0 = rng.uniform(0.3, L - dw - 0.3);
    this.openings[doorSide].push({ u0, u1: u0 + dw, v0: 0, v1: Math.min(this.H - 0.25, rng.uniform(2.0, 2.15)), kind: "door" });
    // Keep the door swing free so nothing blocks the entrance.
    this.floor.push(this.wallRect(doorSide, u0 + dw / 2, dw + 0.2, 0.9));
    const windows = 1 + rng.int(2);
    for (let k = 0; k < windows; k++) {
      const side = (doorSide + 1 + rng.int(3)) % 4;
      const Lw = this.walls[side].length;
      const w = rng.uniform(0.8, Math.min(1.8, Lw - 1.2));
      const a = rng.uniform(0.5, Lw - w - 0.5);
      if (this.openings[side].some((o) => a < o.u1 + 0.4 && o.u0 < a + w + 0.4)) continue;
      const v0 = rng.uniform(0.8, 1.0);
      this.openings[side].push({ u0: a, u1: a + w, v0, v1: Math.min(this.H - 0.2, rng.uniform(1.9, 2.3)), kind: "window" });
    }
    for (const list of this.openings) list.sort((a, b) => a.u0 - b.u0);
  }

  /** World point on wall `s` at along-wall u, height v, `depth` behind the wall plane. */
  private wp(s: number, u: number, v: number, depth = 0): V3 {
    const w = this.walls[s];
    return [w.o[0] + w.e[0] * u - w.n[0] * depth, v, w.o[2] + w.e[2] * u - w.n[2] * depth];
  }

  private buildShell(): void {
    const { b, rng, W, D, H } = this;
    b.placement = { x: 0, y: 0, z: 0, yaw: 0 };
    this.begin(K.floor);
    F.useMaterial(b, rng, F.STYLES.floor);
    b.quad([0, 0, 0], [0, 0, D], [W, 0, 0]);
    this.begin(K.ceiling);
    F.useMaterial(b, rng, F.STYLES.ceiling);
    b.quad([0, H, 0], [W, 0, 0], [0, 0, D]);
    const wallMat = F.useMaterial(b, rng, F.STYLES.wall);
    const accent = rng.bernoulli(0.3) ? rng.int(4) : -1;
    const up: V3 = [0, 1, 0];
    for (let s = 0; s < 4; s++) {
      const wall = this.walls[s];
      this.begin(K.wall);
      if (s === accent) F.useMaterial(b, rng, F.STYLES.wall);
      else b.current.material = wallMat;
      const ops = this.openings[s];
      const cuts = [0, ...ops.flatMap((o) => [o.u0, o.u1]), wall.length];
      for (let k = 0; k + 1 < cuts.length; k++) {
        const ua = cuts[k], ub = cuts[k + 1];
        const hole = ops.find((o) => o.u0 === ua);
        const spans: [number, number][] = hole ? [[0, hole.v0], [hole.v1, H]] : [[0, H]];
        for (const [va, vb] of spans) if (vb - va > 1e-6) b.quad(this.wp(s, ua, va), scale(wall.e, ub - ua), [0, vb - va, 0]);
      }
      for (const o of ops) {
        const back = scale(wall.n, -WALL_T), h = o.v1 - o.v0, w = o.u1 - o.u0;
        b.quad(this.wp(s, o.u0, o.v0), back, scale(up, h));
        b.quad(this.wp(s, o.u1, o.v0), scale(up, h), back);
        b.quad(this.wp(s, o.u0, o.v1), back, scale(wall.e, w));
        // Window sill, or the door's threshold (without it the floor would stop short of the door panel).
        b.quad(this.wp(s, o.u0, o.v0), scale(wall.e, w), back);
      }
      for (const o of ops) this.buildOpening(s, o);
    }
  }

  private buildOpening(s: number, o: Opening): void {
    const { b, rng } = this;
    const wall = this.walls[s];
    const w = o.u1 - o.u0, h = o.v1 - o.v0;
    const yaw = -s * (Math.PI / 2);
    if (o.kind === "door") {
      this.begin(K.door);
      F.useMaterial(b, rng, F.STYLES.solid);
      b.quad(this.wp(s, o.u0, o.v0, WALL_T * 0.6), scale(wall.e, w), [0, h, 0]);
      F.useMaterial(b, rng, F.STYLES.metal);
      const c = this.wp(s, o.u1 - 0.1, 1.0, WALL_T * 0.6 - 0.03);
      b.placement = { x: c[0], y: 0, z: c[2], yaw };
      b.boxAt(0, 1.0, 0, 0.12, 0.03, 0.04);
    } else {
      this.begin(K.window);
      F.useMaterial(b, rng, { palettes: ["neutral", "muted", "bright"], patterns: ["plain", "noise"], maxKs: 0.3 });
      b.quad(this.wp(s, o.u0, o.v0, WALL_T), scale(wall.e, w), [0, h, 0]);
      F.useMaterial(b, rng, F.STYLES.solid);
      const c = this.wp(s, (o.u0 + o.u1) / 2, 0, WALL_T - 0.03);
      b.placement = { x: c[0], y: 0, z: c[2], yaw };
      b.boxAt(0, (o.v0 + o.v1) / 2, 0, 0.04, h, 0.04);
      b.boxAt(0, o.v0 + h * rng.uniform(0.55, 0.7), 0, w, 0.04, 0.04);
      if (rng.bernoulli(0.6)) this.curtain(s, o);
    }
    b.placement = { x: 0, y: 0, z: 0, yaw: 0 };
  }

  private curtain(s: number, o: Opening): void {
    const { rng } = this;
    const cw = rng.uniform(0.25, 0.5), t = rng.uniform(0.03, 0.06);
    const bottom = rng.bernoulli(0.5) ? 0.02 : Math.max(0.02, o.v0 - 0.15);
    const top = Math.min(this.H - 0.05, o.v1 + 0.15);
    const material = F.useMaterial(this.b, rng, F.STYLES.fabric);
    for (const a of [o.u0 - cw / 2 + 0.1, o.u1 + cw / 2 - 0.1]) {
      if (a - cw / 2 < 0.02 || a + cw / 2 > this.walls[s].length - 0.02) continue;
      if (bottom < 0.1) {
        const r = this.wallRect(s, a, cw, t + 0.05);
        if (this.floor.some((f) => overlaps(f, r))) continue;
        this.floor.push(r);
      }
      this.placeOnWall(s, a, t / 2 + 0.05, 0, K.curtain, () => {
        this.b.current.material = material;
        this.b.box([-cw / 2, bottom, -t / 2], [cw / 2, top, t / 2], true);
        return [];
      });
    }
  }

  private buildCeilingLights(): void {
    const { rng, W, D, H } = this;
    const nx = W > 5 ? 2 : 1, nz = D > 5 && rng.bernoulli(0.6) ? 2 : 1;
    const total = nx * nz;
    const tint = rng.uniform(-0.06, 0.06);
    for (let i = 0; i < nx; i++) {
      for (let j = 0; j < nz; j++) {
        const x = (W * (i + 0.5)) / nx + rng.uniform(-0.2, 0.2), z = (D * (j + 0.5)) / nz + rng.uniform(-0.2, 0.2);
        const r = rng.uniform(0.15, 0.3), h = rng.uniform(0.04, 0.12);
        this.object(K.ceilingLight, { x, z, y: H - h, yaw: 0 }, () => {
          F.useMaterial(this.b, rng, { palettes: ["neutral", "bright", "muted"], patterns: ["plain"], maxKs: 0.2 });
          this.b.cylinder(0, 0, 0, r, h, 16, true);
          return [];
        });
        const power = rng.uniform(0.55, 0.75) / Math.sqrt(total);
        this.lighting.lights.push({ position: [x, H - h - 0.25, z], intensity: [power * (1 + tint), power, power * (1 - tint)] });
      }
    }
  }

  // ---- placement helpers -------------------------------------------------------------------------------------

  private begin(cls: number): number {
    const inst = this.nextInstance++;
    this.b.current.cls = cls;
    this.b.current.instance = inst;
    return inst;
  }

  /** Build one object instance with `draw` at `placement`; records its bounds and its surfaces. */
  private object(cls: number, placement: { x: number; y: number; z: number; yaw: number }, draw: () => Surface[], owner = ""): void {
    const instance = this.begin(cls);
    this.b.placement = placement;
    const start = this.b.triangleCount;
    const local = draw();
    const { min, max } = this.b.boundsSince(start);
    if (this.b.triangleCount > start) this.objects.push({ cls, instance, min, max });
    const c = Math.cos(placement.yaw), s = Math.sin(placement.yaw);
    for (const sf of local) {
      const xs: number[] = [], zs: number[] = [];
      for (const [lx, lz] of [[sf.x0, sf.z0], [sf.x1, sf.z0], [sf.x0, sf.z1], [sf.x1, sf.z1]]) {
        xs.push(placement.x + c * lx + s * lz);
        zs.push(placement.z - s * lx + c * lz);
      }
      this.surfaces.push({ x0: Math.min(...xs), x1: Math.max(...xs), z0: Math.min(...zs), z1: Math.max(...zs), y: placement.y + sf.y, room: sf.room, used: [], owner });
    }
    this.b.placement = { x: 0, y: 0, z: 0, yaw: 0 };
  }

  /** Floor footprint of a w (along the wall) × d object whose back touches wall `s` at along-wall position a. */
  private wallRect(s: number, a: number, w: number, d: number, gap = 0): Rect {
    const wall = this.walls[s];
    const c = add(add(wall.o, scale(wall.e, a)), scale(wall.n, gap + d / 2));
    const hx = Math.abs(wall.e[0]) * w / 2 + Math.abs(wall.n[0]) * d / 2, hz = Math.abs(wall.e[2]) * w / 2 + Math.abs(wall.n[2]) * d / 2;
    return { x0: c[0] - hx, x1: c[0] + hx, z0: c[2] - hz, z1: c[2] + hz };
  }

  /** Build an object of depth d whose back is `gap` off wall s, centred at along-wall a, at height y. */
  private placeOnWall(s: number, a: number, centreOff: number, y: number, cls: number, draw: () => Surface[], owner = ""): void {
    const wall = this.walls[s];
    const c = add(add(wall.o, scale(wall.e, a)), scale(wall.n, centreOff));
    this.object(cls, { x: c[0], y, z: c[2], yaw: -s * (Math.PI / 2) }, draw, owner);
  }

  /**
   * Find a free spot against a wall for a w × d × h object; returns the side and along-wall centre, having reserved
   * the footprint, or null after a number of tries.
   */
  private findWallSpot(w: number, d: number, h: number, sides?: number[]): { s: number; a: number } | null {
    const rng = this.rng;
    for (let attempt = 0; attempt < 40; attempt++) {
      const s = sides ? rng.pick(sides) : rng.int(4);
      const L = this.walls[s].length;
      if (L < w + 0.1) continue;
      const a = rng.uniform(w / 2 + 0.03, L - w / 2 - 0.03);
      const blocked = this.openings[s].some((o) => (o.kind === "door" || h > o.v0 - 0.05) && a - w / 2 < o.u1 + 0.05 && o.u0 - 0.05 < a + w / 2);
      if (blocked) continue;
      const r = this.wallRect(s, a, w, d, 0.02);
      if (this.floor.some((f) => overlaps(f, r, 0.05))) continue;
      this.floor.push(r);
      if (h > 1) this.wallSpans[s].push([a - w / 2, a + w / 2]);
      return { s, a };
    }
    return null;
  }

  /** Place a wall-standing piece of furniture; returns its spot or null when the room has no space left. */
  private againstWall(cls: number, w: number, d: number, h: number, draw: () => Surface[], sides?: number[], owner = ""): { s: number; a: number } | null {
    const spot = this.findWallSpot(w, d, h, sides);
    if (spot) this.placeOnWall(spot.s, spot.a, 0.02 + d / 2, 0, cls, draw, owner);
    return spot;
  }

  /** A free floor spot for a w × d footprint away from the walls (a walkway of `margin` all round). */
  private findFreeSpot(w: number, d: number, margin: number): Rect | null {
    const { rng, W, D } = this;
    for (let attempt = 0; attempt < 40; attempt++) {
      const x = rng.uniform(margin + w / 2, W - margin - w / 2), z = rng.uniform(margin + d / 2, D - margin - d / 2);
      if (!(x > 0 && z > 0)) return null;
      const r = { x0: x - w / 2, x1: x + w / 2, z0: z - d / 2, z1: z + d / 2 };
      if (this.floor.some((f) => overlaps(f, r, 0.1))) continue;
      return r;
    }
    return null;
  }

  // ---- furniture groups -----------------------------------------------------------------------------------------

  /** A desk against a wall with a chair in front and a monitor on it. */
  private deskGroup(): void {
    const { rng } = this;
    const w = rng.uniform(1.0, 1.6), d = rng.uniform(0.6, 0.8), h = rng.uniform(0.72, 0.77);
    const spot = this.findWallSpot(w, d + 0.75, h);
    if (!spot) return;
    const wall = this.walls[spot.s];
    this.placeOnWall(spot.s, spot.a, 0.02 + d / 2, 0, K.desk, () => F.tableLike(this.b, rng, w, d, h), "desk");
    const deskSurface = this.surfaces[this.surfaces.length - 1];
    const mw = rng.uniform(0.45, 0.7);
    const ma = spot.a + rng.uniform(-0.2, 0.2) * (w - mw);
    this.placeOnWall(spot.s, ma, 0.02 + 0.12, h, K.monitor, () => (F.monitor(this.b, rng, mw), []));
    deskSurface.used.push(this.wallRect(spot.s, ma, mw + 0.1, 0.3, 0.02));
    const c = add(add(wall.o, scale(wall.e, spot.a + rng.uniform(-0.15, 0.15))), scale(wall.n, 0.02 + d + rng.uniform(0.05, 0.25)));
    this.object(K.chair, { x: c[0], y: 0, z: c[2], yaw: -spot.s * (Math.PI / 2) + Math.PI + rng.uniform(-0.4, 0.4) }, () => (F.chair(this.b, rng), []));
  }

  /** A table in the open with chairs around it. */
  private tableGroup(w: number, d: number, h: number, chairs: number): Rect | null {
    const { rng } = this;
    const rot = rng.bernoulli(0.5);
    const [fw, fd] = rot ? [d, w] : [w, d];
    const spot = this.findFreeSpot(fw + (chairs > 0 ? 1.0 : 0), fd + (chairs > 0 ? 1.0 : 0), 0.5);
    if (!spot) return null;
    this.floor.push(spot);
    const cx = (spot.x0 + spot.x1) / 2, cz = (spot.z0 + spot.z1) / 2;
    const yaw = rot ? Math.PI / 2 : 0;
    this.object(K.table, { x: cx, y: 0, z: cz, yaw }, () => F.tableLike(this.b, rng, w, d, h), "table");
    // Chairs face the table centre from its sides, in local table coordinates.
    const seats: [number, number, number][] = [
      [0, d / 2 + 0.3, Math.PI],
      [0, -d / 2 - 0.3, 0],
      [w / 2 + 0.3, 0, -Math.PI / 2],
      [-w / 2 - 0.3, 0, Math.PI / 2],
    ];
    if (w > 1.3) seats.push([-w / 4, d / 2 + 0.3, Math.PI], [w / 4, -d / 2 - 0.3, 0]);
    rng.shuffle(seats);
    const c = Math.cos(yaw), s = Math.sin(yaw);
    for (const [lx, lz, ly] of seats.slice(0, chairs)) {
      const x = cx + c * lx + s * lz, z = cz - s * lx + c * lz;
      this.object(K.chair, { x, y: 0, z, yaw: yaw + ly + rng.uniform(-0.25, 0.25) }, () => (F.chair(this.b, rng), []));
    }
    return spot;
  }

  private rug(w: number, d: number, cx: number, cz: number): void {
    this.object(K.rug, { x: cx, y: 0, z: cz, yaw: 0 }, () => {
      F.useMaterial(this.b, this.rng, F.STYLES.fabric);
      this.b.box([-w / 2, 0, -d / 2], [w / 2, 0.012, d / 2]);
      return [];
    });
  }

  private office(): void {
    const { rng } = this;
    const desks = 1 + Math.min(2, Math.floor((this.W * this.D) / 14));
    for (let k = 0; k < desks; k++) this.deskGroup();
    for (let k = 0; k < 1 + rng.int(2); k++) this.shelfPiece();
    for (let k = 0; k < 1 + rng.int(2); k++) this.cabinetPiece(rng.uniform(0.7, 2.0));
    if (this.W * this.D > 20 && rng.bernoulli(0.5)) this.tableGroup(rng.uniform(1.2, 2.0), rng.uniform(0.8, 1.1), rng.uniform(0.72, 0.76), 2 + rng.int(3));
  }

  private bedroom(): void {
    const { rng } = this;
    const w = rng.uniform(0.9, 1.8), d = rng.uniform(1.9, 2.1);
    const spot = this.findWallSpot(w + 1.1, d, 1.2);
    if (spot) {
      this.placeOnWall(spot.s, spot.a, 0.02 + d / 2, 0, K.bed, () => F.bed(this.b, rng, w, d), "bed");
      const nw = rng.uniform(0.4, 0.55), nd = rng.uniform(0.35, 0.45), nh = rng.uniform(0.45, 0.6);
      const sides = rng.bernoulli(0.6) ? [-1, 1] : [rng.pick([-1, 1])];
      for (const side of sides) {
        this.placeOnWall(spot.s, spot.a + side * (w / 2 + 0.05 + nw / 2), 0.02 + nd / 2, 0, K.nightstand, () => F.nightstand(this.b, rng, nw, nd, nh), "nightstand");
      }
    }
    this.cabinetPiece(rng.uniform(1.6, 2.1));
    if (rng.bernoulli(0.6)) this.deskGroup();
    if (rng.bernoulli(0.6)) this.shelfPiece();
    if (rng.bernoulli(0.5)) this.cabinetPiece(rng.uniform(0.7, 1.2));
    if (rng.bernoulli(0.3)) {
      const spot = this.findWallSpot(0.75, 0.75, 0.9);
      if (spot) this.placeOnWall(spot.s, spot.a, 0.45, 0, K.chair, () => (F.chair(this.b, rng), []));
    }
  }

  private living(): void {
    const { rng } = this;
    const sw = rng.uniform(1.6, 2.4), sd = rng.uniform(0.8, 1.0);
    const spot = this.againstWall(K.sofa, sw, sd, 0.9, () => F.sofa(this.b, rng, sw, sd), undefined, "sofa");
    if (spot) {
      const wall = this.walls[spot.s];
      const tw = rng.uniform(0.8, 1.3), td = rng.uniform(0.5, 0.75), gap = rng.uniform(0.4, 0.6);
      const c = add(add(wall.o, scale(wall.e, spot.a)), scale(wall.n, 0.02 + sd + gap + td / 2));
      const r = { x0: c[0] - tw / 2, x1: c[0] + tw / 2, z0: c[2] - tw / 2, z1: c[2] + tw / 2 };
      if (!this.floor.some((f) => overlaps(f, r, 0.05)) && c[0] > 0.5 && c[0] < this.W - 0.5 && c[2] > 0.5 && c[2] < this.D - 0.5) {
        if (rng.bernoulli(0.7)) this.rug(tw + rng.uniform(0.6, 1.2), td + rng.uniform(0.6, 1.2), c[0], c[2]);
        this.floor.push(r);
        this.object(K.table, { x: c[0], y: 0, z: c[2], yaw: -spot.s * (Math.PI / 2) }, () => F.tableLike(this.b, rng, tw, td, rng.uniform(0.35, 0.5)), "table");
      }
      // TV on a low cabinet on the opposite wall.
      const cw = rng.uniform(1.2, 1.8), cd = rng.uniform(0.4, 0.5), ch = rng.uniform(0.4, 0.6);
      const tv = this.findWallSpot(cw, cd, 0.9, [(spot.s + 2) % 4]);
      if (tv) {
        this.placeOnWall(tv.s, tv.a, 0.02 + cd / 2, 0, K.cabinet, () => F.cabinetLike(this.b, rng, cw, cd, ch), "tv-stand");
        const tvSurface = this.surfaces[this.surfaces.length - 1];
        const mw = Math.min(cw - 0.1, rng.uniform(0.8, 1.3));
        this.placeOnWall(tv.s, tv.a, 0.02 + 0.12, ch, K.monitor, () => (F.monitor(this.b, rng, mw), []));
        if (tvSurface) tvSurface.used.push(this.wallRect(tv.s, tv.a, mw + 0.1, 0.3, 0.02));
      }
    }
    for (let k = 0; k < 1 + rng.int(2); k++) this.shelfPiece();
    if (rng.bernoulli(0.5)) this.cabinetPiece(rng.uniform(0.7, 2.0));
    if (rng.bernoulli(0.5)) {
      const spot2 = this.findWallSpot(0.75, 0.75, 0.9);
      if (spot2) this.placeOnWall(spot2.s, spot2.a, 0.45, 0, K.chair, () => (F.chair(this.b, rng), []));
    }
  }

  private kitchen(): void {
    const { rng } = this;
    const h = rng.uniform(0.88, 0.94), d = rng.uniform(0.6, 0.65);
    const segments = 2 + rng.int(3);
    const widths = Array.from({ length: segments }, () => rng.uniform(0.6, 1.1));
    const fw = rng.uniform(0.6, 0.9), fd = rng.uniform(0.6, 0.75), fh = rng.uniform(1.5, 2.0);
    const total = widths.reduce((a, b) => a + b, 0) + fw;
    const spot = this.findWallSpot(total, Math.max(d, fd), fh);
    if (spot) {
      let a = spot.a - total / 2;
      const fridgeFirst = rng.bernoulli(0.5);
      const order = fridgeFirst ? [-1, ...widths.keys()] : [...widths.keys(), -1];
      const upper = rng.bernoulli(0.7);
      for (const k of order) {
        const w = k < 0 ? fw : widths[k];
        const centre = a + w / 2;
        if (k < 0) this.placeOnWall(spot.s, centre, 0.02 + fd / 2, 0, K.refrigerator, () => F.cabinetLike(this.b, rng, fw, fd, fh));
        else {
          this.placeOnWall(spot.s, centre, 0.02 + d / 2, 0, K.counter, () => F.counter(this.b, rng, w, d, h), "counter");
          if (upper && this.H > 2.45) {
            const uh = Math.min(0.75, this.H - 1.55), ud = rng.uniform(0.3, 0.35);
            this.placeOnWall(spot.s, centre, 0.02 + ud / 2, 1.5, K.cabinet, () => F.cabinetLike(this.b, rng, w - 0.02, ud, uh));
          }
        }
        a += w;
      }
    }
    if (this.W * this.D > 10) this.tableGroup(rng.uniform(0.8, 1.4), rng.uniform(0.7, 0.9), rng.uniform(0.72, 0.76), 1 + rng.int(4));
    if (rng.bernoulli(0.5)) this.cabinetPiece(rng.uniform(0.7, 2.0));
    if (rng.bernoulli(0.3)) this.againstWall(K.refrigerator, 0.7, 0.65, 1.8, () => F.cabinetLike(this.b, rng, rng.uniform(0.6, 0.9), rng.uniform(0.6, 0.7), rng.uniform(1.5, 2.0)));
  }

  private shelfPiece(): void {
    const { rng } = this;
    const w = rng.uniform(0.6, 1.2), d = rng.uniform(0.3, 0.4), h = rng.uniform(1.0, Math.min(2.1, this.H - 0.3));
    this.againstWall(K.shelf, w, d, h, () => F.shelf(this.b, rng, w, d, h), undefined, "shelf");
  }

  private cabinetPiece(h: number): void {
    const { rng } = this;
    const w = rng.uniform(0.5, 1.2), d = rng.uniform(0.4, 0.72);
    this.againstWall(K.cabinet, w, d, Math.min(h, this.H - 0.3), () => F.cabinetLike(this.b, rng, w, d, Math.min(h, this.H - 0.3)), undefined, "cabinet");
  }

  /** Items every room type may have: plants, boxes, a floor lamp, a rug, pictures. */
  private common(): void {
    const { rng } = this;
    for (let k = 0; k < 1 + rng.int(2); k++) {
      const size = rng.uniform(0.4, 1.1);
      this.againstWall(K.plant, size * 0.6, size * 0.6, size * 1.3, () => (F.plant(this.b, rng, size), []));
    }
    for (let k = 0; k < rng.int(3); k++) {
      const w = rng.uniform(0.25, 0.6), d = rng.uniform(0.25, 0.5), h = rng.uniform(0.2, 0.55);
      this.againstWall(K.box, w, d, h, () => (F.boxObject(this.b, rng, w, d, h), []));
    }
    if (rng.bernoulli(0.5)) {
      const h = rng.uniform(1.3, 1.8);
      this.againstWall(K.lamp, 0.4, 0.4, h, () => (F.lamp(this.b, rng, h), []));
    }
    if (this.type !== "living" && rng.bernoulli(0.4)) {
      const w = rng.uniform(1.2, 2.2), d = rng.uniform(0.8, 1.6);
      const spot = this.findFreeSpot(w, d, 0.6);
      if (spot) this.rug(w, d, (spot.x0 + spot.x1) / 2, (spot.z0 + spot.z1) / 2);
    }
    const pictures = 1 + rng.int(3);
    for (let k = 0; k < pictures; k++) this.picture();
  }

  private picture(): void {
    const { rng } = this;
    const w = rng.uniform(0.3, 1.0), h = rng.uniform(0.3, 0.8), t = rng.uniform(0.02, 0.04);
    for (let attempt = 0; attempt < 20; attempt++) {
      const s = rng.int(4), L = this.walls[s].length;
      const a = rng.uniform(w / 2 + 0.1, L - w / 2 - 0.1);
      const free = (lo: number, hi: number) => a + w / 2 < lo - 0.1 || a - w / 2 > hi + 0.1;
      if (!this.openings[s].every((o) => free(o.u0, o.u1)) || !this.wallSpans[s].every(([lo, hi]) => free(lo, hi))) continue;
      this.wallSpans[s].push([a - w / 2, a + w / 2]);
      const yc = Math.min(this.H - h / 2 - 0.2, rng.uniform(1.4, 1.7));
      this.placeOnWall(s, a, t / 2 + 0.005, 0, K.picture, () => {
        F.useMaterial(this.b, rng, F.STYLES.any);
        this.b.box([-w / 2, yc - h / 2, -t / 2], [w / 2, yc + h / 2, t / 2]);
        return [];
      });
      return;
    }
  }

  // ---- small objects ------------------------------------------------------------------------------------------

  private fillSurfaces(): void {
    const { rng } = this;
    for (const sf of this.surfaces) {
      const area = (sf.x1 - sf.x0) * (sf.z1 - sf.z0);
      if (sf.owner === "bed" || sf.owner === "sofa") {
        const n = 1 + rng.int(sf.owner === "sofa" ? 3 : 2);
        const pw = Math.min((sf.x1 - sf.x0) / n - 0.02, rng.uniform(0.4, 0.65));
        for (let k = 0; k < n; k++) {
          const x = sf.x0 + ((k + 0.5) * (sf.x1 - sf.x0)) / n, z = (sf.z0 + sf.z1) / 2;
          const pd = Math.min(sf.z1 - sf.z0, sf.x1 - sf.x0, rng.uniform(0.3, 0.45));
          this.object(K.pillow, { x, y: sf.y, z, yaw: rng.uniform(-0.2, 0.2) }, () => (F.pillow(this.b, rng, pw, pd), []));
        }
        continue;
      }
      if (sf.owner === "shelf") {
        this.fillShelfBoard(sf);
        continue;
      }
      const count = Math.min(6, Math.round(area * rng.uniform(3, 8)));
      for (let k = 0; k < count; k++) this.smallObject(sf);
      if ((sf.owner === "nightstand" || sf.owner === "desk") && rng.bernoulli(0.6)) {
        const h = Math.min(sf.room, rng.uniform(0.35, 0.55));
        this.onSurface(sf, 0.3, K.lamp, () => F.lamp(this.b, rng, h));
      }
    }
  }

  private fillShelfBoard(sf: WorldSurface): void {
    const { rng } = this;
    const alongX = sf.x1 - sf.x0 >= sf.z1 - sf.z0;
    const len = alongX ? sf.x1 - sf.x0 : sf.z1 - sf.z0;
    let pos = rng.uniform(0, 0.15);
    while (pos < len - 0.08) {
      const r = rng.uniform();
      if (r < 0.6 && sf.room > 0.17) {
        // A run of upright books.
        const run = 3 + rng.int(8);
        for (let k = 0; k < run && pos < len - 0.07; k++) {
          const thick = rng.uniform(0.02, 0.06);
          const c = pos + thick / 2;
          const x = alongX ? sf.x0 + c : (sf.x0 + sf.x1) / 2, z = alongX ? (sf.z0 + sf.z1) / 2 : sf.z0 + c;
          this.object(K.book, { x, y: sf.y, z, yaw: alongX ? 0 : Math.PI / 2 }, () => {
            const hh = Math.min(sf.room - 0.02, rng.uniform(0.17, 0.3)), dd = Math.min(0.22, (alongX ? sf.z1 - sf.z0 : sf.x1 - sf.x0) - 0.02);
            F.useMaterial(this.b, rng, F.STYLES.any);
            this.b.box([-thick / 2, 0, -dd / 2], [thick / 2, hh, dd / 2]);
            return [];
          });
          pos += thick + 0.003;
        }
        pos += rng.uniform(0.05, 0.2);
      } else if (r < 0.8) {
        const s = Math.min(0.25, sf.room - 0.02, (alongX ? sf.z1 - sf.z0 : sf.x1 - sf.x0) - 0.02, rng.uniform(0.1, 0.28));
        const c = pos + s / 2;
        const x = alongX ? sf.x0 + c : (sf.x0 + sf.x1) / 2, z = alongX ? (sf.z0 + sf.z1) / 2 : sf.z0 + c;
        if (s > 0.05) this.object(K.box, { x, y: sf.y, z, yaw: 0 }, () => (F.boxObject(this.b, rng, s, s, s * rng.uniform(0.6, 1)), []));
        pos += s + rng.uniform(0.05, 0.15);
      } else {
        const c = pos + 0.06;
        const x = alongX ? sf.x0 + c : (sf.x0 + sf.x1) / 2, z = alongX ? (sf.z0 + sf.z1) / 2 : sf.z0 + c;
        if (sf.room > 0.15) this.object(K.vase, { x, y: sf.y, z, yaw: 0 }, () => (F.vase(this.b, rng, sf.room - 0.02), []));
        pos += 0.15 + rng.uniform(0.05, 0.2);
      }
    }
  }

  private smallObject(sf: WorldSurface): void {
    const { rng } = this;
    const kitchenish = sf.owner === "counter" || sf.owner === "table";
    const kinds: [number, number][] = kitchenish
      ? [[K.cup, 3], [K.bottle, 3], [K.vase, 2], [K.book, 1], [K.box, 1], [K.plant, 1]]
      : [[K.book, 3], [K.cup, 2], [K.vase, 2], [K.box, 2], [K.bottle, 1], [K.plant, 1]];
    let r = rng.uniform(0, kinds.reduce((s, k) => s + k[1], 0));
    let cls = kinds[0][0];
    for (const [c, w] of kinds) if ((r -= w) < 0) { cls = c; break; }
    const room = sf.room - 0.02;
    switch (cls) {
      case K.cup: return this.onSurface(sf, 0.1, cls, () => F.cup(this.b, rng));
      case K.bottle: return this.onSurface(sf, 0.1, cls, () => F.bottle(this.b, rng, room));
      case K.vase: return this.onSurface(sf, 0.18, cls, () => F.vase(this.b, rng, room));
      case K.plant: {
        const size = Math.min(room / 1.1, rng.uniform(0.2, 0.4));
        return this.onSurface(sf, size * 0.8, cls, () => F.plant(this.b, rng, size));
      }
      case K.box: {
        const w = rng.uniform(0.08, 0.3), d = rng.uniform(0.08, 0.3), h = Math.min(room, rng.uniform(0.05, 0.25));
        return this.onSurface(sf, Math.hypot(w, d), cls, () => F.boxObject(this.b, rng, w, d, h));
      }
      default: {
        // A book lying flat, sometimes a small stack.
        const w = rng.uniform(0.14, 0.24), d = rng.uniform(0.18, 0.3);
        return this.onSurface(sf, Math.hypot(w, d), K.book, () => {
          const n = 1 + rng.int(3);
          let y = 0;
          for (let k = 0; k < n; k++) {
            const t = rng.uniform(0.02, 0.05);
            F.useMaterial(this.b, rng, F.STYLES.any);
            this.b.box([-w / 2, y, -d / 2], [w / 2, y + t, d / 2]);
            y += t;
          }
        });
      }
    }
  }

  /** Put an object of diameter `size` at a free random spot of surface `sf`. */
  private onSurface(sf: WorldSurface, size: number, cls: number, draw: () => void): void {
    const { rng } = this;
    if (sf.x1 - sf.x0 < size || sf.z1 - sf.z0 < size) return;
    for (let attempt = 0; attempt < 12; attempt++) {
      const x = rng.uniform(sf.x0 + size / 2, sf.x1 - size / 2), z = rng.uniform(sf.z0 + size / 2, sf.z1 - size / 2);
      const r = { x0: x - size / 2, x1: x + size / 2, z0: z - size / 2, z1: z + size / 2 };
      if (sf.used.some((u) => overlaps(u, r, 0.01))) continue;
      sf.used.push(r);
      this.object(cls, { x, y: sf.y, z, yaw: rng.uniform(0, 2 * Math.PI) }, () => (draw(), []));
      return;
    }
  }
}

const round = (v: number) => Math.round(v * 100) / 100;
const scale = (a: V3, s: number): V3 => [a[0] * s, a[1] * s, a[2] * s];
const add = (a: V3, b: V3): V3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
