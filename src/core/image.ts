/**
 * Images and PNG I/O. An `Image` is channel-last float data (usually in [0, 1]); label maps are `Uint16Array`s
 * with 65535 = ignore (ARCHITECTURE.md §4). PNG decoding goes through pngjs, but the chunk structure and the
 * header are checked here first, so a truncated or absurd file gives an `InvalidFileError` naming the file
 * before any large allocation.
 */
import { PNG, type ColorType } from "pngjs";
import { InvalidFileError, ShapeError, ConfigError } from "./errors.ts";
import { readFileChecked, writeFileAtomic } from "./fs.ts";

/** Channel-last image: pixel (x, y), channel c is `data[(y * width + x) * channels + c]`. */
export interface Image {
  width: number;
  height: number;
  channels: number;
  data: Float32Array;
}

/** A decoded PNG as floats in [0, 1], with the sample bit depth it was stored with. */
export interface DecodedPng extends Image {
  bitDepth: 1 | 2 | 4 | 8 | 16;
}

/**
 * A decoded PNG as its stored integer samples (no scaling): 0..2^bitDepth − 1, or 0..255 for palette images,
 * whose indices are resolved to colours. For data stored as integers (depth in mm, class ids).
 */
export interface RawPng {
  width: number;
  height: number;
  channels: number;
  bitDepth: 1 | 2 | 4 | 8 | 16;
  /** True for palette (colour type 3) files; `data` then holds palette colours, not indices. */
  palette: boolean;
  data: Uint8Array | Uint16Array;
}

/** The ignore label of every label map. */
export const IGNORE_LABEL = 65535;

/**
 * Depth in metres → uint16 millimetres, as depth PNGs store it (0 = invalid, saturating at 65.535 m). With
 * `alpha`, depth is an expected depth Σ z·α·T and is divided by alpha first; pixels with alpha < 1e-3 are invalid.
 */
export function depthToMillimetres(depth: Float32Array, alpha?: Float32Array): Uint16Array {
  const out = new Uint16Array(depth.length);
  for (let i = 0; i < depth.length; i++) {
    if (alpha && alpha[i] < 1e-3) continue;
    const z = alpha ? depth[i] / alpha[i] : depth[i];
    if (z > 0) out[i] = Math.min(65535, Math.round(z * 1000));
  }
  return out;
}

/**
 * Largest PNG accepted, in pixels. pngjs expands every file to RGBA (8 bytes per pixel at 16 bits) and we add a
 * float copy, so this bounds a single decode to about 1 GiB instead of letting a corrupt header ask for more.
 */
export const MAX_PNG_PIXELS = 1 << 26;

