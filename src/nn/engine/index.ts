/**
 * Engine setup: which jax-js device runs the network, with how many threads, and a clean shutdown.
 *
 * On Node the wasm backend runs its kernels on `RTGS2_THREADS` worker threads (default: all cores) through the
 * shim in `shim.ts`. Where `navigator.gpu` exists (a browser, or Node with the `webgpu` package installed and
 * exposed), `initEngine()` prefers webgpu, as in a browser.
 */
import { defaultDevice, init, type Device } from "../jax.ts";
import { shimThreads, terminateShimWorkers, THREADS_ENV, installIteratorHelpers } from "./shim.ts";

export { THREADS_ENV, installIteratorHelpers };

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
  if (device === "wasm") {
    await init("wasm");
    await warnIfJaxUnpatched();
  }
  defaultDevice(device);
  current = { device, threads: device === "wasm" ? shimThreads : 1 };
  return current;
}

/** The markers scripts/patch-jax.mjs leaves in @jax-js/jax's dist files, one per patch. */
const JAX_PATCH_MARKERS = ["rtgs2: geometric size classes", "rtgs2: scatter row fast path", "rtgs2: jit buffer reuse"];

/**
 * One stderr line when @jax-js/jax lacks a postinstall patch (scripts/patch-jax.mjs, skipped by `npm ci
 * --ignore-scripts`): without them long runs exhaust the 4 GiB wasm heap, and pre-training is several times
 * slower, with no hint why. Node only.
 */
async function warnIfJaxUnpatched(): Promise<void> {
  if (typeof process === "undefined" || process.versions?.node === undefined) return;
  try {
    const { createRequire } = await import("node:module");
    const { readdirSync, readFileSync } = await import("node:fs");
    const { dirname, join } = await import("node:path");
    const dist = dirname(createRequire(import.meta.url).resolve("@jax-js/jax"));
    const sources = readdirSync(dist)
      .filter((n) => /^(backend-.*|index)\.c?js$/.test(n))
      .map((n) => readFileSync(join(dist, n), "utf8"));
    const missing = JAX_PATCH_MARKERS.filter((m) => !sources.some((src) => src.includes(m)));
    if (missing.length > 0) {
      process.stderr.write(
        `rtgs2: warning: @jax-js/jax lacks rtgs2's patches (${missing.map((m) => m.slice("rtgs2: ".length)).join(", ")}; run \`node scripts/patch-jax.mjs\`); long runs may exhaust its 4 GiB heap\n`,
      );
    }
  } catch {
    // jax-js not resolvable from here (a bundled browser build): nothing to check.
  }
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
