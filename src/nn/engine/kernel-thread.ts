/**
 * A worker thread that runs jax-js kernel chunks handed over through shared memory instead of messages.
 *
 * jax-js awaits every kernel before it dispatches the next, so each chunk sent to a thread costs a message there
 * and an answer back through the main event loop: ~50 µs a round trip on this 2-core VM (a Node `postMessage`
 * ping-pong), 12–16 µs of it the main thread's own `postMessage`. The VDVI forward splits ~150 kernels per pass
 * and a training step ~1,000, and profiles showed the main thread 20 % idle waiting for those answers.
 *
 * Here a job is a few integers in a `SharedArrayBuffer` (kernel id, pointers, range) and a futex wake-up
 * (`Atomics.notify`); the thread blocks in `Atomics.wait` between jobs, and the main thread, once its own chunk
 * is done, blocks in `Atomics.wait` on the job's completion word — nothing else can run in between anyway, since
 * jax-js's next kernel waits for this one. A kernel's compiled module crosses once, by message, when the thread
 * first meets it (the thread drains its port synchronously with `receiveMessageOnPort` before each job).
 */
import { MessageChannel, receiveMessageOnPort, Worker as NodeWorker, type MessagePort } from "node:worker_threads";

/**
 * Control words: job sequence number, completion sequence number, status, kernel id, range, pointer count, and
 * whether each side is asleep in `Atomics.wait` (only then does the other pay for a wake-up).
 */
const SEQ = 0;
const DONE = 1;
const STATUS = 2;
const ID = 3;
const BEGIN = 4;
const END = 5;
const NPTRS = 6;
const THREAD_ASLEEP = 7;
const MAIN_ASLEEP = 8;
const PTRS = 10;
/** jax-js's wasm backend passes at most 64 arguments to a kernel; room for those and a margin. */
const MAX_PTRS = 120;
/** Sequence value that tells the thread to return. */
const STOP = -1;
/** A chunk that has not finished in this long is a hung thread, not a slow kernel. */
const WAIT_LIMIT_MS = 10 * 60 * 1000;
/**
 * How long each side polls before it sleeps in `Atomics.wait`. On this VM a futex wake-up costs tens of
 * microseconds on each side (`Atomics.notify` alone measured ~50 µs of the main thread per job), as much as many
 * chunks compute. Polls are kept short because on a loaded machine they take cores from whoever needs them:
 * with two CPU hogs running, polling 2 ms / 0.5 ms made the lite forward 19 % slower than the message hand-off,
 * while 0.25 ms / 0.1 ms is even with it there and 17–18 % faster than it on an idle machine (training: 27 %;
 * `bench/thread-handoff.ts`).
 */
const THREAD_SPIN_MS = 0.25;
const MAIN_SPIN_MS = 0.1;

// CommonJS, evaluated by `new Worker(…, { eval: true })`. Kept free of template substitutions on purpose.
const THREAD_SOURCE = `
const { workerData, receiveMessageOnPort } = require("node:worker_threads");
const { memory, control, port, spinMs } = workerData;
const c = new Int32Array(control);
const kernels = new Map();
let seq = 0;
for (;;) {
  // Spin first: jobs come every few hundred microseconds during a pass, and a futex wake-up costs about that.
  const until = performance.now() + spinMs;
  for (let i = 1; Atomics.load(c, ${SEQ}) === seq; i++) {
    if ((i & 1023) === 0 && performance.now() > until) {
      Atomics.store(c, ${THREAD_ASLEEP}, 1);
      Atomics.wait(c, ${SEQ}, seq);
      Atomics.store(c, ${THREAD_ASLEEP}, 0);
    }
  }
  seq = Atomics.load(c, ${SEQ});
  if (seq === ${STOP}) break;
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
    kernels.set(m.message.id, new WebAssembly.Instance(m.message.module, { env: { memory } }).exports.kernel);
  }
  let status = 0;
  try {
    const f = kernels.get(c[${ID}]);
    if (f === undefined) throw new Error("kernel " + c[${ID}] + " was never registered");
    const n = c[${NPTRS}];
    const args = new Array(n + 2);
    for (let i = 0; i < n; i++) args[i] = c[${PTRS} + i];
    args[n] = c[${BEGIN}];
    args[n + 1] = c[${END}];
    f(...args);
  } catch (err) {
    status = 1;
    port.postMessage(String(err && err.stack ? err.stack : err));
  }
  Atomics.store(c, ${STATUS}, status);
  Atomics.store(c, ${DONE}, seq);
  if (Atomics.load(c, ${MAIN_ASLEEP}) === 1) Atomics.notify(c, ${DONE});
}
`;

