/** Child process for the engine test: multi-threaded kernels, a top-level await on one, and no explicit exit. */
import { numpy as np, jit } from "../../src/nn/jax.ts";
import { initEngine, shutdownEngine } from "../../src/nn/engine/index.ts";

const info = await initEngine();
const f = jit((a: np.Array, b: np.Array) => np.matmul(a, b.transpose()).sum());
const a = np.ones([256, 256]);
const total = await f(a.ref, a).data();
process.stdout.write(`${JSON.stringify({ ...info, total: total[0] })}\n`);
if (process.argv.includes("--shutdown")) await shutdownEngine();
