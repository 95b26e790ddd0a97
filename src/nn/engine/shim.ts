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

install();
