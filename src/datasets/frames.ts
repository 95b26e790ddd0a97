/**
 * Loading a scene's frame files: colour, depth (metres), labels (training indices) and instances, each checked
 * against the frame's camera. Readers only record paths; the checks that need pixels live here, so every
 * layout gets the same errors: a missing file, an image of the wrong size, an unknown label id.
 */
import { fileError, readFileChecked } from "../core/fs.ts";
import { closeSync, openSync, readSync } from "node:fs";
import jpeg from "jpeg-js";
import { ConfigError, InvalidFileError, MissingFileError } from "../core/errors.ts";
import { readLabelPng, readPng, readPngRaw, type Image } from "../core/image.ts";
import { applyRemap } from "./class-tables.ts";
import type { FramePaths, Scene } from "./scene.ts";

/** Largest relative difference of aspect ratio that `resize: "nearest"` accepts (1296×968 vs 640×480 is 0.4 %). */
const ASPECT_TOLERANCE = 0.02;

// ---------------------------------------------------------------------------------------------------------------
// Image size from the header

/**
 * Width and height of a PNG or JPEG, from its header only (no decoding, and no JPEG decoder needed).
 * @throws MissingFileError if the file does not exist; InvalidFileError if it is neither format or is cut off.
 */
export function imageSize(path: string): { width: number; height: number } {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    throw fileError(path, err);
  }
  try {
    const read = (pos: number, len: number): Uint8Array => {
      const buf = new Uint8Array(len);
      const n = readSync(fd, buf, 0, len, pos);
      return buf.subarray(0, n);
    };
    const head = read(0, 24);
    if (head.length >= 24 && head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47) {
      const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
      return { width: v.getUint32(16), height: v.getUint32(20) };
    }
    if (head.length >= 2 && head[0] === 0xff && head[1] === 0xd8) return jpegSize(read, path);
    throw new InvalidFileError(path, "not a PNG or JPEG file (unrecognised header)");
  } finally {
    closeSync(fd);
  }
}

/** Walk the JPEG marker segments to the first start-of-frame; EXIF blocks before it can be tens of kB. */
function jpegSize(read: (pos: number, len: number) => Uint8Array, path: string): { width: number; height: number } {
  let pos = 2;
  for (let guard = 0; guard < 10000; guard++) {
    const m = read(pos, 9);
    if (m.length < 4) break;
    if (m[0] !== 0xff) throw new InvalidFileError(path, `corrupt JPEG: no marker at byte ${pos}`);
    const marker = m[1];
    if (marker === 0xff) {
      pos += 1; // fill byte
      continue;
    }
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (m.length < 9) break;
      return { height: (m[5] << 8) | m[6], width: (m[7] << 8) | m[8] };
    }
    if (marker === 0xd9 || marker === 0xda) break;
    pos += 2 + ((m[2] << 8) | m[3]);
  }
  throw new InvalidFileError(path, "corrupt JPEG: no frame header (SOF) before the image data");
}

// ---------------------------------------------------------------------------------------------------------------
// JPEG decoding (jpeg-js)

