/**
 * Child process for the engine tests: multi-threaded kernels, a top-level await on one, and no explicit exit.
 * With `--mixed` it prints the values of a chain of kernels from tiny to large, run five times so the shim's
 * main-thread/thread choice settles (and, under RTGS2_INLINE_US, is forced either way).
 */
import { numpy as np, jit } from "../../src/nn/jax.ts";
import { initEngine, shutdownEngine } from "../../src/nn/engine/index.ts";

const info = await initEngine();
if (process.argv.includes("--mixed")) {
  const chain = jit((a: np.Array, b: np.Array) => {
    let y = np.matmul(a, b);
    for (let i = 0; i < 4; i++) y = np.tanh(y.ref.sub(np.mean(y, -1, { keepdims: true })));
    return [np.sum(y.ref, 0), np.matmul(y.ref.transpose(), y)];
  });
  const a = np.array(Float32Array.from({ length: 2048 * 64 }, (_, i) => Math.sin(i * 0.37))).reshape([2048, 64]);
  const b = np.array(Float32Array.from({ length: 64 * 48 }, (_, i) => Math.cos(i * 0.11))).reshape([64, 48]);
  const runs: number[][] = [];
  for (let r = 0; r < 5; r++) {
    const [s, g] = chain(a.ref, b.ref) as np.Array[];
    runs.push([...(await s.data()), ...(await g.data())]);
  }
  process.stdout.write(`${JSON.stringify({ ...info, runs })}\n`);
} else {
  const f = jit((a: np.Array, b: np.Array) => np.matmul(a, b.transpose()).sum());
  const a = np.ones([256, 256]);
  const total = await f(a.ref, a).data();
  process.stdout.write(`${JSON.stringify({ ...info, total: total[0] })}\n`);
}
if (process.argv.includes("--shutdown")) await shutdownEngine();
