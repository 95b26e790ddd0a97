/**
 * PlayCanvas / SuperSplat compressed PLY (playcanvas/splat-transform `decompress-ply.ts`): splats in chunks of
 * 256 that share min/max ranges, each splat packed into four uint32 plus an optional row of SH bytes.
 */
import { InvalidFileError } from "../../core/errors.ts";
import { allocateCloud, clampedLogit, SH_C0, shDegreeFromRestCount, shRestCount, validateCloud, type ShDegree } from "../cloud.ts";
import { normalizeQuaternions, rowsPerChunk } from "./common.ts";
import { findElement, parsePlyHeader, type PlyElement, type PlyHeader } from "./ply-header.ts";
import type { PlyReadResult } from "./ply.ts";
import { view, type ByteSource } from "./source.ts";

export const CHUNK_SPLATS = 256;
const CHUNK_RANGES = ["x", "y", "z", "scale_x", "scale_y", "scale_z"];
const CHUNK_COLOURS = ["r", "g", "b"];
const PACKED = ["packed_position", "packed_rotation", "packed_scale", "packed_color"];

/** True if the header has the compressed layout: a `chunk` element and a `vertex` element of packed uint32. */
export function isCompressedPlyHeader(header: PlyHeader): boolean {
  const vertex = findElement(header, "vertex");
  return findElement(header, "chunk") !== undefined && vertex !== undefined && vertex.properties.some((p) => p.name === "packed_position");
}

/**
 * Read a PlayCanvas compressed PLY. Chunk ranges are small (ceil(N/256) rows) and read whole; the packed
 * vertices and SH bytes are read in bounded chunks.
 * @throws InvalidFileError naming the file when the element layout, the chunk count or a chunk range is wrong.
 */
export function readCompressedPly(source: ByteSource, header: PlyHeader = parsePlyHeader(source)): PlyReadResult {
  const file = source.name;
  const fail = (reason: string) => new InvalidFileError(file, `compressed PLY: ${reason}`);
  const chunk = findElement(header, "chunk");
  const vertex = findElement(header, "vertex");
  if (!chunk || !vertex) throw fail("needs both a chunk and a vertex element");
  const n = vertex.count;

  const colourRanges = chunk.properties.length === 18;
  if (chunk.properties.length !== 12 && !colourRanges) {
    throw fail(`chunk element has ${chunk.properties.length} properties, expected 12 or 18`);
  }
  const rangeNames = [...CHUNK_RANGES, ...(colourRanges ? CHUNK_COLOURS : [])].flatMap((r) => [`min_${r}`, `max_${r}`]);
  const rangeOffsets = rangeNames.map((name) => propertyOffset(chunk, name, "float", fail));
  const packedOffsets = PACKED.map((name) => propertyOffset(vertex, name, "uint", fail));
  if (chunk.count !== Math.ceil(n / CHUNK_SPLATS)) {
    throw fail(`${chunk.count} chunks for ${n} splats; expected ceil(${n}/256) = ${Math.ceil(n / CHUNK_SPLATS)}`);
  }

  const sh = findElement(header, "sh");
  let degree: ShDegree = 0;
  if (sh) {
    const d = sh.properties.length % 3 === 0 ? shDegreeFromRestCount(sh.properties.length / 3) : undefined;
    if (d === undefined) throw fail(`sh element has ${sh.properties.length} properties, expected 9, 24 or 45`);
    if (sh.count !== n) throw fail(`sh element has ${sh.count} rows but vertex has ${n}`);
    sh.properties.forEach((p, j) => {
      if (p.name !== `f_rest_${j}` || p.type !== "uchar") throw fail(`sh property ${j} is "${p.type} ${p.name}", expected "uchar f_rest_${j}"`);
    });
    degree = d;
  }

  // ranges[c·R + r]: range r of chunk c, r in the order of rangeNames.
  const ranges = new Float64Array(chunk.count * rangeNames.length);
  const chunkBytes = view(source.read(chunk.dataOffset, chunk.count * chunk.stride));
  for (let c = 0; c < chunk.count; c++) {
    for (let r = 0; r < rangeNames.length; r++) {
      const v = chunkBytes.getFloat32(c * chunk.stride + rangeOffsets[r], true);
      if (v - v !== 0) throw fail(`non-finite value ${v} in chunk property ${rangeNames[r]} of chunk ${c}`);
      ranges[c * rangeNames.length + r] = v;
    }
  }

  const cloud = allocateCloud(n, degree);
  const { positions, logScales, rotations, opacityLogits, shDc } = cloud;
  const R = rangeNames.length;
  const lerp = (c: number, r: number, t: number) => {
    const lo = ranges[c * R + 2 * r];
    return lo + (ranges[c * R + 2 * r + 1] - lo) * t;
  };
  const chunkRows = rowsPerChunk(vertex.stride);
  for (let first = 0; first < n; first += chunkRows) {
    const rows = Math.min(chunkRows, n - first);
    const dv = view(source.read(vertex.dataOffset + first * vertex.stride, rows * vertex.stride));
    for (let r = 0; r < rows; r++) {
      const i = first + r;
      const c = Math.floor(i / CHUNK_SPLATS);
      const at = r * vertex.stride;
      const pos = dv.getUint32(at + packedOffsets[0], true);
      const rot = dv.getUint32(at + packedOffsets[1], true);
      const scl = dv.getUint32(at + packedOffsets[2], true);
      const col = dv.getUint32(at + packedOffsets[3], true);

      positions[i * 3] = lerp(c, 0, (pos >>> 21) / 2047);
      positions[i * 3 + 1] = lerp(c, 1, ((pos >>> 11) & 1023) / 1023);
      positions[i * 3 + 2] = lerp(c, 2, (pos & 2047) / 2047);
      logScales[i * 3] = lerp(c, 3, (scl >>> 21) / 2047);
      logScales[i * 3 + 1] = lerp(c, 4, ((scl >>> 11) & 1023) / 1023);
      logScales[i * 3 + 2] = lerp(c, 5, (scl & 2047) / 2047);

      for (let ch = 0; ch < 3; ch++) {
        const u = ((col >>> (24 - 8 * ch)) & 255) / 255;
        shDc[i * 3 + ch] = ((colourRanges ? lerp(c, 6 + ch, u) : u) - 0.5) / SH_C0;
      }
      opacityLogits[i] = clampedLogit((col & 255) / 255);
      unpackRotation(rot, rotations, i * 4);
    }
  }

  if (sh) readShBytes(source, sh, cloud.shRest, shRestCount(degree));
  normalizeQuaternions(rotations);
  validateCloud(cloud, file);
  return { cloud, comments: [...header.comments] };
}

