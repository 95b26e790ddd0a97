/** Test worker: doubles numbers, writes into shared memory, fails or dies on request. */
import { serveWorker } from "../../src/core/worker-pool.ts";
import { InvalidFileError } from "../../src/core/errors.ts";

await serveWorker((payload) => {
  const p = payload as
    | { kind: "double"; value: number }
    | { kind: "fill"; target: Int32Array; index: number }
    | { kind: "fail" }
    | { kind: "invalid" }
    | { kind: "exit" };
  if (p.kind === "fail") throw new Error("asked to fail");
  if (p.kind === "invalid") throw new InvalidFileError("scene.ply", "truncated");
  if (p.kind === "exit") process.exit(3);
  if (p.kind === "fill") {
    Atomics.add(p.target, p.index, p.index + 1);
    return p.index;
  }
  return p.value * 2;
});
