/** Test worker: doubles numbers, writes into shared memory, or fails on request. */
import { serveWorker } from "../../src/core/worker-pool.ts";

await serveWorker((payload) => {
  const p = payload as { kind: "double"; value: number } | { kind: "fill"; target: Int32Array; index: number } | { kind: "fail" };
  if (p.kind === "fail") throw new Error("asked to fail");
  if (p.kind === "fill") {
    Atomics.add(p.target, p.index, p.index + 1);
    return p.index;
  }
  return p.value * 2;
});