/** The main thread's handle on one kernel thread. */
export class KernelThread {
  readonly #control = new Int32Array(new SharedArrayBuffer((PTRS + MAX_PTRS) * 4));
  readonly #port: MessagePort;
  readonly #worker: NodeWorker;
  /** Kernel ids by jax-js kernel hash, for the kernels this thread has been sent. */
  readonly #ids = new Map<string, number>();
  #seq = 0;
  #busy = false;
  #stopped = false;

  constructor(memory: WebAssembly.Memory) {
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.#worker = new NodeWorker(THREAD_SOURCE, {
      eval: true,
      workerData: { memory, control: this.#control.buffer, port: port2, spinMs: THREAD_SPIN_MS },
      transferList: [port2],
    });
    // A thread parked in Atomics.wait must not hold the process open; a running job keeps the main thread
    // blocked on it, so nothing exits under it either.
    this.#worker.unref();
    this.#port.unref();
  }

  /** Start `kernel(...ptrs, begin, end)` on the thread; `wait()` must be called before the next `start`. */
  start(kernelHash: string, module: WebAssembly.Module, ptrs: readonly number[], begin: number, end: number): void {
    if (this.#stopped) throw new Error("kernel thread: start after stop (engine was shut down)");
    if (this.#busy) throw new Error("kernel thread: a job is already running");
    if (ptrs.length > MAX_PTRS) throw new Error(`kernel thread: ${ptrs.length} kernel arguments, at most ${MAX_PTRS}`);
    let id = this.#ids.get(kernelHash);
    if (id === undefined) {
      id = this.#ids.size;
      this.#ids.set(kernelHash, id);
      this.#port.postMessage({ id, module });
    }
    const c = this.#control;
    c[ID] = id;
    c[BEGIN] = begin;
    c[END] = end;
    c[NPTRS] = ptrs.length;
    for (let i = 0; i < ptrs.length; i++) c[PTRS + i] = ptrs[i];
    // The sequence counter wraps below STOP's value so it never reads as "stop".
    this.#seq = this.#seq >= 0x3fffffff ? 1 : this.#seq + 1;
    this.#busy = true;
    // Sequentially consistent: either the thread sees the new job before it sleeps, or this sees it asleep.
    Atomics.store(c, SEQ, this.#seq);
    if (Atomics.load(c, THREAD_ASLEEP) === 1) Atomics.notify(c, SEQ);
  }

  /** Block until the running job is done; throws the thread's error if the kernel failed. */
  wait(): void {
    if (!this.#busy) return;
    const c = this.#control;
    const spinUntil = performance.now() + MAIN_SPIN_MS;
    for (let i = 1; Atomics.load(c, DONE) !== this.#seq; i++) {
      if ((i & 1023) === 0 && performance.now() > spinUntil) {
        this.#sleepUntilDone();
        break;
      }
    }
    this.#busy = false;
    if (Atomics.load(c, STATUS) !== 0) {
      const m = receiveMessageOnPort(this.#port);
      throw new Error(`kernel thread: ${m === undefined ? "the kernel failed" : String(m.message)}`);
    }
  }

  #sleepUntilDone(): void {
    const c = this.#control;
    const deadline = performance.now() + WAIT_LIMIT_MS;
    Atomics.store(c, MAIN_ASLEEP, 1);
    try {
      for (let previous = Atomics.load(c, DONE); previous !== this.#seq; previous = Atomics.load(c, DONE)) {
        if (performance.now() >= deadline) throw new Error(`kernel thread: no answer in ${WAIT_LIMIT_MS / 1000} s`);
        Atomics.wait(c, DONE, previous, Math.max(1, deadline - performance.now()));
      }
    } finally {
      Atomics.store(c, MAIN_ASLEEP, 0);
    }
  }

  /** Stop the thread (after the running job, if any). */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    Atomics.store(this.#control, SEQ, STOP);
    Atomics.notify(this.#control, SEQ);
    this.#port.close();
    await this.#worker.terminate();
  }
}
