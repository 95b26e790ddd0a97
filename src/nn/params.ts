/**
 * Parameter trees: nested objects (and arrays) of jax-js arrays, addressed by dotted paths such as
 * `vd.stages.2.blocks.1.dw.weight`. The same tree shape is what `grad`, `jit` and the optimizer walk.
 */
import { numpy as np, lax } from "./jax.ts";
import { ConfigError, ShapeError } from "../core/errors.ts";

/** A parameter (or gradient, or optimizer-moment) tree. */
export type ParamTree = np.Array | ParamTree[] | { [key: string]: ParamTree };

/** A tree of the same layout with plain values at the leaves (e.g. per-parameter flags or shapes). */
export type Tree<T> = T | Tree<T>[] | { [key: string]: Tree<T> };

/**
 * Whether a tree node is an array leaf. Inside `jit`/`grad` the leaves are jax-js tracers, which are not
 * `np.Array` instances, so this recognizes anything with an abstract value (`aval`) and a `dispose` method.
 */
export function isArrayLeaf(v: unknown): v is np.Array {
  return v instanceof np.Array || (typeof v === "object" && v !== null && "aval" in v && "dispose" in v);
}

/** Every leaf with its dotted path, in a stable order (object keys in insertion order, list items by index). */
export function flattenParams(tree: ParamTree, prefix = ""): [string, np.Array][] {
  const out: [string, np.Array][] = [];
  const walk = (node: ParamTree, path: string): void => {
    if (isArrayLeaf(node)) out.push([path, node]);
    else if (Array.isArray(node)) node.forEach((child, i) => walk(child, path === "" ? String(i) : `${path}.${i}`));
    else for (const [k, child] of Object.entries(node)) walk(child, path === "" ? k : `${path}.${k}`);
  };
  walk(tree, prefix);
  return out;
}

/**
 * Rebuild a tree of `template`'s layout from a path → array map (the inverse of `flattenParams`). Throws a
 * ConfigError naming the first path that is missing.
 */
export function unflattenParams<T extends ParamTree>(template: T, values: Map<string, np.Array>, prefix = ""): T {
  const walk = (node: ParamTree, path: string): ParamTree => {
    if (isArrayLeaf(node)) {
      const v = values.get(path);
      if (v === undefined) throw new ConfigError(path, "missing from the provided values");
      return v;
    }
    if (Array.isArray(node)) return node.map((child, i) => walk(child, path === "" ? String(i) : `${path}.${i}`));
    const out: { [key: string]: ParamTree } = {};
    for (const [k, child] of Object.entries(node)) out[k] = walk(child, path === "" ? k : `${path}.${k}`);
    return out;
  };
  return walk(template, prefix) as T;
}

/**
 * Every leaf of `tree`, flattened and concatenated in `flattenParams` order into one vector. Consumes the leaves.
 * All leaves must share a dtype.
 */
export function concatLeaves(tree: ParamTree): np.Array {
  const leaves = flattenParams(tree);
  if (leaves.length === 0) throw new ConfigError("params", "an empty tree has no leaves to concatenate");
  const dtype = leaves[0][1].dtype;
  for (const [path, a] of leaves) {
    if (a.dtype !== dtype) throw new ConfigError(path, `dtype ${a.dtype} differs from the first leaf's ${dtype}`);
  }
  // Pairwise, in rounds: jax-js concatenates k operands as k full-length passes, so one 276-way concatenation
  // of lite's 2.7 M values took 300 ms and the ⌈log₂ 276⌉ = 9 rounds take 57 ms (one thread).
  let parts = leaves.map(([, a]) => a.reshape([-1]));
  while (parts.length > 1) {
    const next: np.Array[] = [];
    for (let i = 0; i < parts.length; i += 2) next.push(i + 1 < parts.length ? np.concatenate([parts[i], parts[i + 1]], 0) : parts[i]);
    parts = next;
  }
  return parts[0];
}

