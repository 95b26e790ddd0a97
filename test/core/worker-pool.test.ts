import { test } from "node:test";
import assert from "node:assert/strict";
import { WorkerPool } from "../../src/core/worker-pool.ts";
import { InvalidFileError, Rtgs2Error } from "../../src/core/errors.ts";

const module = new URL("../helpers/echo-worker.ts", import.meta.url);

test("a worker pool answers in worker order, shares memory, reports errors, and closes", async () => {
  const pool = new WorkerPool(module, 3);
  assert.deepEqual(await pool.broadcast<number>((i) => ({ kind: "double", value: i + 10 })), [20, 22, 24]);
  const shared = new Int32Array(new SharedArrayBuffer(12));
  await pool.broadcast((i) => ({ kind: "fill", target: shared, index: i }));
  assert.deepEqual([...shared], [1, 2, 3], "workers write the caller's SharedArrayBuffer");
  await assert.rejects(pool.broadcast(() => ({ kind: "fail" })), (err: unknown) => err instanceof Rtgs2Error && /asked to fail/.test(err.message));
  // The pool keeps working after a failed job.
  assert.deepEqual(await pool.broadcast<number>(() => ({ kind: "double", value: 1 })), [2, 2, 2]);
  await pool.close();
  await assert.rejects(pool.broadcast(() => ({ kind: "double", value: 1 })), /closed/);
});

test("an idle pool does not keep the process alive", async () => {
  // Left open on purpose: the test runner would time out if idle workers held the event loop.
  const pool = new WorkerPool(module, 1);
  assert.deepEqual(await pool.broadcast<number>(() => ({ kind: "double", value: 4 })), [8]);
  assert.throws(() => new WorkerPool(module, 0), /positive integer/);
});

test("a worker's typed error arrives typed; a dead worker breaks the pool instead of hanging it", async () => {
  const pool = new WorkerPool(module, 2);
  await assert.rejects(
    pool.broadcast(() => ({ kind: "invalid" })),
    (err: unknown) => err instanceof InvalidFileError && err.file === "scene.ply" && err.exitCode === 2,
  );
  await assert.rejects(pool.broadcast((i) => (i === 0 ? { kind: "exit" } : { kind: "double", value: 1 })), /exited unexpectedly/);
  assert.equal(pool.isBroken, true);
  await assert.rejects(pool.broadcast(() => ({ kind: "double", value: 1 })), /exited unexpectedly/, "later work is refused, not lost");
  await pool.close();
});
