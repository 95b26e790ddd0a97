/**
 * `rtgs2 export CKPT OUT`: the weights-only float16 copy of a training checkpoint, for shipping
 * (ARCHITECTURE.md §4–5). Optimizer moments (`optim.*`) and the training-only metadata (`rng`, `optimStep`)
 * are dropped; float32 tensors become F16; every other tensor and metadata entry is kept. For a Gaussian-encoder
 * checkpoint the `encoder` id is recomputed from the exported tensors — sha256 over sorted names and float16
 * bytes, the definition of src/models/gaussian-encoder/checkpoint.ts — so it equals the training checkpoint's.
 * Plain JS: no jax-js is loaded.
 */
import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import type { Command } from "commander";
import { InvalidFileError, MissingFileError } from "../../core/errors.ts";
import { float32ToFloat16Bits, readSafetensors, writeSafetensors, type HostTensor } from "../../nn/safetensors.ts";
import { printJson, say } from "../options.ts";

/** Metadata entries that only a training run needs. */
const TRAINING_ONLY_METADATA = ["rng", "optimStep"];

/** What `exportCheckpoint` wrote. */
export interface ExportResult {
  tensors: number;
  bytes: number;
  /** The encoder id, for Gaussian-encoder checkpoints. */
  encoder?: string;
}

/** sha256 over (name, NUL, float16 bytes) of every tensor in sorted name order — the encoder id. */
export function hostEncoderId(tensors: Map<string, HostTensor>): string {
  const hash = createHash("sha256");
  for (const name of [...tensors.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const t = tensors.get(name) as HostTensor;
    const bits = t.dtype === "F16" ? (t.data as Uint16Array) : float32ToFloat16Bits(t.data as ArrayLike<number>);
    hash.update(name, "utf8");
    hash.update(new Uint8Array([0]));
    hash.update(new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength));
  }
  return hash.digest("hex");
}

/** Write the weights-only float16 export of checkpoint `input` to `output` (atomically). */
export function exportCheckpoint(input: string, output: string): ExportResult {
  if (!existsSync(input)) throw new MissingFileError(input, "no such checkpoint");
  const file = readSafetensors(input);
  const tensors = new Map<string, HostTensor>();
  for (const [name, t] of file.tensors) {
    if (name.startsWith("optim.")) continue;
    if (t.dtype === "F32" || t.dtype === "F64") tensors.set(name, { dtype: "F16", shape: t.shape, data: float32ToFloat16Bits(t.data as ArrayLike<number>) });
    else tensors.set(name, t);
  }
  if (tensors.size === 0) throw new InvalidFileError(input, "holds no weights (only optimizer moments or nothing)");
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(file.metadata)) if (!TRAINING_ONLY_METADATA.includes(k)) metadata[k] = v;
  let encoder: string | undefined;
  if (metadata.kind === "gaussian-encoder") {
    encoder = hostEncoderId(tensors);
    if (metadata.encoder !== undefined && metadata.encoder !== encoder) {
      throw new InvalidFileError(input, `metadata encoder id ${metadata.encoder} does not match its tensors (${encoder})`);
    }
    metadata.encoder = encoder;
  }
  writeSafetensors(output, tensors, metadata);
  return { tensors: tensors.size, bytes: statSync(output).size, ...(encoder === undefined ? {} : { encoder }) };
}

export function registerExport(program: Command): void {
  program
    .command("export")
    .description("weights-only float16 copy of a checkpoint (no optimizer moments), for shipping")
    .argument("<ckpt>", "training checkpoint (.safetensors)")
    .argument("<out>", "output file")
    .option("--json", "print one JSON object")
    .action((ckpt: string, out: string, flags: { json?: boolean }) => {
      const r = exportCheckpoint(ckpt, out);
      if (flags.json) return printJson(r);
      say(false, `wrote ${r.tensors} tensors, ${r.bytes.toLocaleString("en-US")} bytes (float16) → ${out}${r.encoder === undefined ? "" : ` (encoder ${r.encoder.slice(0, 12)})`}`);
    });
}
