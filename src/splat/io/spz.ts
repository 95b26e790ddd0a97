/**
 * Niantic `.spz` reader (nianticlabs/spz `load-spz.cc`), versions 1–3 (one gzip stream around a 16-byte header)
 * and 4 (plaintext 32-byte header, table of contents, one zstd stream per attribute).
 *
 * Axes: spz stores RUB (x right, y up, z back) unless an `SPZ_ADOBE_coordinate_system` extension record names
 * another system; this project uses the PLY convention RDF, so the reader flips axes on load. Of the sixteen
 * systems that extension can name, the eight that differ from RDF by axis flips only (LDB … RUF) are supported;
 * the eight whose second axis is front/back (LFD … RBU) need an SH rotation and are refused with
 * UnsupportedFormatError. The antialiased flag is read but not kept: GaussianCloud has no field for it.
 */
import { Decompress as ZstdDecompress } from "fzstd";
import { Gunzip } from "fflate";
import { InvalidFileError, UnsupportedFormatError } from "../../core/errors.ts";
import { allocateCloud, clampedLogit, shRestCount, validateCloud, type GaussianCloud, type ShDegree } from "../cloud.ts";
import { normalizeQuaternions } from "./common.ts";
import { view, type ByteSource } from "./source.ts";

export const SPZ_MAGIC = 0x5053474e; // "NGSP" little-endian
const FLAG_EXTENSIONS = 0x2;
const COLOR_SCALE = 0.15;
const EXT_COORDINATE_SYSTEM = 0xadbe0003;
const COORDINATE_SYSTEMS = ["UNSPECIFIED", "LDB", "RDB", "LUB", "RUB", "LDF", "RDF", "LUF", "RUF", "LFD", "RFD", "LFU", "RFU", "LBD", "RBD", "LBU", "RBU"];
const RUB = 4;
const RDF = 6;
const RUF = 8;
/** Compressed bytes are read and fed to the decoder in pieces of this size. */
const READ_PIECE = 1 << 20;
/** Neither deflate nor zstd at realistic settings expands data more than this; bounds a header's point count. */
const MAX_EXPANSION = 1100;
const MIN_BYTES_PER_POINT = 6 + 1 + 3 + 3 + 3;

/**
 * For each SH rest coefficient k (3DGS order y, z, x, xy, yz, 3z²−1, xz, x²−y², …), the parity of its basis
 * polynomial in x, y and z: flipping an axis flips the coefficient's sign when that parity is odd.
 */
const SH_PARITY: readonly (readonly [number, number, number])[] = [
  [0, 1, 0], [0, 0, 1], [1, 0, 0],
  [1, 1, 0], [0, 1, 1], [0, 0, 0], [1, 0, 1], [0, 0, 0],
  [0, 1, 0], [1, 1, 1], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 0, 1], [1, 0, 0],
];

interface SpzHeader {
  version: number;
  count: number;
  shDegree: ShDegree;
  fractionalBits: number;
  flags: number;
}

/**
 * Read a `.spz` file (v1–v4) into the PLY axis convention (RDF).
 * @throws UnsupportedFormatError for SH degree 4 or a rotated coordinate system; InvalidFileError naming the
 *   file for a wrong magic or version, a corrupt or truncated stream, or sizes that disagree with the header.
 */
export function readSpz(source: ByteSource): GaussianCloud {
  const file = source.name;
  if (source.size < 4) throw new InvalidFileError(file, `truncated: ${source.size} B is too short for an spz header`);
  const head = source.read(0, 4);
  if (view(head).getUint32(0, true) === SPZ_MAGIC) return readNgsp(source);
  if (head[0] === 0x1f && head[1] === 0x8b) return readGzipped(source);
  throw new InvalidFileError(file, "not an spz file (wrong magic)");
}