function readJpeg(path: string): Image {
  const header = imageSize(path); // existence and header check with our own errors first
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(readFileChecked(path), { useTArray: true, formatAsRGBA: false });
  } catch (err) {
    throw new InvalidFileError(path, `corrupt JPEG: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const { width, height, data } = decoded;
  if (width !== header.width || height !== header.height || data.length !== width * height * 3) {
    throw new InvalidFileError(path, "corrupt JPEG: decoded size does not match the header");
  }
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] / 255;
  return { width, height, channels: 3, data: out };
}

// ---------------------------------------------------------------------------------------------------------------
// Frame loaders

function framePath(scene: Scene, index: number, kind: keyof FramePaths): string {
  if (!Number.isInteger(index) || index < 0 || index >= scene.frames.length) {
    throw new ConfigError("frame", `${scene.name}: frame ${index} is outside 0..${scene.frames.length - 1}`);
  }
  const path = scene.frames[index][kind];
  if (path === undefined) throw new MissingFileError(scene.root, `scene ${scene.name} has no ${kind} images`);
  return path;
}

/**
 * Bring a channel-last array of `width`×`height` to the frame's camera size: unchanged when it matches; for
 * `resize: "nearest"` scenes, nearest-neighbour sampled at pixel centres when the aspect ratio matches; else an
 * InvalidFileError naming the file and both sizes.
 */
function fitToCamera<T extends Float32Array | Uint16Array>(
  scene: Scene,
  index: number,
  path: string,
  data: T,
  width: number,
  height: number,
  channels: number,
): T {
  const cam = scene.cameras[index];
  if (width === cam.width && height === cam.height) return data;
  const aspectError = Math.abs((width / height) * (cam.height / cam.width) - 1);
  if (scene.resize === "exact" || aspectError > ASPECT_TOLERANCE) {
    throw new InvalidFileError(
      path,
      `image is ${width}×${height}, expected ${cam.width}×${cam.height} (the size of frame ${index}'s camera)`,
    );
  }
  const out = new (data.constructor as { new (n: number): T })(cam.width * cam.height * channels);
  for (let y = 0; y < cam.height; y++) {
    const sy = Math.min(height - 1, Math.floor(((y + 0.5) * height) / cam.height));
    for (let x = 0; x < cam.width; x++) {
      const sx = Math.min(width - 1, Math.floor(((x + 0.5) * width) / cam.width));
      const s = (sy * width + sx) * channels;
      const d = (y * cam.width + x) * channels;
      for (let c = 0; c < channels; c++) out[d + c] = data[s + c];
    }
  }
  return out;
}

/**
 * Frame `index`'s colour image as RGB floats in [0, 1] at the camera's size (alpha dropped), from PNG or JPEG.
 */
export function loadRgb(scene: Scene, index: number): Image {
  const path = framePath(scene, index, "rgb");
  let img: Image;
  if (/\.jpe?g$/i.test(path)) img = readJpeg(path);
  else {
    img = readPng(path);
    if (img.channels < 3) throw new InvalidFileError(path, `expected an RGB image, got ${img.channels} channel(s)`);
    if (img.channels === 4) {
      const rgb = new Float32Array(img.width * img.height * 3);
      for (let p = 0; p < img.width * img.height; p++) rgb.set(img.data.subarray(p * 4, p * 4 + 3), p * 3);
      img = { width: img.width, height: img.height, channels: 3, data: rgb };
    }
  }
  const data = fitToCamera(scene, index, path, img.data, img.width, img.height, 3);
  const cam = scene.cameras[index];
  return { width: cam.width, height: cam.height, channels: 3, data };
}

/** Frame `index`'s depth in metres (planar camera z) at the camera's size; 0 marks an invalid pixel. */
export function loadDepth(scene: Scene, index: number): Float32Array {
  const path = framePath(scene, index, "depth");
  const raw = readPngRaw(path);
  if (raw.channels !== 1 || raw.palette) {
    throw new InvalidFileError(path, `expected a single-channel depth map, got ${raw.channels} channel(s)`);
  }
  const depth = new Float32Array(raw.data.length);
  for (let i = 0; i < depth.length; i++) depth[i] = raw.data[i] * scene.depthScale;
  return fitToCamera(scene, index, path, depth, raw.width, raw.height, 1);
}

/**
 * Frame `index`'s class map as training indices (65535 = ignore) at the camera's size, through the scene's
 * `labelRemap`. An id the remap does not define is an InvalidFileError naming the file, the id and the pixel.
 */
export function loadLabels(scene: Scene, index: number): Uint16Array {
  const path = framePath(scene, index, "semantic");
  const map = readLabelPng(path);
  const labels = scene.labelRemap ? applyRemap(map.labels, scene.labelRemap, path, map.width) : map.labels;
  return fitToCamera(scene, index, path, labels, map.width, map.height, 1);
}

/** Frame `index`'s instance map (ids as stored) at the camera's size. */
export function loadInstances(scene: Scene, index: number): Uint16Array {
  const path = framePath(scene, index, "instance");
  const map = readLabelPng(path);
  return fitToCamera(scene, index, path, map.labels, map.width, map.height, 1);
}
