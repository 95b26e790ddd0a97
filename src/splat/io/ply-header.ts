/**
 * PLY header parser, shared by the Inria and PlayCanvas-compressed readers. Only binary little-endian PLY with
 * scalar properties is accepted: that is what every Gaussian-splat tool writes, and it lets element data be
 * located by arithmetic instead of by scanning.
 */
import { InvalidFileError, UnsupportedFormatError } from "../../core/errors.ts";
import type { ByteSource } from "./source.ts";

export type PlyScalarType = "char" | "uchar" | "short" | "ushort" | "int" | "uint" | "float" | "double";

/** Byte size of each PLY scalar type. */
export const PLY_TYPE_SIZE: Readonly<Record<PlyScalarType, number>> = {
  char: 1,
  uchar: 1,
  short: 2,
  ushort: 2,
  int: 4,
  uint: 4,
  float: 4,
  double: 8,
};

const TYPE_ALIASES: Readonly<Record<string, PlyScalarType>> = {
  char: "char",
  int8: "char",
  uchar: "uchar",
  uint8: "uchar",
  short: "short",
  int16: "short",
  ushort: "ushort",
  uint16: "ushort",
  int: "int",
  int32: "int",
  uint: "uint",
  uint32: "uint",
  float: "float",
  float32: "float",
  double: "double",
  float64: "double",
};

export interface PlyProperty {
  readonly name: string;
  readonly type: PlyScalarType;
  /** Byte offset of the property inside one row of its element. */
  readonly offset: number;
}

export interface PlyElement {
  readonly name: string;
  readonly count: number;
  readonly properties: readonly PlyProperty[];
  /** Bytes per row. */
  readonly stride: number;
  /** Absolute byte offset of the element's first row in the file. */
  readonly dataOffset: number;
}

export interface PlyHeader {
  readonly elements: readonly PlyElement[];
  /** Text of each `comment` line, without the keyword, in file order. */
  readonly comments: readonly string[];
  /** Byte length of the header including the `end_header` line. */
  readonly headerSize: number;
}

/** Headers of real splat files are a few KiB; a bound keeps a bogus file from being scanned whole. */
export const MAX_PLY_HEADER_BYTES = 64 * 1024;

/** The element called `name`, or undefined. */
export function findElement(header: PlyHeader, name: string): PlyElement | undefined {
  return header.elements.find((e) => e.name === name);
}

/**
 * Parse and validate the header of a binary little-endian PLY. Every element's data range is checked against
 * the source size here, so a reader can allocate per-splat arrays knowing the data is really there.
 */