const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** A zeroed image. */
export function createImage(width: number, height: number, channels: number): Image {
  for (const [k, v] of [
    ["width", width],
    ["height", height],
    ["channels", channels],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new ConfigError(k, `must be a positive integer, got ${v}`);
  }
  return { width, height, channels, data: new Float32Array(width * height * channels) };
}

/**
 * Tiles (RGB images of one size) laid out in rows on a white sheet with `gap` pixels between them; a shorter row
 * leaves its end blank.
 */
export function composeGrid(rows: readonly (readonly Image[])[], gap = 2): Image {
  const w = rows[0][0].width;
  const h = rows[0][0].height;
  const cols = Math.max(...rows.map((r) => r.length));
  const sheet = createImage(cols * w + (cols - 1) * gap, rows.length * h + (rows.length - 1) * gap, 3);
  sheet.data.fill(1);
  rows.forEach((row, r) =>
    row.forEach((tile, c) => {
      if (tile.width !== w || tile.height !== h || tile.channels !== 3) {
        throw new ShapeError(`composeGrid tile ${r},${c}`, `${w}×${h}×3`, `${tile.width}×${tile.height}×${tile.channels}`);
      }
      for (let y = 0; y < h; y++) {
        const dst = ((r * (h + gap) + y) * sheet.width + c * (w + gap)) * 3;
        sheet.data.set(tile.data.subarray(y * w * 3, (y + 1) * w * 3), dst);
      }
    }),
  );
  return sheet;
}

/** Throw ShapeError unless `image.data` holds exactly width·height·channels values; `where` names the caller. */
export function validateImage(image: Image, where = "image"): void {
  const { width, height, channels } = image;
  if (![width, height, channels].every((v) => Number.isInteger(v) && v > 0)) {
    throw new ShapeError(where, "positive integer width × height × channels", `${width}×${height}×${channels}`);
  }
  const expected = width * height * channels;
  if (image.data.length !== expected) {
    throw new ShapeError(where, `${width}×${height}×${channels} = ${expected} values`, `${image.data.length} values`);
  }
}

function checkLabels(labels: Uint16Array, width: number, height: number, where: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new ShapeError(where, "positive integer width × height", `${width}×${height}`);
  }
  if (labels.length !== width * height) {
    throw new ShapeError(where, `${width}×${height} = ${width * height} labels`, `${labels.length} labels`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding

/** PNG colour type for 1..4 channels: grey, grey + alpha, RGB, RGBA. */
const COLOR_TYPE_BY_CHANNELS: Record<number, ColorType> = { 1: 0, 2: 4, 3: 2, 4: 6 };

/** Options of `encodePng` / `writePng`. */
export interface PngWriteOptions {
  /** Sample depth of the file; 8 (default) or 16. */
  bitDepth?: 8 | 16;
  /** zlib level 0–9; default 6 (level 9 is several times slower for a few per cent). */
  compressionLevel?: number;
}

/**
 * Samples already in the file's layout (channel count, depth) go straight to pngjs. `samples` must own its whole
 * ArrayBuffer from offset 0: pngjs reinterprets `data.buffer` as a Uint16Array for 16-bit input.
 */
function packSamples(
  samples: Uint8Array | Uint16Array,
  width: number,
  height: number,
  channels: number,
  bitDepth: 8 | 16,
  level: number,
): Uint8Array {
  const colorType = COLOR_TYPE_BY_CHANNELS[channels];
  // Packing reads only width, height and data; `new PNG()` would allocate an unused RGBA buffer first.
  const png = { width, height, data: Buffer.from(samples.buffer, 0, samples.byteLength) } as unknown as PNG;
  return PNG.sync.write(png, {
    colorType,
    inputColorType: colorType,
    inputHasAlpha: channels === 2 || channels === 4,
    bitDepth,
    deflateLevel: level,
  });
}

/**
 * Encode an image as PNG. Values are clamped to [0, 1] and rounded to the nearest of 255 (or 65535) steps; NaN
 * is written as 0. Channels: 1 → grey, 2 → grey + alpha, 3 → RGB, 4 → RGBA.
 */
export function encodePng(image: Image, options: PngWriteOptions = {}): Uint8Array {
  validateImage(image, "encodePng");
  const { width, height, channels, data } = image;
  if (!(channels in COLOR_TYPE_BY_CHANNELS)) {
    throw new ShapeError("encodePng", "1, 2, 3 or 4 channels", `${channels} channels`);
  }
  const bitDepth = options.bitDepth ?? 8;
  if (bitDepth !== 8 && bitDepth !== 16) throw new ConfigError("bitDepth", `must be 8 or 16, got ${String(bitDepth)}`);
  const level = options.compressionLevel ?? 6;
  const max = bitDepth === 16 ? 65535 : 255;
  const samples = bitDepth === 16 ? new Uint16Array(data.length) : new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    // `v > 0` is false for NaN, which therefore maps to 0 instead of poisoning the file.
    samples[i] = v > 0 ? (v >= 1 ? max : Math.round(v * max)) : 0;
  }
  return packSamples(samples, width, height, channels, bitDepth, level);
}

/** Write an image as PNG, atomically (see `encodePng` for the value mapping). */
export function writePng(path: string, image: Image, options: PngWriteOptions = {}): void {
  writeFileAtomic(path, encodePng(image, options));
}

/** Encode a label map as a 16-bit greyscale PNG; every value, 65535 (ignore) included, round-trips exactly. */
export function encodeLabelPng(labels: Uint16Array, width: number, height: number): Uint8Array {
  checkLabels(labels, width, height, "encodeLabelPng");
  // Copy: the caller's array may be a view into a larger buffer, and pngjs reads the whole buffer.
  return packSamples(new Uint16Array(labels), width, height, 1, 16, 6);
}

/** Write a label map as a 16-bit greyscale PNG, atomically. */
export function writeLabelPng(path: string, labels: Uint16Array, width: number, height: number): void {
  writeFileAtomic(path, encodeLabelPng(labels, width, height));
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

let crcTable: Uint32Array | undefined;

/** CRC-32 (the PNG/zlib polynomial) of bytes[start, end); `zlib.crc32` needs Node ≥ 20.15, so do it here. */
function crc32(bytes: Uint8Array, start: number, end: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
}

/**
 * Walk the chunk list, checking each CRC, and check the header without decompressing anything: gives precise
 * errors for the common failures (not a PNG, cut off mid-chunk, bit rot, absurd size) that pngjs reports
 * vaguely ("unrecognised content at end of stream" for a CRC error) or only after allocating.
 */
function checkPngStructure(bytes: Uint8Array, name: string): PngHeader {
  if (bytes.length === 0) throw new InvalidFileError(name, "empty file");
  if (bytes.length < 8 || !PNG_SIGNATURE.every((b, i) => bytes[i] === b)) {
    throw new InvalidFileError(name, "not a PNG file (wrong signature)");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 8;
  let header: PngHeader | undefined;
  let sawIdat = false;
  for (;;) {
    if (off + 8 > bytes.length) {
      throw new InvalidFileError(name, `truncated PNG: ${bytes.length} bytes, chunk header expected at byte ${off}`);
    }
    const length = view.getUint32(off);
    const type = String.fromCharCode(bytes[off + 4], bytes[off + 5], bytes[off + 6], bytes[off + 7]);
    if (!/^[A-Za-z]{4}$/.test(type)) throw new InvalidFileError(name, `corrupt PNG: bad chunk type at byte ${off}`);
    const end = off + 12 + length;
    if (end > bytes.length) {
      throw new InvalidFileError(
        name,
        `truncated PNG: chunk ${type} at byte ${off} needs ${end} bytes, the file has ${bytes.length}`,
      );
    }
    if (crc32(bytes, off + 4, end - 4) !== view.getUint32(end - 4)) {
      throw new InvalidFileError(name, `corrupt PNG: CRC mismatch in chunk ${type} at byte ${off}`);
    }
    if (header === undefined) {
      if (type !== "IHDR" || length !== 13) throw new InvalidFileError(name, "corrupt PNG: first chunk is not IHDR");
      header = {
        width: view.getUint32(off + 8),
        height: view.getUint32(off + 12),
        bitDepth: bytes[off + 16],
        colorType: bytes[off + 17],
      };
      const { width, height } = header;
      if (width === 0 || height === 0) throw new InvalidFileError(name, `PNG has zero size ${width}×${height}`);
      if (width * height > MAX_PNG_PIXELS) {
        throw new InvalidFileError(name, `PNG of ${width}×${height} exceeds the ${MAX_PNG_PIXELS}-pixel limit`);
      }
    }
    if (type === "IDAT") sawIdat = true;
    off = end;
    if (type === "IEND") break;
  }
  if (!sawIdat) throw new InvalidFileError(name, "corrupt PNG: no image data (IDAT)");
  return header as PngHeader;
}

/**
 * Decode a PNG to its integer samples (see `RawPng`). `name` is used in errors (a path or a description).
 * Grey files give 1 channel, grey + alpha 2, RGB 3, RGBA 4; a tRNS chunk adds an alpha channel.
 */
export function decodePngRaw(bytes: Uint8Array, name = "<png>"): RawPng {
  const header = checkPngStructure(bytes, name);
  let png: ReturnType<typeof PNG.sync.read>;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
      skipRescale: true,
      checkCRC: false, // already checked above
    });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new InvalidFileError(name, `corrupt PNG: ${msg}`, { cause: err });
  }
  const { width, height } = png;
  const isPalette = header.colorType === 3;
  const channels = (png.color ? 3 : 1) + (png.alpha ? 1 : 0);
  const bitDepth = header.bitDepth as RawPng["bitDepth"];
  // pngjs always returns RGBA; 16-bit files come back as a Uint16Array when not rescaled.
  const rgba = png.data as unknown as Uint8Array | Uint16Array;
  const n = width * height;
  if (rgba.length !== n * 4) throw new InvalidFileError(name, "corrupt PNG: decoded size does not match the header");
  const out = bitDepth === 16 && !isPalette ? new Uint16Array(n * channels) : new Uint8Array(n * channels);
  // Which RGBA lanes to keep for each channel count: grey is R (pngjs copies grey into R, G and B).
  const lanes = channels === 1 ? [0] : channels === 2 ? [0, 3] : channels === 3 ? [0, 1, 2] : [0, 1, 2, 3];
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < channels; c++) out[p * channels + c] = rgba[p * 4 + lanes[c]];
  }
  return { width, height, channels, bitDepth, palette: isPalette, data: out };
}

