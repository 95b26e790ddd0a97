/**
 * The one door to `@jax-js/jax` for rtgs2 code. It evaluates the engine shim first (worker threads, navigator,
 * Float16Array on Node 20) so jax-js sees those globals when its wasm backend is built; importing jax-js
 * directly before this module would leave the process single-threaded. Everything jax-js exports is re-exported.
 */
import "./engine/shim.ts";

export * from "@jax-js/jax";
