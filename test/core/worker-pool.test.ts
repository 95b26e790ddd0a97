import { test } from "node:test";
import assert from "node:assert/strict";
import { WorkerPool } from "../../src/core/worker-pool.ts";
import { Rtgs2Error } from "../../src/core/errors.ts";

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
