/**
 * A fixed pool of worker_threads that run one module. Work is shared through SharedArrayBuffers, so a message
 * carries only small descriptors; `broadcast` sends one message to every worker and resolves with all replies.
 *
 * Idle workers are unref'd so a library user's process can exit without closing the pool; while a broadcast is
 * in flight they are ref'd again, otherwise Node could exit with work pending.
 */
import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { ConfigError, InvalidFileError, MissingFileError, Rtgs2Error, ShapeError, UnsupportedFormatError } from "./errors.ts";

const BOOTSTRAP = new URL("./ts-worker-bootstrap.mjs", import.meta.url);

/** A message a pool worker answers: `{ id, payload }` in, `{ id, result }` or `{ id, error }` out. */
interface Reply {
  id: number;
  result?: unknown;
  error?: WorkerError;
}

/** An error as it crosses threads: its class name, message and own string fields (file, reason, field, …). */
interface WorkerError {
  name: string;
  message: string;
  fields: Record<string, string>;
}

export class WorkerPool {
  readonly size: number;
  private readonly workers: Worker[];
  private nextId = 1;
  private inFlight = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private closed = false;
  /** Set once a worker has died: the pool then refuses work instead of posting to a dead thread. */
  private broken: Error | undefined;

  /** `moduleUrl` is a worker module that calls `serveWorker` (below). `.ts` modules are loaded through tsx. */
  constructor(moduleUrl: URL, size = availableParallelism()) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`worker pool size must be a positive integer, got ${size}`);
    this.size = size;
    const isTs = moduleUrl.pathname.endsWith(".ts");
    this.workers = Array.from({ length: size }, (_, index) => {
      const w = isTs
        ? new Worker(BOOTSTRAP, { workerData: { module: moduleUrl.href, index } })
        : new Worker(fileURLToPath(moduleUrl), { workerData: { index } });
      w.on("message", (msg: Reply) => this.settle(msg));
      w.on("error", (err) => this.breakPool(err));
      w.on("exit", (code) => {
        if (!this.closed) this.breakPool(new Rtgs2Error(`worker thread exited unexpectedly with code ${code}`));
      });
      w.unref();
      return w;
    });
  }

  /** Send `payload` to every worker; resolves with their results in worker order. */
  broadcast<T>(payload: (workerIndex: number) => unknown): Promise<T[]> {
    if (this.closed) return Promise.reject(new Rtgs2Error("worker pool is closed"));
    if (this.broken) return Promise.reject(this.broken);
    // Wait for every worker even when one fails: callers reuse the shared memory the others may still write.
    return Promise.allSettled(this.workers.map((w, i) => this.send<T>(w, payload(i)))).then((results) => {
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) throw failed.reason;
      return results.map((r) => (r as PromiseFulfilledResult<T>).value);
    });
  }

  private send<T>(worker: Worker, payload: unknown): Promise<T> {
    const id = this.nextId++;
    if (this.inFlight++ === 0) for (const w of this.workers) w.ref();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ id, payload });
    });
  }

  private settle(msg: Reply): void {
    const entry = this.pending.get(msg.id);
    if (!entry) return;
    this.pending.delete(msg.id);
    if (--this.inFlight === 0) for (const w of this.workers) w.unref();
    if (msg.error !== undefined) entry.reject(reviveError(msg.error));
    else entry.resolve(msg.result);
  }

  /** True once a worker has died; such a pool only rejects. */
  get isBroken(): boolean {
    return this.broken !== undefined;
  }

  private breakPool(err: Error): void {
    this.broken ??= err;
    for (const { reject } of this.pending.values()) reject(err);
    this.pending.clear();
    this.inFlight = 0;
    for (const w of this.workers) w.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Inside a worker module: answer pool messages with `handler`. */
export async function serveWorker(handler: (payload: unknown) => unknown): Promise<void> {
  const { parentPort } = await import("node:worker_threads");
  if (!parentPort) throw new Error("serveWorker must run inside a worker thread");
  const port = parentPort;
  port.on("message", async (msg: { id: number; payload: unknown }) => {
    try {
      port.postMessage({ id: msg.id, result: await handler(msg.payload) });
    } catch (err) {
      port.postMessage({ id: msg.id, error: describeError(err) });
    }
  });
}

function describeError(err: unknown): WorkerError {
  if (!(err instanceof Error)) return { name: "Error", message: String(err), fields: {} };
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(err)) if (typeof v === "string") fields[k] = v;
  return { name: err.name, message: err.message, fields };
}

/** The typed error a worker threw, rebuilt on this thread (the CLI's exit code depends on its class). */
function reviveError({ name, message, fields: f }: WorkerError): Error {
  switch (name) {
    case "MissingFileError":
      return new MissingFileError(f.file, f.reason);
    case "UnsupportedFormatError":
      return new UnsupportedFormatError(f.file, f.reason);
    case "InvalidFileError":
      return new InvalidFileError(f.file, f.reason);
    case "ConfigError":
      return new ConfigError(f.field, f.reason);
    case "ShapeError":
      return new ShapeError(f.where, f.expected, f.actual);
    default:
      return new Rtgs2Error(message);
  }
}