function readNgsp(source: ByteSource): GaussianCloud {
  const file = source.name;
  const fail = (reason: string) => new InvalidFileError(file, `spz: ${reason}`);
  const dv = view(source.read(0, 32));
  const header = parseHeader(dv, file, [4, 4], source.size);
  const numStreams = dv.getUint8(15);
  const tocOffset = dv.getUint32(16, true);

  const sizes = streamSizes(header);
  const names = STREAM_NAMES.filter((_, s) => sizes[s] > 0);
  if (numStreams !== names.length) throw fail(`header says ${numStreams} streams, expected ${names.length} for SH degree ${header.shDegree}`);
  if (tocOffset < 32) throw fail(`table of contents at byte ${tocOffset} overlaps the 32-byte header`);
  const tocEnd = tocOffset + 16 * numStreams;
  if (tocEnd > source.size) throw fail(`table of contents ends at byte ${tocEnd}, past the end of the ${source.size}-byte file (truncated?)`);

  const extensions = (header.flags & FLAG_EXTENSIONS) !== 0 && tocOffset > 32 ? source.read(32, tocOffset - 32) : new Uint8Array(0);
  const coordinates = coordinateSystem(extensions, file);

  const toc = view(source.read(tocOffset, 16 * numStreams));
  const streams: Uint8Array[] = [];
  let offset = tocEnd;
  for (let s = 0; s < numStreams; s++) {
    const compressed = Number(toc.getBigUint64(16 * s, true));
    const uncompressed = Number(toc.getBigUint64(16 * s + 8, true));
    const expected = sizes[STREAM_NAMES.indexOf(names[s])];
    if (uncompressed !== expected) throw fail(`${names[s]} stream holds ${uncompressed} B, expected ${expected} for ${header.count} points`);
    if (offset + compressed > source.size) throw fail(`${names[s]} stream runs past the end of the file (truncated?)`);
    streams.push(inflateZstd(source, offset, compressed, expected, `${names[s]} stream`));
    offset += compressed;
  }
  if (offset !== source.size) throw fail(`${source.size - offset} unexpected bytes after the last stream`);
  return decode(header, streams, coordinates, file);
}

function readGzipped(source: ByteSource): GaussianCloud {
  const file = source.name;
  const fail = (reason: string) => new InvalidFileError(file, `spz: ${reason}`);
  // Inflate into pieces; once the header is in, cap the total at what it declares (plus room for extension
  // records), so a gzip bomb stops early instead of exhausting memory.
  const pieces: Uint8Array[] = [];
  let total = 0;
  let header: SpzHeader | undefined;
  let limit = Infinity;
  pump(source, 0, source.size, new Gunzip((data) => {
    pieces.push(data.slice());
    total += data.length;
    if (!header && total >= 16) {
      const dv = view(concat(pieces, total));
      if (dv.getUint32(0, true) !== SPZ_MAGIC) throw new InvalidFileError(file, "gzip data is not an spz file (wrong inner magic)");
      header = parseHeader(dv, file, [1, 4], source.size);
      limit = 16 + streamSizes(header).reduce((a, b) => a + b) + (1 << 20);
    }
    if (total > limit) throw fail(`gzip payload exceeds the ${limit} B its header's ${header?.count} points can use`);
  }), "gzip data");
  if (!header) throw fail(`gzip payload of ${total} B is too short for the 16-byte header`);

  const body = concat(pieces, total);
  const sizes = streamSizes(header);
  const streams: Uint8Array[] = [];
  let offset = 16;
  for (const size of sizes) {
    if (offset + size > body.length) {
      throw fail(`truncated: ${header.count} points need ${16 + sizes.reduce((a, b) => a + b)} B of data, the gzip payload has ${body.length}`);
    }
    streams.push(body.subarray(offset, offset + size));
    offset += size;
  }
  const extensions = (header.flags & FLAG_EXTENSIONS) !== 0 ? body.subarray(offset) : new Uint8Array(0);
  return decode(header, streams, coordinateSystem(extensions, file), file);
}

const STREAM_NAMES = ["positions", "alphas", "colors", "scales", "rotations", "sh"] as const;

/** Uncompressed byte size of each attribute stream, in file order. */
function streamSizes(h: SpzHeader): number[] {
  const n = h.count;
  return [n * (h.version === 1 ? 6 : 9), n, n * 3, n * 3, n * (h.version >= 3 ? 4 : 3), n * shRestCount(h.shDegree) * 3];
}

