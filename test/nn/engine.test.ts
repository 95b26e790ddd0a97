import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { engineInfo } from "../../src/nn/engine/index.ts";
import { HANDOFF_ENV, INLINE_US_ENV, THREADS_ENV } from "../../src/nn/engine/shim.ts";

const child = fileURLToPath(new URL("./engine-child.ts", import.meta.url));

interface ChildOut {
  device: string;
  threads: number;
  total?: number;
  runs?: number[][];
}

function runChild(threads: string, extra: string[] = [], env: Record<string, string> = {}): { status: number | null; out: ChildOut } {
  const r = spawnSync(process.execPath, ["--import", "tsx", child, ...extra], {
    env: { ...process.env, [THREADS_ENV]: threads, ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  assert.equal(r.stderr, "", r.stderr);
  return { status: r.status, out: JSON.parse(r.stdout) as ChildOut };
}

test("a process using worker threads exits by itself with code 0 after a top-level await on a kernel", () => {
  const r = runChild("2");
  assert.equal(r.status, 0);
  assert.deepEqual(r.out, { device: "wasm", threads: 2, total: 256 * 256 * 256 });
});

test("RTGS2_THREADS=1 and an explicit shutdown also exit cleanly", () => {
  const r = runChild("1", ["--shutdown"]);
  assert.equal(r.status, 0);
  assert.equal(r.out.threads, 1);
  assert.equal(r.out.total, 256 ** 3);
});

test("two threads and an explicit shutdown (which stops the kernel threads) exit cleanly", () => {
  const r = runChild("2", ["--shutdown"], { [INLINE_US_ENV]: "0" });
  assert.equal(r.status, 0);
  assert.equal(r.out.total, 256 ** 3);
});

test("kernels give bit-identical results on the main thread, on worker threads, and mixed, run after run", () => {
  // RTGS2_INLINE_US=0 sends every chunk but the first worker's to a thread (through shared memory by default,
  // or by message); a huge bound keeps all on the main thread; the default decides per kernel from the time
  // measured on the previous run.
  const all = [
    runChild("1", ["--mixed"]),
    runChild("2", ["--mixed"], { [INLINE_US_ENV]: "0" }),
    runChild("2", ["--mixed"], { [INLINE_US_ENV]: "0", [HANDOFF_ENV]: "message" }),
    runChild("3", ["--mixed"], { [INLINE_US_ENV]: "0" }),
    runChild("2", ["--mixed"], { [INLINE_US_ENV]: "1e12" }),
    runChild("2", ["--mixed"]),
  ];
  const reference = all[0].out.runs?.[0];
  assert.ok(reference !== undefined && reference.length === 48 + 48 * 48 && reference.every(Number.isFinite));
  for (const { status, out } of all) {
    assert.equal(status, 0);
    for (const run of out.runs ?? []) assert.deepEqual(run, reference);
  }
});

test("without navigator.gpu the engine runs on wasm", () => {
  assert.equal(engineInfo().device, "wasm");
  assert.equal((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu, undefined);
});

test("einsum works on Node 20 through the iterator-helper polyfill", async () => {
  const { numpy: np } = await import("../../src/nn/jax.ts");
  const y = np.einsum("ij,jk->ik", np.array([[1, 2], [3, 4]]), np.array([[1, 0], [0, 1]]));
  assert.deepEqual(y.js(), [[1, 2], [3, 4]]);
});
