/** The VDVI fusion network (METHOD.md §5): modules, the full network and its per-call context. */
export * from "./context.ts";
export * from "./convnext.ts";
export * from "./mit.ts";
export * from "./scc.ts";
export * from "./decoder.ts";
export * from "./net.ts";
export * from "./info.ts";
export * from "./timm.ts";
