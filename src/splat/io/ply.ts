/**
 * Inria 3DGS PLY (graphdeco-inria/gaussian-splatting `save_ply` layout), read in any property order and written in
 * the reference order. Properties other than the 3DGS ones are kept as extra channels with their own PLY type,
 * which is how `f_pc_*` features and `label` travel through files.
 */
import { ConfigError, InvalidFileError } from "../../core/errors.ts";
import { writeFileAtomic } from "../../core/fs.ts";
import {
  allocateCloud,
  shDegreeFromRestCount,
  shRestCount,
  validateCloud,
  type ExtraArray,
  type GaussianCloud,
} from "../cloud.ts";
import { normalizeQuaternions, rowsPerChunk, sharedArray } from "./common.ts";
import {
  findElement,
  formatPlyHeader,
  parsePlyHeader,
  PLY_TYPE_SIZE,
  type PlyHeader,
  type PlyProperty,
  type PlyScalarType,
} from "./ply-header.ts";
import { view, type ByteSource } from "./source.ts";

/** What a PLY reader returns: the cloud and the header's `comment` lines (e.g. `rtgs2 encoder <id>`). */
export interface PlyReadResult {
  cloud: GaussianCloud;
  comments: string[];
}

export interface WritePlyOptions {
  /** `comment` lines to write into the header, without the keyword; none may contain a line break. */
  comments?: readonly string[];
}

type CoreField = "positions" | "logScales" | "rotations" | "opacityLogits" | "shDc" | "shRest";

/** Where one PLY property lands in the cloud: `field[i·stride + offset]` for splat i. */
interface Target {
  array: Float32Array | ExtraArray;
  stride: number;
  offset: number;
}

const REQUIRED: readonly [string, CoreField, number, number][] = [
  ["x", "positions", 3, 0],
  ["y", "positions", 3, 1],
  ["z", "positions", 3, 2],
  ["f_dc_0", "shDc", 3, 0],
  ["f_dc_1", "shDc", 3, 1],
  ["f_dc_2", "shDc", 3, 2],
  ["opacity", "opacityLogits", 1, 0],
  ["scale_0", "logScales", 3, 0],
  ["scale_1", "logScales", 3, 1],
  ["scale_2", "logScales", 3, 2],
  ["rot_0", "rotations", 4, 0],
  ["rot_1", "rotations", 4, 1],
  ["rot_2", "rotations", 4, 2],
  ["rot_3", "rotations", 4, 3],
];
/** Normals are always zero in 3DGS output; they are dropped on read and written as zeros. */
const NORMALS = new Set(["nx", "ny", "nz"]);
const F_REST = /^f_rest_(\d+)$/;

const ARRAY_FOR_TYPE = {
  char: Int8Array,
  uchar: Uint8Array,
  short: Int16Array,
  ushort: Uint16Array,
  int: Int32Array,
  uint: Uint32Array,
  float: Float32Array,
  double: Float64Array,
} as const;

/** The PLY type an extra channel is written as, fixed by its array class. */
export function plyTypeOf(array: ExtraArray): PlyScalarType {
  for (const [type, ctor] of Object.entries(ARRAY_FOR_TYPE)) if (array instanceof ctor) return type as PlyScalarType;
  throw new ConfigError("extras", `unsupported array type ${Object.prototype.toString.call(array)}`);
}

/**
 * Read an Inria-style Gaussian PLY from `source`. The `vertex` element may sit anywhere among other elements,
 * and its properties may come in any order and any scalar type.
 * @throws InvalidFileError naming the file for a missing 3DGS property, a bad `f_rest` count, a NaN/Inf float
 *   (with property and splat index), or data the file is too short to hold.
 */