function parseHeader(dv: DataView, file: string, [minVersion, maxVersion]: [number, number], fileSize: number): SpzHeader {
  const version = dv.getUint32(4, true);
  const count = dv.getUint32(8, true);
  const shDegree = dv.getUint8(12);
  if (version < minVersion || version > maxVersion) throw new InvalidFileError(file, `spz version ${version} is not supported (expected ${minVersion}-${maxVersion})`);
  if (count === 0) throw new InvalidFileError(file, "spz header declares 0 points");
  // Refuse an absurd count before inflating or allocating anything: even perfectly compressible data cannot
  // expand past MAX_EXPANSION.
  if (count * MIN_BYTES_PER_POINT > fileSize * MAX_EXPANSION) {
    throw new InvalidFileError(file, `spz header declares ${count} points, more than a ${fileSize}-byte file can hold`);
  }
  if (shDegree === 4) throw new UnsupportedFormatError(file, "spz SH degree 4 is not supported (degrees 0-3 are)");
  if (shDegree > 4) throw new InvalidFileError(file, `spz SH degree ${shDegree} is invalid`);
  return { version, count, shDegree: shDegree as ShDegree, fractionalBits: dv.getUint8(13), flags: dv.getUint8(14) };
}

/** Decompress one zstd stream that must inflate to exactly `expected` bytes. */
function inflateZstd(source: ByteSource, offset: number, length: number, expected: number, what: string): Uint8Array {
  const out = new Uint8Array(expected);
  let filled = 0;
  pump(source, offset, length, new ZstdDecompress((data) => {
    if (filled + data.length > expected) throw new InvalidFileError(source.name, `spz: ${what} decompresses to more than the ${expected} B declared`);
    out.set(data, filled);
    filled += data.length;
  }), what);
  if (filled !== expected) throw new InvalidFileError(source.name, `spz: ${what} decompresses to ${filled} B, expected ${expected} (truncated?)`);
  return out;
}

/** Feed `length` bytes at `offset` to a streaming decoder in bounded reads; decoder failures become InvalidFileError. */
function pump(source: ByteSource, offset: number, length: number, decoder: { push(chunk: Uint8Array, final?: boolean): unknown }, what: string): void {
  try {
    if (length === 0) decoder.push(new Uint8Array(0), true);
    for (let at = 0; at < length; at += READ_PIECE) {
      const n = Math.min(READ_PIECE, length - at);
      decoder.push(source.read(offset + at, n), at + n === length);
    }
  } catch (err) {
    if (err instanceof InvalidFileError) throw err;
    throw new InvalidFileError(source.name, `spz: corrupt or truncated ${what} (${(err as Error).message})`, { cause: err });
  }
}

