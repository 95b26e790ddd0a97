/**
 * The browser's door to `@jax-js/jax`. The viewer bundle maps every import of `src/nn/jax.ts` here (see the
 * esbuild plugin in `src/viewer-server/bundle.ts`): the Node door evaluates a shim (worker threads, navigator,
 * Float16Array) that a browser has natively and cannot bundle, and otherwise re-exports the same package, so the
 * model code in `src/models/vdvi` runs unchanged in the page.
 */
export * from "@jax-js/jax";