export function readPly(source: ByteSource, header: PlyHeader = parsePlyHeader(source)): PlyReadResult {
  const file = source.name;
  const vertex = findElement(header, "vertex");
  if (!vertex) throw new InvalidFileError(file, "PLY has no vertex element");
  const byName = new Map(vertex.properties.map((p) => [p.name, p]));

  const missing = REQUIRED.map(([name]) => name).filter((name) => !byName.has(name));
  if (missing.length > 0) {
    throw new InvalidFileError(file, `PLY vertex element lacks 3DGS properties: ${missing.join(", ")}`);
  }
  const restCount = vertex.properties.filter((p) => F_REST.test(p.name)).length;
  for (let j = 0; j < restCount; j++) {
    if (!byName.has(`f_rest_${j}`)) throw new InvalidFileError(file, `PLY has ${restCount} f_rest properties but no f_rest_${j}`);
  }
  const degree = restCount % 3 === 0 ? shDegreeFromRestCount(restCount / 3) : undefined;
  if (degree === undefined) {
    throw new InvalidFileError(file, `PLY has ${restCount} f_rest properties; expected 0, 9, 24 or 45 (SH degree 0-3)`);
  }

  const n = vertex.count;
  const cloud = allocateCloud(n, degree);
  const k = shRestCount(degree);
  const targets = new Map<PlyProperty, Target>();
  for (const [name, field, stride, offset] of REQUIRED) targets.set(byName.get(name)!, { array: cloud[field], stride, offset });
  for (const p of vertex.properties) {
    const rest = F_REST.exec(p.name);
    if (rest) {
      // f_rest is channel-major in the file (index = channel·K + coefficient); the cloud is channel-innermost.
      const j = Number(rest[1]);
      targets.set(p, { array: cloud.shRest, stride: k * 3, offset: (j % k) * 3 + Math.floor(j / k) });
    } else if (!targets.has(p) && !NORMALS.has(p.name)) {
      const extra = sharedArray(ARRAY_FOR_TYPE[p.type], n);
      cloud.extras.set(p.name, extra);
      targets.set(p, { array: extra, stride: 1, offset: 0 });
    }
  }

  const chunkRows = rowsPerChunk(vertex.stride);
  for (let first = 0; first < n; first += chunkRows) {
    const rows = Math.min(chunkRows, n - first);
    const dv = view(source.read(vertex.dataOffset + first * vertex.stride, rows * vertex.stride));
    for (const [p, t] of targets) readColumn(dv, rows, vertex.stride, p, t, first, file);
  }
  normalizeQuaternions(cloud.rotations);
  validateCloud(cloud, file);
  return { cloud, comments: [...header.comments] };
}

function readColumn(dv: DataView, rows: number, rowBytes: number, p: PlyProperty, t: Target, first: number, file: string): void {
  const { array, stride } = t;
  let dst = first * stride + t.offset;
  let src = p.offset;
  if (p.type === "float" || p.type === "double") {
    const wide = p.type === "double";
    for (let r = 0; r < rows; r++, src += rowBytes, dst += stride) {
      const v = wide ? dv.getFloat64(src, true) : dv.getFloat32(src, true);
      // v − v is NaN exactly for NaN and ±Inf.
      if (v - v !== 0) throw new InvalidFileError(file, `non-finite value ${v} in property ${p.name} of splat ${first + r}`);
      array[dst] = v;
    }
    return;
  }
  const get = INT_GETTERS[p.type];
  for (let r = 0; r < rows; r++, src += rowBytes, dst += stride) array[dst] = get(dv, src);
}

const INT_GETTERS: Record<Exclude<PlyScalarType, "float" | "double">, (dv: DataView, at: number) => number> = {
  char: (dv, at) => dv.getInt8(at),
  uchar: (dv, at) => dv.getUint8(at),
  short: (dv, at) => dv.getInt16(at, true),
  ushort: (dv, at) => dv.getUint16(at, true),
  int: (dv, at) => dv.getInt32(at, true),
  uint: (dv, at) => dv.getUint32(at, true),
};