function concat(pieces: Uint8Array[], total: number): Uint8Array {
  if (pieces.length === 1) return pieces[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  pieces.length = 0;
  pieces.push(out);
  return out;
}

/** The stored coordinate system from the extension records (RUB when none says otherwise). */
function coordinateSystem(records: Uint8Array, file: string): number {
  const dv = view(records);
  let system = RUB;
  for (let at = 0; at < records.length; ) {
    if (at + 8 > records.length) throw new InvalidFileError(file, `spz: truncated extension record at byte ${at} of the extension block`);
    const type = dv.getUint32(at, true);
    const length = dv.getUint32(at + 4, true);
    if (at + 8 + length > records.length) throw new InvalidFileError(file, `spz: extension 0x${type.toString(16)} overruns its block (${length} B)`);
    if (type === EXT_COORDINATE_SYSTEM && length >= 4) {
      const value = dv.getUint32(at + 8, true);
      if (value >= COORDINATE_SYSTEMS.length) throw new InvalidFileError(file, `spz: SPZ_ADOBE_coordinate_system value ${value} is not a coordinate system`);
      if (value > RUF) {
        throw new UnsupportedFormatError(file, `spz coordinate system ${COORDINATE_SYSTEMS[value]} (SPZ_ADOBE_coordinate_system) is not supported; only LDB, RDB, LUB, RUB, LDF, RDF, LUF and RUF are`);
      }
      // UNSPECIFIED means "absent", which is RUB.
      if (value !== 0) system = value;
    }
    // Other extensions (e.g. Adobe's safe orbit camera) carry no splat data and are skipped.
    at += 8 + length;
  }
  return system;
}

function decode(h: SpzHeader, streams: Uint8Array[], system: number, file: string): GaussianCloud {
  const [pos, alpha, color, scale, rot] = streams;
  const sh = streams[5] ?? new Uint8Array(0); // v4 omits the empty SH stream at degree 0
  const n = h.count;
  const cloud = allocateCloud(n, h.shDegree);
  const { positions, logScales, rotations, opacityLogits, shDc, shRest } = cloud;

  // Enum value − 1 holds one bit per axis (x: R, y: U, z: F); a differing bit from RDF means that axis flips.
  const diff = (system - 1) ^ (RDF - 1);
  const f = [diff & 1 ? -1 : 1, diff & 2 ? -1 : 1, diff & 4 ? -1 : 1];
  const qFlip = [f[1] * f[2], f[0] * f[2], f[0] * f[1]];

  if (h.version === 1) {
    for (let i = 0; i < n * 3; i++) positions[i] = halfToFloat(pos[2 * i] | (pos[2 * i + 1] << 8)) * f[i % 3];
  } else {
    const unit = 2 ** -h.fractionalBits;
    for (let i = 0; i < n * 3; i++) {
      // Shift the 24-bit value into the top of an int32 and back to sign-extend it.
      const fixed = ((pos[3 * i] | (pos[3 * i + 1] << 8) | (pos[3 * i + 2] << 16)) << 8) >> 8;
      positions[i] = fixed * unit * f[i % 3];
    }
  }
  for (let i = 0; i < n; i++) opacityLogits[i] = clampedLogit(alpha[i] / 255);
  for (let i = 0; i < n * 3; i++) {
    shDc[i] = (color[i] / 255 - 0.5) / COLOR_SCALE;
    logScales[i] = scale[i] / 16 - 10;
  }

  const xyzw = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    if (h.version >= 3) {
      // Smallest three: top 2 bits index the largest component in x, y, z, w order; the others follow as
      // sign bit + 9-bit magnitude/√½, last component in the lowest bits.
      let comp = rot[4 * i] | (rot[4 * i + 1] << 8) | (rot[4 * i + 2] << 16) | (rot[4 * i + 3] << 24);
      const largest = comp >>> 30;
      let sum = 0;
      for (let j = 3; j >= 0; j--) {
        if (j === largest) continue;
        const v = (Math.SQRT1_2 * (comp & 511)) / 511;
        xyzw[j] = comp & 512 ? -v : v;
        sum += v * v;
        comp >>>= 10;
      }
      xyzw[largest] = Math.sqrt(Math.max(0, 1 - sum));
    } else {
      let sum = 0;
      for (let j = 0; j < 3; j++) {
        xyzw[j] = rot[3 * i + j] / 127.5 - 1;
        sum += xyzw[j] * xyzw[j];
      }
      xyzw[3] = Math.sqrt(Math.max(0, 1 - sum));
    }
    rotations[4 * i] = xyzw[3];
    for (let j = 0; j < 3; j++) rotations[4 * i + 1 + j] = xyzw[j] * qFlip[j];
  }

  // spz SH is coefficient-major with the colour channel innermost, the cloud's own layout.
  const k = shRestCount(h.shDegree);
  const sign = SH_PARITY.slice(0, k).map(([px, py, pz]) => (px ? f[0] : 1) * (py ? f[1] : 1) * (pz ? f[2] : 1));
  for (let i = 0; i < sh.length; i++) shRest[i] = ((sh[i] - 128) / 128) * sign[Math.floor(i / 3) % k];

  normalizeQuaternions(rotations);
  validateCloud(cloud, file);
  return cloud;
}

/** IEEE 754 binary16 to number (spz v1 positions). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (mantissa / 1024);
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + mantissa / 1024);
}