export function parsePlyHeader(source: ByteSource): PlyHeader {
  const file = source.name;
  const fail = (reason: string) => new InvalidFileError(file, reason);
  const head = source.read(0, Math.min(source.size, MAX_PLY_HEADER_BYTES));
  if (!startsWithPlyMagic(head)) throw fail("not a PLY file (wrong magic)");

  const end = findEndHeader(head);
  if (end < 0) {
    throw fail(
      source.size <= MAX_PLY_HEADER_BYTES
        ? "truncated PLY header: no end_header line"
        : `PLY header has no end_header line in its first ${MAX_PLY_HEADER_BYTES} bytes`,
    );
  }
  // latin1 maps every byte to one char, so stray non-ASCII bytes cannot throw or shift offsets.
  const lines = new TextDecoder("latin1").decode(head.subarray(0, end)).split("\n");

  const comments: string[] = [];
  const building: { name: string; count: number; properties: PlyProperty[]; stride: number }[] = [];
  let format: string | undefined;
  for (let lineNo = 1; lineNo < lines.length; lineNo++) {
    const line = lines[lineNo].replace(/\r$/, "");
    const words = line.trim().split(/\s+/);
    const keyword = words[0];
    const where = `PLY header line ${lineNo + 1}`;
    if (keyword === "" || keyword === "end_header" || keyword === "obj_info") continue;
    if (keyword === "comment") {
      comments.push(line.replace(/^\s*comment ?/, ""));
    } else if (keyword === "format") {
      format = words.slice(1).join(" ");
      if (format !== "binary_little_endian 1.0") {
        throw new UnsupportedFormatError(
          file,
          `PLY format "${format}" is not supported; only binary_little_endian 1.0 is`,
        );
      }
    } else if (keyword === "element") {
      if (words.length !== 3) throw fail(`${where}: malformed element line "${line}"`);
      const name = words[1];
      if (building.some((e) => e.name === name)) throw fail(`${where}: duplicate element "${name}"`);
      building.push({ name, count: parseCount(words[2], () => fail(`${where}: bad count "${words[2]}" for element ${name}`)), properties: [], stride: 0 });
    } else if (keyword === "property") {
      const element = building.at(-1);
      if (!element) throw fail(`${where}: property before any element`);
      if (words[1] === "list") {
        throw new UnsupportedFormatError(
          file,
          `list property "${words.at(-1)}" in element ${element.name} is not supported; splat files use scalar properties`,
        );
      }
      if (words.length !== 3) throw fail(`${where}: malformed property line "${line}"`);
      const type = TYPE_ALIASES[words[1]];
      if (type === undefined) throw fail(`unknown PLY property type "${words[1]}" for property ${words[2]} of element ${element.name}`);
      const name = words[2];
      if (element.properties.some((p) => p.name === name)) throw fail(`${where}: duplicate property "${name}" in element ${element.name}`);
      element.properties.push({ name, type, offset: element.stride });
      element.stride += PLY_TYPE_SIZE[type];
    } else {
      throw fail(`${where}: unexpected line "${line.slice(0, 80)}"`);
    }
  }
  if (format === undefined) throw fail("PLY header has no format line");

  let offset = end;
  const elements: PlyElement[] = [];
  for (const e of building) {
    const bytes = e.count * e.stride;
    if (offset + bytes > source.size) {
      throw fail(
        `element ${e.name} declares ${e.count} rows of ${e.stride} B (${bytes} B) from byte ${offset}, ` +
          `but the file has only ${source.size} B (truncated or bad count)`,
      );
    }
    elements.push({ ...e, dataOffset: offset });
    offset += bytes;
  }
  return { elements, comments, headerSize: end };
}

/** True if `bytes` starts with the PLY magic line ("ply\n", or "ply\r\n" from Windows tools). */
export function startsWithPlyMagic(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 &&
    bytes[0] === 0x70 &&
    bytes[1] === 0x6c &&
    bytes[2] === 0x79 &&
    (bytes[3] === 0x0a || (bytes[3] === 0x0d && bytes[4] === 0x0a))
  );
}

/** Offset just past the `end_header` line, or −1. */
function findEndHeader(head: Uint8Array): number {
  const text = new TextDecoder("latin1").decode(head);
  const m = /(^|\n)end_header[ \t]*\r?\n/.exec(text);
  return m ? m.index + m[0].length : -1;
}

function parseCount(word: string, error: () => Error): number {
  if (!/^\d+$/.test(word)) throw error();
  const n = Number(word);
  if (!Number.isSafeInteger(n)) throw error();
  return n;
}

/** Header text for a binary little-endian PLY, ending with `end_header\n`. */
export function formatPlyHeader(
  elements: readonly { name: string; count: number; properties: readonly { name: string; type: PlyScalarType }[] }[],
  comments: readonly string[] = [],
): string {
  const lines = ["ply", "format binary_little_endian 1.0"];
  for (const c of comments) lines.push(`comment ${c}`);
  for (const e of elements) {
    lines.push(`element ${e.name} ${e.count}`);
    for (const p of e.properties) lines.push(`property ${p.type} ${p.name}`);
  }
  lines.push("end_header", "");
  return lines.join("\n");
}