/** The inverse of `concatLeaves`: a tree of `template`'s layout and shapes cut from `flat` (consumed). */
export function splitLeaves<T extends ParamTree>(flat: np.Array, template: T): T {
  const leaves = flattenParams(template);
  const total = leaves.reduce((acc, [, a]) => acc + a.size, 0);
  if (flat.ndim !== 1 || flat.shape[0] !== total) {
    throw new ConfigError("params", `a vector of shape [${flat.shape.join(", ")}] does not fit a tree of ${total} values`);
  }
  const values = new Map<string, np.Array>();
  let offset = 0;
  for (const [path, a] of leaves) {
    values.set(path, flat.ref.slice([offset, offset + a.size]).reshape(a.shape));
    offset += a.size;
  }
  flat.dispose();
  return unflattenParams(template, values);
}

/** Apply `fn` to every leaf, keeping the layout; `fn` receives the leaf's path too. */
export function mapParams<T extends ParamTree>(tree: T, fn: (x: np.Array, path: string) => np.Array): T {
  const walk = (node: ParamTree, path: string): ParamTree => {
    if (isArrayLeaf(node)) return fn(node, path);
    if (Array.isArray(node)) return node.map((child, i) => walk(child, path === "" ? String(i) : `${path}.${i}`));
    const out: { [key: string]: ParamTree } = {};
    for (const [k, child] of Object.entries(node)) out[k] = walk(child, path === "" ? k : `${path}.${k}`);
    return out;
  };
  return walk(tree, "") as T;
}

/** Total number of scalars in the tree (what "parameter count" means). */
export function countParams(tree: ParamTree): number {
  let n = 0;
  for (const [, a] of flattenParams(tree)) n += a.size;
  return n;
}

/** A new reference to every leaf (jax-js consumes arrays passed to functions; this keeps the tree alive). */
export function refParams<T extends ParamTree>(tree: T): T {
  return mapParams(tree, (x) => x.ref);
}

/** Drop one reference to every leaf. */
export function disposeParams(tree: ParamTree): void {
  for (const [, a] of flattenParams(tree)) a.dispose();
}

/** The subtree at a dotted path (no references taken). Throws a ConfigError when the path does not exist. */
export function getSubtree(tree: ParamTree, path: string): ParamTree {
  let node: ParamTree = tree;
  if (path === "") return node;
  for (const part of path.split(".")) {
    if (isArrayLeaf(node)) throw new ConfigError(path, `"${part}" is below a leaf`);
    const next: ParamTree | undefined = Array.isArray(node) ? node[Number(part)] : node[part];
    if (next === undefined) throw new ConfigError(path, `no parameter or subtree "${part}"`);
    node = next;
  }
  return node;
}

/**
 * Whether the leaf at `path` is frozen by a list of frozen prefixes: a prefix freezes its own path and every
 * path below it (`vd` freezes `vd.stem.weight`, not `vdx.weight`).
 */
export function isFrozen(path: string, frozen: readonly string[]): boolean {
  return frozen.some((f) => f === "" || path === f || path.startsWith(`${f}.`));
}

/**
 * Freeze sub-trees inside a differentiated function: frozen leaves pass through `stopGradient`, so their
 * gradient is exactly zero and the optimizer (given the same list) leaves them untouched.
 */
export function stopGradientWhere<T extends ParamTree>(tree: T, frozen: readonly string[]): T {
  if (frozen.length === 0) return tree;
  return mapParams(tree, (x, path) => (isFrozen(path, frozen) ? lax.stopGradient(x) : x));
}

/** Format a shape for messages: `[1, 60, 80, 32]`; `null` entries (any size) print as `?`. */
export function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? "?" : String(d))).join(", ")}]`;
}

/**
 * Check an input's shape against what a layer expects (`null` = any size). Throws a ShapeError that names the
 * layer path and both shapes.
 */
export function expectShape(path: string, actual: readonly number[], expected: readonly (number | null)[]): void {
  const ok = actual.length === expected.length && expected.every((d, i) => d === null || d === actual[i]);
  if (!ok) throw new ShapeError(path, formatShape(expected), formatShape(actual));
}
