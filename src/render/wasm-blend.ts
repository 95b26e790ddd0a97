/**
 * The wasm side of tile blending: the compiled kernel (wasm/blend.c), the shared linear memory it works in, and
 * the per-thread loop that claims tiles and copies each finished tile into the output images.
 *
 * One render owns one arena (a shared WebAssembly.Memory) for its duration: projection writes the Gaussian
 * records into it, binning copies the tile lists in, and every worker instantiates the kernel on the same memory
 * with a private stack and scratch region. Arenas are pooled, so concurrent renders never share one.
 */
import { readFileSync } from "node:fs";
import { REC, TILE } from "./project.ts";
import { ConfigError } from "../core/errors.ts";

let compiled: WebAssembly.Module | undefined;

/** The compiled blend kernel (compiled once per thread; a Module is also cheap to post between threads). */
export function blendModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(readFileSync(new URL("./wasm/blend.wasm", import.meta.url)));
  return compiled;
}

interface BlendExports {
  memory?: WebAssembly.Memory;
  blend_tile(
    tile: number, gridW: number, width: number, height: number,
    tileStart: number, list: number, records: number, gf: number, C: number,
    T: number, rgbd: number, trans: number, feat: number,
  ): number;
  blend_tile_weights(
    tile: number, gridW: number, width: number, height: number,
    tileStart: number, list: number, records: number,
    T: number, ev: number, labels: number, K: number, inst: number,
  ): number;
  __stack_pointer: WebAssembly.Global;
  __heap_base: WebAssembly.Global;
}

const PAGE = 65536;
const STACK_BYTES = 64 * 1024;

/** Byte offsets of one render's data in its arena. */
export interface ArenaLayout {
  records: number;
  tileStart: number;
  list: number;
  gaussianFeatures: number;
  /** Weight pass only (0 otherwise): the dense evidence image [H·W·K] float32 or the label image [H·W] uint16. */
  evidence: number;
  labels: number;
  /** Weight pass only: per tile-list entry, K + 1 float32 slots (total weight, then per-class evidence). */
  instances: number;
  /** Per thread: stack top and scratch (T, rgbd, trans, feat). */
  threads: { stackTop: number; T: number; rgbd: number; trans: number; feat: number }[];
  bytes: number;
}

export class BlendArena {
  readonly memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true });
  private readonly heapBase: number;
  private rectBuffer = new Int32Array(new SharedArrayBuffer(0));

  constructor() {
    const probe = new WebAssembly.Instance(blendModule(), { env: { memory: this.memory } }).exports as unknown as BlendExports;
    this.heapBase = probe.__heap_base.value as number;
  }

  /** Shared scratch for `count` tile rectangles (4 ints each), kept between renders. */
  rects(count: number): Int32Array {
    if (this.rectBuffer.length < count * 4) this.rectBuffer = new Int32Array(new SharedArrayBuffer(count * 16));
    return this.rectBuffer.subarray(0, count * 4);
  }

  /**
   * Lay out a render of `count` Gaussians, `instances` tile entries, C channels and `threads` threads; grows memory.
   * `weights` adds the weight pass's regions: its evidence input (dense [pixels·K] float32 or labels [pixels]
   * uint16) and K + 1 accumulator slots per tile entry.
   */
  layout(
    count: number,
    tiles: number,
    instances: number,
    channels: number,
    threads: number,
    weights?: { pixels: number; classes: number; dense: boolean },
  ): ArenaLayout {
    let at = align(this.heapBase);
    const take = (bytes: number) => {
      const start = at;
      at = align(at + bytes);
      return start;
    };
    const records = take(count * REC * 4);
    const tileStart = take((tiles + 1) * 4);
    const list = take(instances * 4);
    const gaussianFeatures = take(count * channels * 4);
    const evidence = weights?.dense ? take(weights.pixels * weights.classes * 4) : 0;
    const labels = weights && !weights.dense ? take(weights.pixels * 2) : 0;
    const inst = weights ? take(instances * (weights.classes + 1) * 4) : 0;
    const px = TILE * TILE;
    const perThread = Array.from({ length: threads }, () => {
      const stackBase = take(STACK_BYTES);
      return { stackTop: stackBase + STACK_BYTES, T: take(px * 8), rgbd: take(px * 16), trans: take(px * 4), feat: take(px * channels * 4) };
    });
    const have = this.memory.buffer.byteLength;
    if (at > 4 * 1024 ** 3) {
      throw new ConfigError(
        "render",
        `${count} splats, ${instances} tile entries, ${channels} feature channels${weights ? ` and ${weights.classes} evidence classes` : ""} need ${(at / 2 ** 30).toFixed(1)} GiB of kernel memory, over wasm's 4 GiB`,
      );
    }
    if (at > have) this.memory.grow(Math.ceil((at - have) / PAGE));
    return { records, tileStart, list, gaussianFeatures, evidence, labels, instances: inst, threads: perThread, bytes: at };
  }
}

