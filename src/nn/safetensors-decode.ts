/**
 * The environment-free half of safetensors (see `safetensors.ts`): types, float16 decoding and the byte parser.
 * No Node imports, so the browser viewer bundles the same parser that Node uses; `safetensors.ts` re-exports
 * everything here and adds file reading and writing.
 */
import { InvalidFileError } from "../core/errors.ts";

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

/** Bytes per element of each dtype (the writer in `safetensors.ts` uses it too). */
export const BYTES: Record<SafetensorsDType, number> = { F64: 8, F32: 4, F16: 2, I32: 4, U32: 4, I16: 2, U16: 2, I8: 1, U8: 1 };

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

/** Parse safetensors bytes; `source` names the file in errors. Validates every offset and dtype. */
export function decodeSafetensors(bytes: Uint8Array, source: string): SafetensorsFile {
  if (bytes.length < 8) throw new InvalidFileError(source, `truncated: ${bytes.length} bytes, no header length`);
  const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (headerLen > bytes.length - 8) throw new InvalidFileError(source, `truncated: header of ${headerLen} bytes, file has ${bytes.length}`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8").decode(bytes.subarray(8, 8 + headerLen)));
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
