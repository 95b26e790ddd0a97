/**
 * safetensors, read and written by us: 8-byte little-endian header length, a JSON header mapping each tensor
 * name to `{ dtype, shape, data_offsets }` (plus an optional flat string → string `__metadata__`), padded with
 * spaces to 8 bytes, then the raw little-endian data. Independent readers (`@jax-js/loaders`, the reference
 * Rust crate) read our files; we reject anything the format forbids rather than guess.
 */
import { readFileSync } from "node:fs";
import { InvalidFileError } from "../core/errors.ts";
import { writeFileAtomic } from "../core/fs.ts";

/** Tensor element types we read and write. */
export type SafetensorsDType = "F64" | "F32" | "F16" | "I32" | "U32" | "I16" | "U16" | "I8" | "U8";

/** Host data of a tensor. F16 tensors are held as their raw bits (`Uint16Array`); see `float16ToFloat32`. */
export type HostData = Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

/** One tensor on the host. */
export interface HostTensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: HostData;
}

/** A whole safetensors file in memory. */
export interface SafetensorsFile {
  tensors: Map<string, HostTensor>;
  metadata: Record<string, string>;
}

const BYTES: Record<SafetensorsDType, number> = { F64: 8, F32: 4, F16: 2, I32: 4, U32: 4, I16: 2, U16: 2, I8: 1, U8: 1 };

function expectedCtor(dtype: SafetensorsDType): new (buf: ArrayBuffer, off: number, len: number) => HostData {
  switch (dtype) {
    case "F64":
      return Float64Array;
    case "F32":
      return Float32Array;
    case "F16":
    case "U16":
      return Uint16Array;
    case "I16":
      return Int16Array;
    case "I32":
      return Int32Array;
    case "U32":
      return Uint32Array;
    case "I8":
      return Int8Array;
    case "U8":
      return Uint8Array;
  }
}

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

/** IEEE half bits → float32 values. */
export function float16BitsToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) out[i] = sign * mant * 2 ** -24;
    else if (exp === 0x1f) out[i] = mant === 0 ? sign * Infinity : NaN;
    else out[i] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
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

/** Parse safetensors bytes; `source` names the file in errors. Validates every offset and dtype. */
export function decodeSafetensors(bytes: Uint8Array, source: string): SafetensorsFile {
  if (bytes.length < 8) throw new InvalidFileError(source, `truncated: ${bytes.length} bytes, no header length`);
  const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (headerLen > bytes.length - 8) throw new InvalidFileError(source, `truncated: header of ${headerLen} bytes, file has ${bytes.length}`);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLen).toString("utf8"));
  } catch (err) {
    throw new InvalidFileError(source, `header is not JSON: ${(err as Error).message}`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) throw new InvalidFileError(source, "header is not a JSON object");
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, HostTensor>();
  const spans: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (entry === null || typeof entry !== "object") throw new InvalidFileError(source, "__metadata__ is not an object");
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== "string") throw new InvalidFileError(source, `__metadata__.${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = e.dtype as SafetensorsDType;
    if (typeof e.dtype !== "string" || !(dtype in BYTES)) throw new InvalidFileError(source, `tensor "${name}": unsupported dtype ${String(e.dtype)}`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new InvalidFileError(source, `tensor "${name}": bad shape ${JSON.stringify(e.shape)}`);
    }
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0)) {
      throw new InvalidFileError(source, `tensor "${name}": bad data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    const shape = e.shape as number[];
    const n = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== n * BYTES[dtype] || end > dataLen) {
      throw new InvalidFileError(source, `tensor "${name}": data_offsets [${begin}, ${end}] do not hold ${dtype}[${shape.join(", ")}] in ${dataLen} data bytes`);
    }
    // Copy into a fresh, aligned buffer: the data section's alignment inside the file is not guaranteed, and
    // a Node Buffer's slice() is a view into a shared pool, hence the explicit copy.
    const copy = new Uint8Array(bytes.subarray(dataStart + begin, dataStart + end));
    const Ctor = expectedCtor(dtype);
    tensors.set(name, { dtype, shape, data: new Ctor(copy.buffer, 0, n) });
    spans.push([begin, end, name]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  let pos = 0;
  for (const [b, e, name] of spans) {
    if (b !== pos) throw new InvalidFileError(source, `tensor "${name}" starts at ${b}, expected ${pos} (overlap or gap)`);
    pos = e;
  }
  if (pos !== dataLen) throw new InvalidFileError(source, `${dataLen - pos} trailing bytes after the last tensor`);
  return { tensors, metadata };
}

/** Read and parse a safetensors file. */
export function readSafetensors(path: string): SafetensorsFile {
  return decodeSafetensors(readFileSync(path), path);
}
