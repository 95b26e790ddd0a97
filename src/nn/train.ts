/**
 * Training-loop utilities: a gradient step compiled once per shape bucket, gradient accumulation over
 * micro-batches, JSONL loss/metric logs that survive a resume, and a prefetcher that prepares the next batch
 * (in a worker thread, through `src/core/worker-pool.ts`) while the current step runs.
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { numpy as np, jit, valueAndGrad, type OwnedFunction } from "./jax.ts";
import { writeFileAtomic } from "../core/fs.ts";
import { ConfigError } from "../core/errors.ts";
import { WorkerPool } from "../core/worker-pool.ts";
import { concatLeaves, mapParams, stopGradientWhere, type ParamTree } from "./params.ts";

/** A batch: named device arrays (images, labels, PRNG key, …). Its shapes pick the compiled bucket. */
export type Batch = { [name: string]: np.Array };

/** A scalar loss of (params, batch); it must consume both, as every jax-js function does. */
export type LossFn<P extends ParamTree> = (params: P, batch: Batch) => np.Array;

/** Loss and gradient of one step. */
export interface Gradients {
  loss: number;
  /**
   * The gradient of every leaf, concatenated in `flattenParams` order (`concatLeaves`; `splitLeaves(grads,
   * params)` gives the tree). One output instead of one per leaf: jax-js pays ~1.5 ms per output of a jitted
   * call, 400 ms a step for lite's 276 leaves, against ~60 ms for the concatenation.
   */
  grads: np.Array;
}

/** The shape signature of a batch, e.g. `images:1x240x320x3;labels:1x240x320`. */
export function bucketKey(batch: Batch): string {
  return Object.keys(batch)
    .sort()
    .map((k) => `${k}:${batch[k].shape.join("x")}:${batch[k].dtype}`)
    .join(";");
}

/**
 * Loss-and-gradient, `jit`-compiled once per shape bucket (ENGINE.md rule 2: pad batches to a few bucket
 * sizes). Frozen sub-trees get exactly zero gradient.
 */
export class GradStep<P extends ParamTree> {
  readonly #buckets = new Map<string, OwnedFunction<(...args: never[]) => unknown>>();
  constructor(
    readonly loss: LossFn<P>,
    readonly options: { frozen?: readonly string[] } = {},
  ) {}

  /** Number of distinct shape buckets compiled so far. */
  get compiledBuckets(): number {
    return this.#buckets.size;
  }

  /** Loss and gradients for one batch, read synchronously. Consumes `params` and `batch`. */
  run(params: P, batch: Batch): Gradients {
    const [value, grads] = this.#call(params, batch);
    return { loss: value.item(), grads };
  }

  /**
   * Loss and gradients for one batch, read asynchronously: the step's kernels then go through jax-js's worker
   * pool (a synchronous read runs every one of them on the calling thread). Consumes `params` and `batch`.
   */
  async runAsync(params: P, batch: Batch): Promise<Gradients> {
    const [value, grads] = this.#call(params, batch);
    return { loss: (await value.data())[0], grads };
  }

  #call(params: P, batch: Batch): [np.Array, np.Array] {
    const key = bucketKey(batch);
    let fn = this.#buckets.get(key);
    if (fn === undefined) {
      const frozen = this.options.frozen ?? [];
      const loss = this.loss;
      const valueGrad = valueAndGrad((p: P, b: Batch) => loss(stopGradientWhere(p, frozen), b)) as unknown as (p: P, b: Batch) => [np.Array, P];
      fn = jit((p: P, b: Batch) => {
        const [value, grads] = valueGrad(p, b);
        return [value, concatLeaves(grads)];
      });
      this.#buckets.set(key, fn);
    }
    return (fn as unknown as (p: P, b: Batch) => [np.Array, np.Array])(params, batch);
  }

  /**
   * Gradient accumulation: the mean loss and mean gradient over micro-batches, as one batch of their union
   * would give for a mean-reduced loss. Consumes `params` and every batch.
   */
  accumulate(params: P, batches: Batch[]): Gradients {
    if (batches.length === 0) throw new ConfigError("accumulate", "needs at least one micro-batch");
    const n = batches.length;
    const first = this.run(n === 1 ? params : mapParams(params, (x) => x.ref), batches[0]);
    let sum = first.grads;
    let loss = first.loss;
    for (let i = 1; i < n; i++) {
      const r = this.run(i === n - 1 ? params : mapParams(params, (x) => x.ref), batches[i]);
      loss += r.loss;
      sum = sum.add(r.grads);
    }
    return { loss: loss / n, grads: sum.mul(1 / n) };
  }

  /** Release every compiled bucket. */
  dispose(): void {
    for (const fn of this.#buckets.values()) fn.dispose();
    this.#buckets.clear();
  }
}

