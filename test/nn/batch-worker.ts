/** Worker module for the prefetcher test: builds a batch after a deliberate 80 ms delay. */
import { serveWorker } from "../../src/core/worker-pool.ts";

const sleeper = new Int32Array(new SharedArrayBuffer(4));

await serveWorker((payload: unknown) => {
  const { index } = payload as { index: number };
  const started = Date.now();
  Atomics.wait(sleeper, 0, 0, 80);
  return { index, started, data: Float32Array.from({ length: 4 }, (_, i) => index * 10 + i) };
});
