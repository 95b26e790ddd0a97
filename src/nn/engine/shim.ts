/**
 * Browser globals that `@jax-js/jax` expects, provided on Node. This module must be evaluated before jax-js is:
 * jax-js builds its wasm backend (and decides whether it may use worker threads, and how many) while its own
 * module body runs. `src/nn/jax.ts` imports this file first, so importing jax-js through it is always safe.
 *
 * - `globalThis.Worker` when more than one thread is asked for (with one, jax-js runs without a pool). The pool's
 *   first "worker" is the main thread itself, and short kernels stay on the main thread (see `inline`). Longer
 *   kernels' other chunks go to a `KernelThread` per pool slot, through shared memory and a futex
 *   (`kernel-thread.ts`; `RTGS2_THREAD_HANDOFF=message` instead posts them to jax-js's own worker code). That
 *   code also runs the CPU-fallback routines, on `node:worker_threads` started on first use: the worker source
 *   arrives as a blob URL, is read with `resolveObjectURL`, a prelude maps the browser worker API
 *   (`self.onmessage`, `postMessage`) onto `parentPort`, and the result starts as an ES module from a `data:` URL.
 * - `globalThis.navigator` with `hardwareConcurrency` (the thread count jax-js sizes its pool by) and
 *   `userAgent` (jax-js's code generator reads it).
 *
 * - `Float16Array` (a stub) and the ES2025 iterator helpers, which jax-js uses and Node 20 lacks.
 *
 * Exit behaviour: a worker is ref'd only while a message to it is unanswered, and a kernel thread never is (the
 * main thread blocks on its running chunk). An idle pool therefore never holds the process open (it exits by
 * itself when the work is done), and a pending kernel always does (no exit code 13 from a top-level await that
 * lost its last handle).
 */
import { Worker as NodeWorker } from "node:worker_threads";
import { resolveObjectURL } from "node:buffer";
import { availableParallelism } from "node:os";
import { KernelThread } from "./kernel-thread.ts";

/** Environment variable that fixes the wasm thread count for the process (default: all cores). */
export const THREADS_ENV = "RTGS2_THREADS";

const PRELUDE = `import { parentPort as __p } from "node:worker_threads";
globalThis.self = globalThis;
globalThis.postMessage = (m) => __p.postMessage(m);
__p.on("message", (data) => { const h = globalThis.onmessage; if (typeof h === "function") h({ data }); });
`;

type MessageHandler = ((ev: { data: unknown }) => void) | null;
type ErrorHandler = ((ev: { message: string }) => void) | null;

/**
 * Environment variable: the per-chunk time (µs) below which a kernel runs on the main thread (default 10 with
 * the shared-memory hand-off, 100 with messages).
 */
export const INLINE_US_ENV = "RTGS2_INLINE_US";

/**
 * Environment variable: how a kernel chunk reaches a worker thread — `atomics` (default: shared memory and a
 * futex, see `kernel-thread.ts`) or `message` (jax-js's own worker code, one message each way).
 */
export const HANDOFF_ENV = "RTGS2_THREAD_HANDOFF";

/** The part of jax-js's worker protocol the shim reads (its generated-kernel message). */
interface KernelMessage {
  type: "kernel";
  kernelHash: string;
  module: WebAssembly.Module;
  ptrs: number[];
  begin: number;
  end: number;
}

function isKernelMessage(m: unknown): m is KernelMessage {
  return typeof m === "object" && m !== null && (m as { type?: unknown }).type === "kernel";
}

/**
 * Main-thread execution of jax-js kernels. Handing a kernel to a worker thread by message costs 90–150 µs
 * (measured: a chain of tiny reductions ran at 92–150 µs a kernel through the pool, 22–28 µs inline), while most
 * kernels of our networks compute for less than that. So the pool's first worker is this thread itself, and a
 * kernel whose chunk measured under `inlineUs` there runs all its chunks here; only longer ones cross to a thread.
 * Through shared memory the hand-off is cheap enough that splitting pays from ~10 µs chunks (lite, same-process
 * alternation: forward 86 / 82 / 79 / 77 ms and training step 379 / 354 / 351 ms at 100 / 30 / 10 / 0 µs).
 */