/** One JSONL log record: the step and any numeric or string fields. */
export type LogRecord = { step: number } & Record<string, number | string>;

/**
 * Append-only JSONL log of losses and metrics, one object per line, flushed per line so a killed run keeps
 * everything before the kill. Opening with `resumeStep` drops records after that step, so a resumed run's
 * log reads as if it had never stopped.
 */
export class JsonlLogger {
  constructor(
    readonly path: string,
    options: { resumeStep?: number } = {},
  ) {
    if (options.resumeStep !== undefined && existsSync(path)) {
      const kept = readFileSync(path, "utf8")
        .split("\n")
        .filter((line) => line.trim() !== "")
        .filter((line) => {
          try {
            return (JSON.parse(line) as LogRecord).step <= (options.resumeStep as number);
          } catch {
            return false;
          }
        });
      writeFileAtomic(path, kept.map((l) => `${l}\n`).join(""));
    } else if (options.resumeStep === undefined) {
      writeFileAtomic(path, "");
    }
  }

  /** Append one record as a line. */
  log(record: LogRecord): void {
    appendFileSync(this.path, `${JSON.stringify(record)}\n`);
  }

  /** Every record in the file. */
  read(): LogRecord[] {
    if (!existsSync(this.path)) return [];
    return readFileSync(this.path, "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as LogRecord);
  }
}

/**
 * Keeps the next `depth` items of a sequence in preparation while the caller works on the current one.
 * `produce(i)` returns a promise (use `workerProducer` to run it in a worker thread).
 */
export class Prefetcher<T> {
  readonly #inFlight = new Map<number, Promise<T>>();
  #next = 0;
  constructor(
    readonly produce: (index: number) => Promise<T>,
    readonly count: number,
    readonly depth = 1,
  ) {
    if (!Number.isInteger(depth) || depth < 1) throw new ConfigError("prefetch.depth", `must be a positive integer, got ${depth}`);
  }

  #fill(): void {
    const end = Math.min(this.count, this.#next + this.depth);
    for (let i = this.#next; i < end; i++) if (!this.#inFlight.has(i)) this.#inFlight.set(i, this.produce(i));
  }

  /** Items in order; item i+1 … i+depth are being produced while the caller holds item i. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    while (this.#next < this.count) {
      this.#fill();
      const i = this.#next;
      const item = await (this.#inFlight.get(i) as Promise<T>);
      this.#inFlight.delete(i);
      this.#next++;
      this.#fill();
      yield item;
    }
  }
}

/**
 * A producer that builds items in a worker thread: `moduleUrl` is a worker module that calls
 * `serveWorker(handler)` from `src/core/worker-pool.ts`, where `handler({ index, ...args })` returns the item
 * (typed arrays travel by structured clone). Call `close()` when done.
 */
export function workerProducer<T>(moduleUrl: URL, args: Record<string, unknown> = {}): { produce: (index: number) => Promise<T>; close: () => Promise<void> } {
  const pool = new WorkerPool(moduleUrl, 1);
  return {
    produce: async (index) => (await pool.broadcast<T>(() => ({ ...args, index })))[0],
    close: () => pool.close(),
  };
}