/** 2-10-10-10 "smallest three": top bits index the largest of (w, x, y, z), which is rebuilt from the others. */
function unpackRotation(packed: number, out: Float32Array, at: number): void {
  const largest = packed >>> 30;
  let sum = 0;
  let shift = 20;
  for (let j = 0; j < 4; j++) {
    if (j === largest) continue;
    const v = (((packed >>> shift) & 1023) / 1023 - 0.5) * Math.SQRT2;
    out[at + j] = v;
    sum += v * v;
    shift -= 10;
  }
  out[at + largest] = Math.sqrt(Math.max(0, 1 - sum));
}

/** SH bytes: 0 and 255 are the ends of the range, other bytes bucket centres; value = (n − 0.5)·8. */
function readShBytes(source: ByteSource, sh: PlyElement, shRest: Float32Array, k: number): void {
  const table = new Float32Array(256);
  for (let b = 0; b < 256; b++) table[b] = ((b === 0 ? 0 : b === 255 ? 1 : (b + 0.5) / 256) - 0.5) * 8;
  // f_rest_j is channel-major (j = channel·K + coefficient), as in the Inria PLY.
  const dstOffset = sh.properties.map((_, j) => (j % k) * 3 + Math.floor(j / k));
  const width = sh.properties.length;
  const chunkRows = rowsPerChunk(sh.stride);
  for (let first = 0; first < sh.count; first += chunkRows) {
    const rows = Math.min(chunkRows, sh.count - first);
    const bytes = source.read(sh.dataOffset + first * sh.stride, rows * sh.stride);
    for (let r = 0; r < rows; r++) {
      const base = (first + r) * width;
      for (let j = 0; j < width; j++) shRest[base + dstOffset[j]] = table[bytes[r * sh.stride + j]];
    }
  }
}

function propertyOffset(element: PlyElement, name: string, type: string, fail: (reason: string) => Error): number {
  const p = element.properties.find((q) => q.name === name);
  if (!p) throw fail(`${element.name} element lacks property ${name}`);
  if (p.type !== type) throw fail(`${element.name} property ${name} is ${p.type}, expected ${type}`);
  return p.offset;
}
