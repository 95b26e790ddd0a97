/**
 * Training checkpoints as safetensors (ARCHITECTURE.md §4): parameters under their dotted paths, buffers
 * (BatchNorm running statistics) likewise, optimizer moments as `optim.m.<path>` / `optim.v.<path>`, and a flat
 * string → string `__metadata__` holding `config`, `step`, `rng` (JSON strings) and anything the caller adds.
 * Writes are atomic. Loading checks names, shapes and dtypes against the model's own tree and names the first
 * mismatch.
 */
import { numpy as np } from "./jax.ts";
import { InvalidFileError } from "../core/errors.ts";
import type { RngState } from "../core/rng.ts";
import type { AdamWState } from "./optim.ts";
import { concatLeaves, disposeParams, flattenParams, splitLeaves, unflattenParams, type ParamTree } from "./params.ts";
import { float32ToFloat16Bits, readSafetensors, writeSafetensors, type HostTensor } from "./safetensors.ts";
import { dtypeOf, tensorsForTree } from "./tensor-tree.ts";

/** Name prefix of AdamW first-moment tensors. */
export const OPTIM_M = "optim.m.";
/** Name prefix of AdamW second-moment tensors. */
export const OPTIM_V = "optim.v.";

/** What a checkpoint holds. */
export interface CheckpointData<P extends ParamTree, B extends ParamTree = ParamTree> {
  params: P;
  /** Non-trainable state (BatchNorm running statistics), stored under its own paths. */
  buffers?: B;
  /** AdamW moments and step count; omitted in weights-only checkpoints. */
  optimizer?: AdamWState;
  /** The model/training config, stored as JSON in `metadata.config`. */
  config?: unknown;
  /** Training step, stored in `metadata.step`. */
  step?: number;
  /** RNG state, stored as JSON in `metadata.rng`. */
  rng?: RngState;
  /** Further flat string metadata (`classes`, `encoder`, `finetuneScene`, …). */
  metadata?: Record<string, string>;
}

function toHostTensor(a: np.Array, float16: boolean): HostTensor {
  const data = a.ref.dataSync();
  if (float16) return { dtype: "F16", shape: a.shape, data: float32ToFloat16Bits(data as ArrayLike<number>) };
  return { dtype: dtypeOf(a), shape: a.shape, data: data as HostTensor["data"] };
}

function addTree(out: Map<string, HostTensor>, tree: ParamTree, prefix: string, float16: boolean): void {
  for (const [path, a] of flattenParams(tree)) {
    const name = prefix + path;
    if (out.has(name)) throw new TypeError(`checkpoint tensor "${name}" appears twice (params and buffers overlap)`);
    out.set(name, toHostTensor(a, float16 && a.dtype === "float32"));
  }
}

/**
 * Save a checkpoint atomically. `float16: true` stores float32 tensors as F16 (shipping exports); training
 * checkpoints stay float32 so a resume is bit-identical. Arrays are read, not consumed.
 */
export function saveCheckpoint<P extends ParamTree, B extends ParamTree>(
  path: string,
  data: CheckpointData<P, B>,
  options: { float16?: boolean } = {},
): void {
  const float16 = options.float16 ?? false;
  const tensors = new Map<string, HostTensor>();
  addTree(tensors, data.params, "", float16);
  if (data.buffers !== undefined) addTree(tensors, data.buffers, "", float16);
  const metadata: Record<string, string> = { ...(data.metadata ?? {}) };
  if (data.optimizer !== undefined) {
    // Stored per leaf (optim.m.<path>), as they always were: the flat vectors are an in-memory layout.
    for (const [prefix, flat] of [
      [OPTIM_M, data.optimizer.m],
      [OPTIM_V, data.optimizer.v],
    ] as const) {
      const tree = splitLeaves(flat.ref, data.params);
      addTree(tensors, tree, prefix, false);
      disposeParams(tree);
    }
    metadata.optimStep = String(data.optimizer.step);
  }
  if (data.config !== undefined) metadata.config = JSON.stringify(data.config);
  if (data.step !== undefined) metadata.step = String(data.step);
  if (data.rng !== undefined) metadata.rng = JSON.stringify(data.rng);
  writeSafetensors(path, tensors, metadata);
}

/** What `loadCheckpoint` returns: device arrays in the templates' layouts, plus all the file's metadata. */
export type LoadedCheckpoint<P extends ParamTree, B extends ParamTree> = CheckpointData<P, B> & { metadata: Record<string, string> };

/** Options of `loadCheckpoint`. */
export interface LoadOptions<B extends ParamTree> {
  /** Template of the buffers tree (shapes and dtypes only). */
  buffers?: B;
  /** Also load optimizer moments (required to be present when true). */
  optimizer?: boolean;
  /** Accept F16 tensors where the template is float32 (exported, weights-only checkpoints). Default true. */
  allowFloat16?: boolean;
  /** Fail on tensors the templates do not name (default true; `optim.*` is allowed when not loading moments). */
  strict?: boolean;
}

function parseJson(file: string, key: string, text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidFileError(file, `metadata "${key}" is not valid JSON`);
  }
}

/**
 * Load a checkpoint into the layout of `template` (read for names, shapes and dtypes; not consumed). Throws an
 * InvalidFileError naming the first missing tensor, shape mismatch, dtype mismatch or unexpected tensor.
 */
export function loadCheckpoint<P extends ParamTree, B extends ParamTree = ParamTree>(
  file: string,
  template: P,
  options: LoadOptions<B> = {},
): LoadedCheckpoint<P, B> {
  const st = readSafetensors(file);
  const allowF16 = options.allowFloat16 ?? true;
  const used = new Set<string>();
  const take = (tree: ParamTree, prefix: string): Map<string, np.Array> =>
    tensorsForTree(st, tree, file, { prefix, allowFloat16: allowF16, used });
  const params = unflattenParams(template, take(template, ""));
  const out: LoadedCheckpoint<P, B> = { params, metadata: st.metadata };
  if (options.buffers !== undefined) out.buffers = unflattenParams(options.buffers, take(options.buffers, ""));
  if (options.optimizer === true) {
    const stepText = st.metadata.optimStep;
    const step = Number(stepText);
    if (stepText === undefined || !Number.isInteger(step)) throw new InvalidFileError(file, "no optimizer state (metadata optimStep)");
    out.optimizer = {
      step,
      m: concatLeaves(unflattenParams(template, take(template, OPTIM_M))),
      v: concatLeaves(unflattenParams(template, take(template, OPTIM_V))),
    };
  }
  if (options.strict ?? true) {
    for (const name of [...st.tensors.keys()].sort()) {
      if (used.has(name)) continue;
      if (options.optimizer !== true && (name.startsWith(OPTIM_M) || name.startsWith(OPTIM_V))) continue;
      throw new InvalidFileError(file, `unexpected tensor "${name}" (not in the model)`);
    }
  }
  out.config = parseJson(file, "config", st.metadata.config);
  if (st.metadata.step !== undefined) {
    const step = Number(st.metadata.step);
    if (!Number.isInteger(step)) throw new InvalidFileError(file, `metadata "step" is not an integer: ${st.metadata.step}`);
    out.step = step;
  }
  const rng = parseJson(file, "rng", st.metadata.rng);
  if (rng !== undefined) out.rng = rng as RngState;
  return out;
}
