/** Layers of rtgs2's networks, each a pure `apply(params, input)` with a seeded initializer. */
export * from "./common.ts";
export * from "./linear.ts";
export * from "./conv.ts";
export * from "./norm.ts";
export * from "./activation.ts";
export * from "./dropout.ts";
export * from "./attention.ts";
export * from "./resize.ts";
export * from "./tensor.ts";
