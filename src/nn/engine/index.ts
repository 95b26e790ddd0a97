/**
 * Engine setup: which jax-js device runs the network, with how many threads, and a clean shutdown.
 *
 * On Node the wasm backend runs its kernels on `RTGS2_THREADS` worker threads (default: all cores) through the
 * shim in `shim.ts`. Where `navigator.gpu` exists (a browser, or Node with the `webgpu` package installed and
 * exposed), `initEngine()` prefers webgpu, as in a browser.
 */
import { defaultDevice, init, type Device } from "../jax.ts";
import { shimThreads, terminateShimWorkers, THREADS_ENV } from "./shim.ts";

export { THREADS_ENV };

/** What `initEngine` settled on. */
export interface EngineInfo {
  /** The jax-js device new arrays and jitted functions use. */
  device: Device;
  /** Worker threads the wasm backend splits kernels over (1 when running on the main thread only). */
  threads: number;
}

/** Options of `initEngine`. */
export interface EngineOptions {
  /** "auto" (default) picks webgpu when `navigator.gpu` exists, else wasm. */
  device?: "auto" | "wasm" | "webgpu" | "cpu";
}

let current: EngineInfo | null = null;

/**
 * Initialize jax-js once per process and make the chosen device the default. Safe to call repeatedly; later
 * calls return the first answer. Throws when webgpu is asked for explicitly but unavailable.
 */
export async function initEngine(options: EngineOptions = {}): Promise<EngineInfo> {
  if (current !== null) return current;
  const want = options.device ?? "auto";
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  let device: Device = "wasm";
  if (want === "webgpu" || (want === "auto" && nav?.gpu !== undefined && nav.gpu !== null)) {
    const available = await init("webgpu");
    if (available.includes("webgpu")) device = "webgpu";
    else if (want === "webgpu") throw new Error("webgpu requested but no WebGPU adapter is available");
  } else if (want === "cpu") {
    device = "cpu";
  }
  if (device === "wasm") await init("wasm");
  defaultDevice(device);
  current = { device, threads: device === "wasm" ? shimThreads : 1 };
  return current;
}

/** The engine's state without initializing it: wasm with the shim's thread count until `initEngine` says more. */
export function engineInfo(): EngineInfo {
  return current ?? { device: defaultDevice(), threads: shimThreads };
}

/**
 * Stop the wasm worker threads. The process exits by itself without this (idle workers do not hold it open);
 * call it when a long-lived process is done with the network. jax-js cannot run wasm kernels afterwards.
 */
export async function shutdownEngine(): Promise<void> {
  await terminateShimWorkers();
}

/**
 * Install the ES2025 iterator helpers (`Iterator.prototype.map/filter/toArray/…`) that jax-js's `einsum` path
 * uses, when the runtime (Node 20) lacks them. A no-op on Node 22+.
 */
export function installIteratorHelpers(): void {
  const proto = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as Record<string, unknown>;
  if (typeof proto.map === "function") return;
  type It = Iterator<unknown> & Iterable<unknown>;
  const define = (name: string, fn: (this: It, ...args: never[]) => unknown): void => {
    Object.defineProperty(proto, name, { value: fn, configurable: true, writable: true });
  };
  function* mapGen(it: It, f: (v: unknown, i: number) => unknown): Generator<unknown> {
    let i = 0;
    for (const v of { [Symbol.iterator]: () => it }) yield f(v, i++);
  }
  function* filterGen(it: It, f: (v: unknown, i: number) => unknown): Generator<unknown> {
    let i = 0;
    for (const v of { [Symbol.iterator]: () => it }) if (f(v, i++)) yield v;
  }
  function* flatMapGen(it: It, f: (v: unknown, i: number) => Iterable<unknown>): Generator<unknown> {
    let i = 0;
    for (const v of { [Symbol.iterator]: () => it }) yield* f(v, i++);
  }
  define("map", function (this: It, f: (v: unknown, i: number) => unknown) {
    return mapGen(this, f);
  });
  define("filter", function (this: It, f: (v: unknown, i: number) => unknown) {
    return filterGen(this, f);
  });
  define("flatMap", function (this: It, f: (v: unknown, i: number) => Iterable<unknown>) {
    return flatMapGen(this, f);
  });
  define("toArray", function (this: It) {
    return [...{ [Symbol.iterator]: () => this }];
  });
  define("forEach", function (this: It, f: (v: unknown, i: number) => void) {
    let i = 0;
    for (const v of { [Symbol.iterator]: () => this }) f(v, i++);
  });
  define("some", function (this: It, f: (v: unknown, i: number) => unknown) {
    let i = 0;
    for (const v of { [Symbol.iterator]: () => this }) if (f(v, i++)) return true;
    return false;
  });
  define("every", function (this: It, f: (v: unknown, i: number) => unknown) {
    let i = 0;
    for (const v of { [Symbol.iterator]: () => this }) if (!f(v, i++)) return false;
    return true;
  });
  define("reduce", function (this: It, f: (acc: unknown, v: unknown, i: number) => unknown, ...init: unknown[]) {
    let i = 0;
    let acc: unknown;
    let started = init.length > 0;
    if (started) acc = init[0];
    for (const v of { [Symbol.iterator]: () => this }) {
      if (!started) {
        acc = v;
        started = true;
      } else acc = f(acc, v, i);
      i++;
    }
    if (!started) throw new TypeError("Reduce of empty iterator with no initial value");
    return acc;
  });
}
