/**
 * safetensors, read and written by us: 8-byte little-endian header length, a JSON header mapping each tensor
 * name to `{ dtype, shape, data_offsets }` (plus an optional flat string → string `__metadata__`), padded with
 * spaces to 8 bytes, then the raw little-endian data. Independent readers (`@jax-js/loaders`, the reference
 * Rust crate) read our files; we reject anything the format forbids rather than guess.
 */
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../core/fs.ts";

export {
  decodeSafetensors,
  float16BitsToFloat32,
  type HostData,
  type HostTensor,
  type SafetensorsDType,
  type SafetensorsFile,
} from "./safetensors-decode.ts";
import { BYTES, decodeSafetensors, type HostTensor, type SafetensorsFile } from "./safetensors-decode.ts";

/** float32 → IEEE half bits, round to nearest even (overflow → ±Inf, NaN kept). */
export function float32ToFloat16Bits(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < values.length; i++) {
    f[0] = values[i];
    const x = u[0];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
      continue;
    }
    let e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      let half = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const mid = 1 << (shift - 1);
      if (rem > mid || (rem === mid && (half & 1) === 1)) half++;
      out[i] = sign | half;
      continue;
    }
    let half = (e << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1)) half++;
    e = half >>> 10;
    out[i] = sign | (e >= 0x1f ? 0x7c00 : half);
  }
  return out;
}

/**
 * Serialize tensors and metadata. Tensors are laid out in sorted name order; the header is padded with spaces
 * so the data starts 8-byte aligned. Metadata values must be strings (store JSON as strings).
 */
export function encodeSafetensors(tensors: Map<string, HostTensor>, metadata: Record<string, string> = {}): Uint8Array[] {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== "string") throw new TypeError(`safetensors metadata "${k}" must be a string`);
    meta[k] = v;
  }
  if (Object.keys(meta).length > 0) header.__metadata__ = meta;
  let offset = 0;
  for (const name of names) {
    if (name === "__metadata__") throw new TypeError(`"__metadata__" cannot be a tensor name`);
    const t = tensors.get(name) as HostTensor;
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) throw new TypeError(`tensor "${name}": ${t.data.length} values for shape [${t.shape.join(", ")}]`);
    const bytes = n * BYTES[t.dtype];
    if (t.data.BYTES_PER_ELEMENT !== BYTES[t.dtype]) throw new TypeError(`tensor "${name}": data does not hold ${t.dtype}`);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const raw = Buffer.byteLength(json, "utf8");
  json += " ".repeat((8 - ((8 + raw) % 8)) % 8);
  const headerBytes = Buffer.from(json, "utf8");
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  const chunks: Uint8Array[] = [prefix, headerBytes];
  for (const name of names) {
    const d = (tensors.get(name) as HostTensor).data;
    // Typed arrays are little-endian on every platform Node runs on; copy so a view of a larger buffer is exact.
    chunks.push(new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice());
  }
  return chunks;
}

/** Write a safetensors file atomically (temporary file, then rename). */
export function writeSafetensors(path: string, tensors: Map<string, HostTensor>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Read and parse a safetensors file. */
export function readSafetensors(path: string): SafetensorsFile {
  return decodeSafetensors(readFileSync(path), path);
}
