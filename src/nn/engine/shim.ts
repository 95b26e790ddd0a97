/**
 * Browser globals that `@jax-js/jax` expects, provided on Node. This module must be evaluated before jax-js is:
 * jax-js builds its wasm backend (and decides whether it may use worker threads, and how many) while its own
 * module body runs. `src/nn/jax.ts` imports this file first, so importing jax-js through it is always safe.
 *
 * - `globalThis.Worker` on top of `node:worker_threads`. The worker source arrives as a blob URL; it is read
 *   with `resolveObjectURL`, a prelude maps the browser worker API (`self.onmessage`, `postMessage`) onto
 *   `parentPort`, and the result starts as an ES module from a `data:` URL.
 * - `globalThis.navigator` with `hardwareConcurrency` (the thread count jax-js sizes its pool by) and
 *   `userAgent` (jax-js's code generator reads it).
 *
 * - `Float16Array` (a stub) and the ES2025 iterator helpers, which jax-js uses and Node 20 lacks.
 *
 * Exit behaviour: a worker is ref'd only while a message to it is unanswered. An idle pool therefore never holds
 * the process open (it exits by itself when the work is done), and a pending kernel always does (no exit
 * code 13 from a top-level await that lost its last handle).
 */
import { Worker as NodeWorker } from "node:worker_threads";
import { resolveObjectURL } from "node:buffer";
import { availableParallelism } from "node:os";

/** Environment variable that fixes the wasm thread count for the process (default: all cores). */
export const THREADS_ENV = "RTGS2_THREADS";

const PRELUDE = `import { parentPort as __p } from "node:worker_threads";
globalThis.self = globalThis;
globalThis.postMessage = (m) => __p.postMessage(m);
__p.on("message", (data) => { const h = globalThis.onmessage; if (typeof h === "function") h({ data }); });
`;

type MessageHandler = ((ev: { data: unknown }) => void) | null;
type ErrorHandler = ((ev: { message: string }) => void) | null;

const live = new Set<ShimWorker>();

/** A browser-style `Worker` backed by a Node worker thread. Only what jax-js uses is implemented. */
class ShimWorker {
  onmessage: MessageHandler = null;
  onerror: ErrorHandler = null;
  #worker: NodeWorker | null = null;
  #queue: unknown[] = [];
  #pending = 0;
  #terminated = false;

  constructor(url: string | URL, _options?: { type?: string }) {
    live.add(this);
    const href = String(url);
    const blob = href.startsWith("blob:") ? resolveObjectURL(href) : undefined;
    if (blob === undefined) throw new Error(`Worker shim: only blob: URLs are supported, got ${href}`);
    // Reading a blob is asynchronous; this timer keeps the loop alive until the thread exists and owns that job.
    const keepAlive = setInterval(() => {}, 1 << 30);
    blob
      .text()
      .then((source) => {
        clearInterval(keepAlive);
        if (this.#terminated) return;
        const code = PRELUDE + source;
        const w = new NodeWorker(new URL(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`));
        this.#worker = w;
        w.on("message", (data: unknown) => {
          this.#pending--;
          if (this.#pending === 0) w.unref();
          this.onmessage?.({ data });
        });
        w.on("error", (err: Error) => this.onerror?.({ message: err.message }));
        if (this.#pending === 0) w.unref();
        for (const m of this.#queue) w.postMessage(m);
        this.#queue = [];
      })
      .catch((err: unknown) => {
        clearInterval(keepAlive);
        this.onerror?.({ message: String(err) });
      });
  }

  postMessage(message: unknown): void {
    if (this.#terminated) throw new Error("Worker shim: postMessage after terminate (engine was shut down)");
    this.#pending++;
    if (this.#worker === null) this.#queue.push(message);
    else {
      if (this.#pending === 1) this.#worker.ref();
      this.#worker.postMessage(message);
    }
  }

  terminate(): Promise<void> {
    this.#terminated = true;
    live.delete(this);
    const w = this.#worker;
    this.#worker = null;
    return w === null ? Promise.resolve() : w.terminate().then(() => undefined);
  }
}

/** Stop every worker thread the shim started. jax-js cannot run wasm kernels in parallel afterwards. */
export async function terminateShimWorkers(): Promise<void> {
  await Promise.all([...live].map((w) => w.terminate()));
}

/** The thread count this process runs jax-js with, fixed when the shim was installed. */
export let shimThreads = 1;

function parseThreads(raw: string | undefined): number {
  const max = availableParallelism();
  if (raw === undefined || raw === "") return max;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${THREADS_ENV}: expected a positive integer, got "${raw}"`);
  return n;
}

function install(): void {
  const g = globalThis as { Worker?: unknown; navigator?: { hardwareConcurrency?: number; userAgent?: string } };
  shimThreads = parseThreads(process.env[THREADS_ENV]);
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, "navigator", {
      value: { hardwareConcurrency: shimThreads, userAgent: `Node.js/${process.version}` },
      configurable: true,
      writable: true,
    });
  } else {
    // Node 21+ has a navigator whose hardwareConcurrency is read-only; shadow it so the thread count is ours.
    try {
      Object.defineProperty(g.navigator, "hardwareConcurrency", { value: shimThreads, configurable: true });
    } catch {
      shimThreads = g.navigator.hardwareConcurrency ?? shimThreads;
    }
  }
  if (g.Worker === undefined) g.Worker = ShimWorker;
  installFloat16Stub();
  installIteratorHelpers();
}

/**
 * jax-js tests `data instanceof Float16Array` whenever it builds an array from a typed array, which throws a
 * ReferenceError on Node 20 (Float16Array arrived in Node 22). A class nothing is an instance of makes those
 * tests answer false; constructing one fails loudly, because float16 device arrays cannot be read back here.
 */
function installFloat16Stub(): void {
  const g = globalThis as { Float16Array?: unknown };
  if (g.Float16Array !== undefined) return;
  g.Float16Array = class Float16ArrayUnavailable {
    constructor() {
      throw new Error("Float16Array is not available on this Node version; keep device arrays float32/float64");
    }
  };
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

install();