/** Decode a PNG to floats in [0, 1] (each sample divided by its maximum, 2^bitDepth − 1). */
export function decodePng(bytes: Uint8Array, name = "<png>"): DecodedPng {
  const raw = decodePngRaw(bytes, name);
  // pngjs fills alpha (also one made from tRNS) on the same scale as the colour samples.
  const max = raw.palette ? 255 : 2 ** raw.bitDepth - 1;
  const data = new Float32Array(raw.data.length);
  for (let i = 0; i < data.length; i++) data[i] = raw.data[i] / max;
  return { width: raw.width, height: raw.height, channels: raw.channels, data, bitDepth: raw.bitDepth };
}

const readBytes = readFileChecked;

/** Read a PNG file as floats in [0, 1] plus its bit depth. */
export function readPng(path: string): DecodedPng {
  return decodePng(readBytes(path), path);
}

/** Read a PNG file as its stored integer samples (depth maps in mm, class-id images, …). */
export function readPngRaw(path: string): RawPng {
  return decodePngRaw(readBytes(path), path);
}

/** Label map stored in a greyscale PNG. */
export interface LabelMap {
  width: number;
  height: number;
  labels: Uint16Array;
}

/**
 * Decode a greyscale PNG (8- or 16-bit, as written by `encodeLabelPng` or by datasets) to its stored values.
 * Colour, alpha and palette files are refused: their values are colours, not class ids.
 */
