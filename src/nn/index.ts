/**
 * rtgs2's neural-network foundation on jax-js: engine setup, layers, parameter trees, FLOP counting, AdamW and
 * schedules, safetensors checkpoints and training-loop utilities. Import jax-js itself through `./jax.ts`.
 */
export * from "./engine/index.ts";
export * from "./layers/index.ts";
export * from "./params.ts";
export * from "./flops.ts";
export * from "./optim.ts";
export * from "./safetensors.ts";
export * from "./checkpoint.ts";
export * from "./train.ts";