const inline = {
  memory: null as WebAssembly.Memory | null,
  /** Kernel entry points by jax-js's kernel hash (instances import the shared memory, so growth is seen). */
  kernels: new Map<string, (...args: number[]) => void>(),
  /** Last measured main-thread time (µs) of one chunk, by kernel hash. */
  chunkUs: new Map<string, number>(),
  /** `RTGS2_INLINE_US`, or null for the hand-off's default. */
  inlineUsSet: null as number | null,
  handoff: "atomics" as "atomics" | "message",
  get inlineUs(): number {
    return this.inlineUsSet ?? (this.handoff === "atomics" ? 10 : 100);
  },
  run(m: KernelMessage): number {
    let f = this.kernels.get(m.kernelHash);
    if (f === undefined) {
      if (this.memory === null) throw new Error("Worker shim: kernel before init");
      f = new WebAssembly.Instance(m.module, { env: { memory: this.memory } }).exports.kernel as (...args: number[]) => void;
      if (this.kernels.size >= 4096) this.kernels.delete(this.kernels.keys().next().value as string);
      this.kernels.set(m.kernelHash, f);
    }
    const t0 = performance.now();
    f(...m.ptrs, m.begin, m.end);
    return (performance.now() - t0) * 1000;
  },
};

/** Choose the hand-off for kernels dispatched from now on (benchmarks compare both in one process). */
export function setThreadHandoff(mode: "atomics" | "message"): void {
  inline.handoff = mode;
}

const live = new Set<ShimWorker>();
let created = 0;
/** One chunk of a kernel run on the main thread: `worker` is the pool slot it was sent to (0 starts a dispatch). */
export interface KernelChunkTime {
  hash: string;
  worker: number;
  us: number;
}
let kernelTimes: KernelChunkTime[] | null = null;

/**
 * Start (or stop, returning what was recorded) a log of every chunk run on the main thread, in run order. With
 * `RTGS2_INLINE_US` huge every chunk of every kernel runs there, timed without tracing overhead; profiling
 * scripts sum the chunks of each dispatch and zip them with jax-js's own trace, which names the kernels.
 */
export function recordKernelTimes(on: boolean): KernelChunkTime[] {
  const out = kernelTimes ?? [];
  kernelTimes = on ? [] : null;
  return out;
}

/**
 * A browser-style `Worker` for jax-js's pool. The first one runs every kernel on the main thread (after the
 * dispatching loop has posted the other chunks, so they overlap); the others run a kernel here when its chunk is
 * known to be short, else on their own Node worker thread, started when first needed. CPU-fallback routines
 * always go to a thread (their code lives in the worker source). Only what jax-js uses is implemented.
 */
class ShimWorker {
  onmessage: MessageHandler = null;
  onerror: ErrorHandler = null;
  readonly #index: number;
  readonly #mainThread: boolean;
  #source: Promise<string>;
  #worker: NodeWorker | null = null;
  #starting = false;
  #init: unknown = null;
  #queue: unknown[] = [];
  #pending = 0;
  #terminated = false;
  /** Where this pool slot's long kernels run when they go through shared memory (started on first use). */
  #kernelThread: KernelThread | null = null;

  constructor(url: string | URL, _options?: { type?: string }) {
    live.add(this);
    this.#index = created++;
    this.#mainThread = this.#index === 0;
    const href = String(url);
    const blob = href.startsWith("blob:") ? resolveObjectURL(href) : undefined;
    if (blob === undefined) throw new Error(`Worker shim: only blob: URLs are supported, got ${href}`);
    // Read now: jax-js revokes the URL once its workers answered "init". A failed read surfaces in `#start`.
    this.#source = blob.text();
    this.#source.catch(() => undefined);
  }