export function decodeLabelPng(bytes: Uint8Array, name = "<png>"): LabelMap {
  const raw = decodePngRaw(bytes, name);
  if (raw.channels !== 1 || raw.palette) {
    const kind = raw.palette ? "a palette" : `a ${raw.channels}-channel`;
    throw new InvalidFileError(name, `expected a greyscale label map, got ${kind} PNG`);
  }
  const labels = raw.data instanceof Uint16Array ? raw.data : Uint16Array.from(raw.data);
  return { width: raw.width, height: raw.height, labels };
}

/** Read a label map PNG (see `decodeLabelPng`). */
export function readLabelPng(path: string): LabelMap {
  return decodeLabelPng(readBytes(path), path);
}

// ---------------------------------------------------------------------------------------------------------------
// Label colours

/** An RGB colour with 0–255 components, the way class tables publish them. */
export type Rgb255 = readonly [number, number, number];

/**
 * `n` well-separated colours (golden-ratio hue steps, alternating lightness), 0–255. Deterministic, so a
 * class keeps its colour across runs and figures.
 */
export function defaultPalette(n: number): Rgb255[] {
  const out: Rgb255[] = [];
  for (let i = 0; i < n; i++) {
    const h = (i * 0.618033988749895) % 1;
    const l = i % 2 === 0 ? 0.55 : 0.4;
    const s = 0.75;
    const k = (m: number) => (m + h * 12) % 12;
    const a = s * Math.min(l, 1 - l);
    const f = (m: number) => l - a * Math.max(-1, Math.min(k(m) - 3, 9 - k(m), 1));
    out.push([Math.round(f(0) * 255), Math.round(f(8) * 255), Math.round(f(4) * 255)]);
  }
  return out;
}

/**
 * An RGB image (values in [0, 1]) of a label map. `palette[i]` is the 0–255 colour of class i; labels past the
 * palette wrap around (label mod palette length) so a short palette still draws every class, and
 * `IGNORE_LABEL` pixels get `ignoreColor` (black by default).
 */
export function colorizeLabels(
  labels: Uint16Array,
  width: number,
  height: number,
  palette: readonly Rgb255[] = defaultPalette(40),
  ignoreColor: Rgb255 = [0, 0, 0],
): Image {
  checkLabels(labels, width, height, "colorizeLabels");
  if (palette.length === 0) throw new ConfigError("palette", "must hold at least one colour");
  const image = createImage(width, height, 3);
  const d = image.data;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    const c = l === IGNORE_LABEL ? ignoreColor : palette[l % palette.length];
    d[i * 3] = c[0] / 255;
    d[i * 3 + 1] = c[1] / 255;
    d[i * 3 + 2] = c[2] / 255;
  }
  return image;
}