function align(n: number): number {
  return (n + 15) & ~15;
}

const freeArenas: BlendArena[] = [];

/** Borrow an arena for one render; give it back with releaseArena. */
export function acquireArena(): BlendArena {
  return freeArenas.pop() ?? new BlendArena();
}

export function releaseArena(arena: BlendArena): void {
  freeArenas.push(arena);
}

/** Drop the pooled arenas (their memory is freed once no render holds them). */
export function dropArenas(): void {
  freeArenas.length = 0;
}

/** Everything a thread needs to blend tiles; plain data, so it can be posted to a worker. */
export interface WasmBlendJob {
  kind: "blend";
  memory: WebAssembly.Memory;
  layout: ArenaLayout;
  thread: number;
  gridW: number;
  tileCount: number;
  width: number;
  height: number;
  channels: number;
  /** Shared tile counter: each thread claims the next tile with an atomic add, so the load balances itself. */
  counter: Int32Array;
  rgb: Float32Array;
  transmittance: Float32Array;
  depth: Float32Array;
  features: Float32Array;
  /** Set for the weight pass: no images are written; the tile-entry slots of `layout.instances` are. */
  weights?: { classes: number; dense: boolean };
}

/** Claim and blend tiles until none are left; returns this thread's splat-pixel blends. */
export function runBlendJob(job: WasmBlendJob): number {
  const instance = new WebAssembly.Instance(blendModule(), { env: { memory: job.memory } });
  const k = instance.exports as unknown as BlendExports;
  const L = job.layout;
  const mine = L.threads[job.thread];
  k.__stack_pointer.value = mine.stackTop;
  const buffer = job.memory.buffer;
  const rgbd = new Float32Array(buffer, mine.rgbd, TILE * TILE * 4);
  const trans = new Float32Array(buffer, mine.trans, TILE * TILE);
  const C = job.channels;
  const feat = new Float32Array(buffer, mine.feat, TILE * TILE * C);
  const { width, height, gridW, rgb, transmittance, depth, features } = job;
  let blends = 0;
  if (job.weights) {
    const ev = job.weights.dense ? L.evidence : 0;
    for (;;) {
      const tile = Atomics.add(job.counter, 0, 1);
      if (tile >= job.tileCount) return blends;
      blends += k.blend_tile_weights(tile, gridW, width, height, L.tileStart, L.list, L.records, mine.T, ev, L.labels, job.weights.classes, L.instances);
    }
  }
  for (;;) {
    const tile = Atomics.add(job.counter, 0, 1);
    if (tile >= job.tileCount) return blends;
    blends += k.blend_tile(tile, gridW, width, height, L.tileStart, L.list, L.records, L.gaussianFeatures, C, mine.T, mine.rgbd, mine.trans, mine.feat);
    const tx0 = (tile % gridW) * TILE, ty0 = Math.floor(tile / gridW) * TILE;
    const w = Math.min(TILE, width - tx0), h = Math.min(TILE, height - ty0);
    for (let ly = 0; ly < h; ly++) {
      const row = (ty0 + ly) * width + tx0;
      for (let lx = 0; lx < w; lx++) {
        const l = ly * TILE + lx, p = row + lx;
        rgb[p * 3] = rgbd[l * 4];
        rgb[p * 3 + 1] = rgbd[l * 4 + 1];
        rgb[p * 3 + 2] = rgbd[l * 4 + 2];
        depth[p] = rgbd[l * 4 + 3];
        transmittance[p] = trans[l];
      }
      if (C > 0) features.set(feat.subarray(ly * TILE * C, (ly * TILE + w) * C), row * C);
    }
  }
}
