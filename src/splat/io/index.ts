/**
 * Splat file I/O: one entry point that recognises a file by its content (FORMATS.md §1 detection order) and
 * one that picks a writer by the output extension.
 *
 * Reading: {@link readSplat} / {@link readSplatSync} for paths, {@link parseSplat} for bytes already in memory
 * (browser), {@link readSplatSource} for any {@link ByteSource}. All return a {@link SplatFile}.
 * Writing: {@link writeSplat} (`.ply` → Inria PLY with extras and comments, `.splat` → antimatter15).
 */
import { Gunzip } from "fflate";
import { ConfigError, InvalidFileError } from "../../core/errors.ts";
import type { GaussianCloud } from "../cloud.ts";
import { extensionOf } from "./common.ts";
import { isCompressedPlyHeader, readCompressedPly } from "./compressed-ply.ts";
import { parsePlyHeader, startsWithPlyMagic, type PlyHeader } from "./ply-header.ts";
import { readPly, writePly } from "./ply.ts";
import { fileSource, memorySource, view, type ByteSource } from "./source.ts";
import { readSplatFile, SPLAT_ROW_BYTES, writeSplatFile } from "./splat.ts";
import { readSpz, SPZ_MAGIC } from "./spz.ts";

export type SplatFormat = "ply" | "compressed-ply" | "splat" | "spz";

/** A decoded splat file. */
export interface SplatFile {
  cloud: GaussianCloud;
  format: SplatFormat;
  /** PLY `comment` lines without the keyword (e.g. `rtgs2 encoder <id>`); empty for other formats. */
  comments: string[];
}

export interface WriteSplatOptions {
  /** PLY `comment` lines to write (ignored by `.splat`, which has no header). */
  comments?: readonly string[];
}

/**
 * The format of `source`, from its content: `ply\n` → PLY (compressed when the header has the PlayCanvas
 * chunk layout), `NGSP` → spz v4, gzip holding `NGSP` → spz v1–3, and only then `.splat` by extension and size.
 * @throws InvalidFileError "empty file" or "unknown format", naming the source.
 */
export function detectFormat(source: ByteSource): SplatFormat {
  return detect(source).format;
}

function detect(source: ByteSource): { format: SplatFormat; plyHeader?: PlyHeader } {
  const file = source.name;
  if (source.size === 0) throw new InvalidFileError(file, "empty file");
  const head = source.read(0, Math.min(source.size, 8));
  if (startsWithPlyMagic(head)) {
    const plyHeader = parsePlyHeader(source);
    return { format: isCompressedPlyHeader(plyHeader) ? "compressed-ply" : "ply", plyHeader };
  }
  if (head.length >= 4 && view(head).getUint32(0, true) === SPZ_MAGIC) return { format: "spz" };
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    if (gzipStartsWithSpzMagic(source)) return { format: "spz" };
    throw new InvalidFileError(file, "unknown format (gzip data that is not spz)");
  }
  if (extensionOf(file) === ".splat") {
    if (source.size % SPLAT_ROW_BYTES === 0) return { format: "splat" };
    throw new InvalidFileError(file, `.splat size ${source.size} B is not a multiple of 32 (truncated?)`);
  }
  const hex = [...head.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
  throw new InvalidFileError(file, `unknown format (first bytes ${hex}; expected ply, spz, or a .splat file)`);
}

/** Inflate just enough of a gzip source to see whether its payload starts with the spz magic. */
function gzipStartsWithSpzMagic(source: ByteSource): boolean {
  let first: Uint8Array = new Uint8Array(0);
  const gunzip = new Gunzip((data) => {
    if (first.length < 4) first = Uint8Array.from([...first, ...data.subarray(0, 4 - first.length)]);
  });
  try {
    for (let at = 0; at < source.size && first.length < 4; at += 4096) {
      const n = Math.min(4096, source.size - at);
      gunzip.push(source.read(at, n), at + n === source.size);
    }
  } catch (err) {
    throw new InvalidFileError(source.name, `corrupt gzip data (${(err as Error).message})`, { cause: err });
  }
  return first.length >= 4 && view(first).getUint32(0, true) === SPZ_MAGIC;
}

/** Detect the format of `source` and decode it. The caller keeps ownership of `source` (and closes it). */
export function readSplatSource(source: ByteSource): SplatFile {
  const { format, plyHeader } = detect(source);
  switch (format) {
    case "ply":
      return { format, ...readPly(source, plyHeader) };
    case "compressed-ply":
      return { format, ...readCompressedPly(source, plyHeader) };
    case "splat":
      return { format, cloud: readSplatFile(source), comments: [] };
    case "spz":
      return { format, cloud: readSpz(source), comments: [] };
  }
}

/**
 * Read any supported splat file, recognised by content (see {@link detectFormat}). The file is read in bounded
 * chunks; memory grows with the splat count, not the file size.
 * @throws MissingFileError if `path` does not exist; InvalidFileError (or UnsupportedFormatError) naming the
 *   file and the problem for anything unreadable.
 */
export function readSplatSync(path: string): SplatFile {
  const source = fileSource(path);
  try {
    return readSplatSource(source);
  } finally {
    source.close();
  }
}

/** {@link readSplatSync} behind a Promise, the shape a browser `fetch`-based loader will share. */
export async function readSplat(path: string): Promise<SplatFile> {
  return readSplatSync(path);
}

/** Decode a splat file held in memory; `name` is used in errors and for the `.splat` extension check. */
export function parseSplat(bytes: Uint8Array, name = "<memory>"): SplatFile {
  return readSplatSource(memorySource(bytes, name));
}

/**
 * Write `cloud` to `path`, the format chosen by the extension: `.ply` → Inria PLY (SH, extras and `comments`
 * kept), `.splat` → antimatter15 (SH rest, extras and comments dropped). Writes are synchronous and atomic.
 * @throws ConfigError naming the extension for any other output type.
 */
export function writeSplat(path: string, cloud: GaussianCloud, options: WriteSplatOptions = {}): void {
  const ext = extensionOf(path);
  if (ext === ".ply") writePly(path, cloud, options);
  else if (ext === ".splat") writeSplatFile(path, cloud);
  else throw new ConfigError("output", `${path}: cannot write "${ext || "(no extension)"}" files; use .ply or .splat`);
}

export { readPly, writePly, encodePly, type PlyReadResult, type WritePlyOptions } from "./ply.ts";
export { readCompressedPly } from "./compressed-ply.ts";
export { readSplatFile, writeSplatFile, encodeSplat } from "./splat.ts";
export { readSpz } from "./spz.ts";
export { parsePlyHeader, type PlyHeader, type PlyElement, type PlyProperty, type PlyScalarType } from "./ply-header.ts";
export { fileSource, memorySource, type ByteSource } from "./source.ts";