const SETTERS: Record<PlyScalarType, (dv: DataView, at: number, v: number) => void> = {
  char: (dv, at, v) => dv.setInt8(at, v),
  uchar: (dv, at, v) => dv.setUint8(at, v),
  short: (dv, at, v) => dv.setInt16(at, v, true),
  ushort: (dv, at, v) => dv.setUint16(at, v, true),
  int: (dv, at, v) => dv.setInt32(at, v, true),
  uint: (dv, at, v) => dv.setUint32(at, v, true),
  float: (dv, at, v) => dv.setFloat32(at, v, true),
  double: (dv, at, v) => dv.setFloat64(at, v, true),
};

/**
 * Encode `cloud` as an Inria PLY: `x y z nx ny nz f_dc_0..2 f_rest_* opacity scale_0..2 rot_0..3` as float,
 * then every extra channel in insertion order with the PLY type of its array class. Yields the header, then the
 * body in bounded chunks, so memory stays flat however large the cloud.
 */
export function* encodePly(cloud: GaussianCloud, options: WritePlyOptions = {}): Generator<Uint8Array> {
  const comments = options.comments ?? [];
  for (const c of comments) {
    if (/[\r\n]/.test(c)) throw new ConfigError("comments", `PLY comment contains a line break: ${JSON.stringify(c)}`);
  }
  const n = cloud.count;
  const k = shRestCount(cloud.shDegree);
  const columns: { name: string; type: PlyScalarType; array: Float32Array | ExtraArray | null; stride: number; offset: number }[] = [];
  const core = (name: string, array: Float32Array | null, stride: number, offset: number) =>
    columns.push({ name, type: "float", array, stride, offset });
  ["x", "y", "z"].forEach((name, a) => core(name, cloud.positions, 3, a));
  ["nx", "ny", "nz"].forEach((name) => core(name, null, 1, 0));
  for (let c = 0; c < 3; c++) core(`f_dc_${c}`, cloud.shDc, 3, c);
  for (let c = 0; c < 3; c++) for (let j = 0; j < k; j++) core(`f_rest_${c * k + j}`, cloud.shRest, k * 3, j * 3 + c);
  core("opacity", cloud.opacityLogits, 1, 0);
  for (let a = 0; a < 3; a++) core(`scale_${a}`, cloud.logScales, 3, a);
  for (let a = 0; a < 4; a++) core(`rot_${a}`, cloud.rotations, 4, a);
  const taken = new Set(columns.map((c) => c.name));
  for (const [name, array] of cloud.extras) {
    if (!/^[!-~]+$/.test(name)) throw new ConfigError("extras", `extra channel name ${JSON.stringify(name)} is not a PLY property name`);
    if (taken.has(name) || F_REST.test(name)) throw new ConfigError("extras", `extra channel ${name} clashes with a 3DGS property`);
    taken.add(name);
    columns.push({ name, type: plyTypeOf(array), array, stride: 1, offset: 0 });
  }

  yield new TextEncoder().encode(formatPlyHeader([{ name: "vertex", count: n, properties: columns }], comments));

  let rowBytes = 0;
  const offsets = columns.map((c) => {
    const at = rowBytes;
    rowBytes += PLY_TYPE_SIZE[c.type];
    return at;
  });
  const chunkRows = rowsPerChunk(rowBytes);
  for (let first = 0; first < n; first += chunkRows) {
    const rows = Math.min(chunkRows, n - first);
    const bytes = new Uint8Array(rows * rowBytes);
    const dv = view(bytes);
    columns.forEach((c, ci) => {
      if (c.array === null) return; // normals stay zero
      const set = SETTERS[c.type];
      const { array, stride } = c;
      let src = first * stride + c.offset;
      let at = offsets[ci];
      for (let r = 0; r < rows; r++, src += stride, at += rowBytes) set(dv, at, array[src]);
    });
    yield bytes;
  }
}

/**
 * Write `cloud` to `path` as an Inria PLY (see {@link encodePly}), atomically: a temporary file renamed into place.
 * @throws InvalidFileError if the cloud holds NaN/Inf; ConfigError for a bad comment or extra-channel name.
 */
export function writePly(path: string, cloud: GaussianCloud, options: WritePlyOptions = {}): void {
  validateCloud(cloud, path);
  writeFileAtomic(path, encodePly(cloud, options));
}