  postMessage(message: unknown): void {
    if (this.#terminated) throw new Error("Worker shim: postMessage after terminate (engine was shut down)");
    const m = message as { type?: unknown; memory?: unknown };
    if (m.type === "init") {
      inline.memory = m.memory as WebAssembly.Memory;
      this.#init = message;
      queueMicrotask(() => this.onmessage?.({ data: { type: "ready" } }));
      return;
    }
    if (isKernelMessage(message)) {
      const known = inline.chunkUs.get(message.kernelHash);
      if (this.#mainThread || (known !== undefined && known < inline.inlineUs)) {
        // Deferred, so the dispatching loop posts the other chunks first and the threads overlap with this one.
        queueMicrotask(() => this.#runInline(message));
        return;
      }
      if (inline.handoff === "atomics" && inline.memory !== null) {
        this.#kernelThread ??= new KernelThread(inline.memory);
        this.#kernelThread.start(message.kernelHash, message.module, message.ptrs, message.begin, message.end);
        // Queued after the main thread's own chunk (its slot was posted first), so the two overlap.
        queueMicrotask(() => this.#finishOnThread());
        return;
      }
    }
    this.#toThread(message);
  }

  #finishOnThread(): void {
    let data: { type: "done"; ok: boolean; error?: string };
    try {
      this.#kernelThread?.wait();
      data = { type: "done", ok: true };
    } catch (err) {
      data = { type: "done", ok: false, error: String(err) };
    }
    this.onmessage?.({ data });
  }

  #runInline(m: KernelMessage): void {
    let data: { type: "done"; ok: boolean; error?: string };
    try {
      const us = inline.run(m);
      if (this.#mainThread) inline.chunkUs.set(m.kernelHash, us);
      kernelTimes?.push({ hash: m.kernelHash, worker: this.#index, us });
      data = { type: "done", ok: true };
    } catch (err) {
      data = { type: "done", ok: false, error: String(err) };
    }
    this.onmessage?.({ data });
  }

  #toThread(message: unknown): void {
    this.#pending++;
    if (this.#worker !== null) {
      if (this.#pending === 1) this.#worker.ref();
      this.#worker.postMessage(message);
      return;
    }
    this.#queue.push(message);
    if (!this.#starting) this.#start();
  }

  #start(): void {
    this.#starting = true;
    // Reading the source is asynchronous; this timer keeps the loop alive until the thread exists and owns the job.
    const keepAlive = setInterval(() => {}, 1 << 30);
    this.#source
      .then((source) => {
        clearInterval(keepAlive);
        if (this.#terminated) return;
        const code = PRELUDE + source;
        const w = new NodeWorker(new URL(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`));
        this.#worker = w;
        w.on("message", (data: unknown) => {
          // The thread's own answer to "init" is not one the pool waits for.
          if ((data as { type?: unknown }).type === "ready") return;
          this.#pending--;
          if (this.#pending === 0) w.unref();
          this.onmessage?.({ data });
        });
        w.on("error", (err: Error) => this.onerror?.({ message: err.message }));
        w.postMessage(this.#init);
        for (const m of this.#queue) w.postMessage(m);
        this.#queue = [];
        if (this.#pending === 0) w.unref();
      })
      .catch((err: unknown) => {
        clearInterval(keepAlive);
        this.onerror?.({ message: String(err) });
      });
  }

  terminate(): Promise<void> {
    this.#terminated = true;
    live.delete(this);
    const w = this.#worker;
    this.#worker = null;
    const k = this.#kernelThread;
    this.#kernelThread = null;
    return Promise.all([w?.terminate(), k?.stop()]).then(() => undefined);
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
  const us = process.env[INLINE_US_ENV];
  if (us !== undefined && us !== "") {
    const v = Number(us);
    if (!(v >= 0)) throw new Error(`${INLINE_US_ENV}: expected a number of microseconds ≥ 0, got "${us}"`);
    inline.inlineUsSet = v;
  }
  const handoff = process.env[HANDOFF_ENV];
  if (handoff !== undefined && handoff !== "") {
    if (handoff !== "atomics" && handoff !== "message") throw new Error(`${HANDOFF_ENV}: expected "atomics" or "message", got "${handoff}"`);
    inline.handoff = handoff;
  }
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
  // One thread: no pool at all. jax-js then runs every kernel synchronously where it is dispatched, which
  // measured faster than the pool's promise bookkeeping around main-thread kernels (training at 160×120:
  // 4.9–5.6 against 4.2–4.6 images/s).
  if (g.Worker === undefined && shimThreads > 1) g.Worker = ShimWorker;
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
