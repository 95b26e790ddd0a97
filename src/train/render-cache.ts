/**
 * The render cache of stage-3 training (issue 8 §1, METHOD.md §10 decision 14): per scene and view, the
 * rendered RGB (uint8), the splatted features (float16) and the ground-truth labels (uint16) and depth
 * (float32, metres) at the training size, on disk. The network sees the *rendered* image, not the GT photo.
 *
 * A cache entry lives in `CACHE/<scene>/<key>/`, where the key is a sha256 over the cache format version, the
 * splat file's size and full sha256, the encoder id of its features (or `random:<seed>`), and the size. Anything
 * that changes one of these gives a new key and so a new folder: a stale cache is never read. A folder counts as
 * complete only when its `manifest.json` (written last, atomically) names the same key; view files are written
 * atomically too, so an interrupted build resumes where it stopped.
 */
import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Camera } from "../core/camera.ts";
import { InvalidFileError } from "../core/errors.ts";
import { readFileChecked, readJsonChecked, writeFileAtomic } from "../core/fs.ts";
import { createProgress } from "../core/progress.ts";
import { IGNORE_LABEL } from "../core/image.ts";
import { render } from "../render/render.ts";
import { loadDepth, loadLabels } from "../datasets/frames.ts";
import type { Scene } from "../datasets/scene.ts";
import { float16BitsToFloat32, float32ToFloat16Bits } from "../nn/safetensors.ts";
import type { Sample } from "./augment.ts";
import { loadSceneFeatures, sceneEncoderId, type FeatureSource } from "./semantic/features.ts";

/** Bumped whenever the stored layout or what is rendered changes. */
export const RENDER_CACHE_VERSION = 1;

const MAGIC = "RTGS2RC1";
const HEADER_BYTES = 32;

/** sha256 (hex) of a whole file, read in 4 MiB chunks. */
export function fileSha256(path: string): string {
  const hash = createHash("sha256");
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.allocUnsafe(4 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

/** What a cache key is made of. */
export interface RenderCacheKeyParts {
  version: number;
  splatBytes: number;
  splatSha256: string;
  encoder: string;
  width: number;
  height: number;
}

/** The key (first 24 hex digits of a sha256 over the parts' JSON). */
export function renderCacheKey(parts: RenderCacheKeyParts): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 24);
}

/** A camera's intrinsics rescaled to a W×H image of the same view (pixel-centre convention kept). */
export function scaleCamera(cam: Camera, width: number, height: number): Camera {
  if (cam.width === width && cam.height === height) return cam;
  const sx = width / cam.width;
  const sy = height / cam.height;
  return { ...cam, width, height, fx: cam.fx * sx, fy: cam.fy * sy, cx: cam.cx * sx, cy: cam.cy * sy };
}

/** Nearest-neighbour resize of a one-channel map (pixel centres), as the dataset loaders do. */
export function resizeNearest<T extends Uint16Array | Float32Array>(src: T, w: number, h: number, W: number, H: number): T {
  if (w === W && h === H) return src;
  const out = new (src.constructor as { new (n: number): T })(W * H);
  for (let y = 0; y < H; y++) {
    const sy = Math.min(h - 1, Math.floor(((y + 0.5) * h) / H));
    for (let x = 0; x < W; x++) out[y * W + x] = src[sy * w + Math.min(w - 1, Math.floor(((x + 0.5) * w) / W))];
  }
  return out;
}

/** One cached view. */
export interface CachedView {
  width: number;
  height: number;
  channels: number;
  /** `[H·W·3]` rendered RGB, clamped to [0, 1] and rounded to 1/255. */
  rgb: Uint8Array;
  /** `[H·W·C]` splatted features, float16 bits. */
  features: Uint16Array;
  /** `[H·W]` ground-truth classes (65535 where unknown or when the scene has no labels). */
  labels: Uint16Array;
  /** `[H·W]` ground-truth planar depth in metres (0 = invalid or unknown). */
  depth: Float32Array;
}

/** Encode a view as the cache's binary layout: 32-byte header, then rgb, features, labels, depth. */
export function encodeCachedView(v: CachedView): Uint8Array[] {
  const header = new Uint8Array(HEADER_BYTES);
  header.set(new TextEncoder().encode(MAGIC), 0);
  const dv = new DataView(header.buffer);
  dv.setUint32(8, v.width, true);
  dv.setUint32(12, v.height, true);
  dv.setUint32(16, v.channels, true);
  dv.setUint32(20, RENDER_CACHE_VERSION, true);
  const bytes = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return [header, bytes(v.rgb), bytes(v.features), bytes(v.labels), bytes(v.depth)];
}

/** Decode a view file; any size or magic mismatch is an InvalidFileError naming the file. */
export function decodeCachedView(buf: Uint8Array, path: string): CachedView {
  if (buf.length < HEADER_BYTES || new TextDecoder().decode(buf.subarray(0, 8)) !== MAGIC) {
    throw new InvalidFileError(path, "not a render-cache view (bad magic)");
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const width = dv.getUint32(8, true),
    height = dv.getUint32(12, true),
    channels = dv.getUint32(16, true);
  const n = width * height;
  const want = HEADER_BYTES + n * 3 + n * channels * 2 + n * 2 + n * 4;
  if (buf.length !== want) throw new InvalidFileError(path, `render-cache view is ${buf.length} bytes, expected ${want} for ${width}×${height}×${channels}`);
  // Copy into aligned buffers (the file buffer's offsets need not be aligned).
  let o = HEADER_BYTES;
  const take = (len: number): ArrayBuffer => {
    const ab = new Uint8Array(buf.subarray(o, o + len)).buffer; // a copy (Buffer.slice would be a view)
    o += len;
    return ab;
  };
  const rgb = new Uint8Array(take(n * 3));
  const features = new Uint16Array(take(n * channels * 2));
  const labels = new Uint16Array(take(n * 2));
  const depth = new Float32Array(take(n * 4));
  return { width, height, channels, rgb, features, labels, depth };
}

/** A cached view as a float training sample. */
export function viewToSample(v: CachedView): Sample {
  const rgb = new Float32Array(v.rgb.length);
  for (let i = 0; i < rgb.length; i++) rgb[i] = v.rgb[i] / 255;
  return {
    width: v.width,
    height: v.height,
    channels: v.channels,
    rgb,
    features: float16BitsToFloat32(v.features),
    labels: v.labels,
    depth: v.depth,
  };
}

/** Options of {@link openRenderCache}. */
export interface RenderCacheOptions {
  /** Root of the cache (default `DATASET/.cache/render`). */
  cacheDir: string;
  width: number;
  height: number;
  features: FeatureSource;
  /** Views to make sure are cached (default: all). */
  views?: readonly number[];
  /** Render threads (default: all cores). */
  threads?: number;
  /** Progress label (stderr, TTY only). */
  label?: string;
}

/** An opened, complete cache of one scene at one size. */
export interface RenderCache {
  scene: Scene;
  dir: string;
  key: string;
  parts: RenderCacheKeyParts;
  /** Views rendered by this call (0 when every requested view was already cached). */
  built: number;
  read(index: number): CachedView;
  viewPath(index: number): string;
}

/** The key parts of a scene at a size with a feature source (hashes the splat file). */
export function sceneCacheParts(scene: Scene, width: number, height: number, features: FeatureSource): RenderCacheKeyParts {
  const encoder = features === "encoded" ? (sceneEncoderId(scene.splatPath, scene.root) ?? "none") : features;
  return {
    version: RENDER_CACHE_VERSION,
    splatBytes: statSync(scene.splatPath).size,
    splatSha256: fileSha256(scene.splatPath),
    encoder,
    width,
    height,
  };
}

/**
 * Open the cache of `scene`, rendering the requested views that are not cached yet (with a progress bar on a
 * TTY). The Gaussians and features are loaded only when something must be rendered.
 */
export async function openRenderCache(scene: Scene, options: RenderCacheOptions): Promise<RenderCache> {
  const { width, height } = options;
  const parts = sceneCacheParts(scene, width, height, options.features);
  const key = renderCacheKey(parts);
  const dir = join(options.cacheDir, scene.name, key);
  const viewPath = (i: number): string => join(dir, `${String(i).padStart(6, "0")}.bin`);
  const views = options.views ?? scene.cameras.map((_, i) => i);
  const manifestPath = join(dir, "manifest.json");
  let complete = new Set<number>();
  if (existsSync(manifestPath)) {
    const m = readJsonChecked(manifestPath) as { key?: string; views?: number[] };
    if (m.key === key && Array.isArray(m.views)) complete = new Set(m.views.filter((i) => existsSync(viewPath(i))));
  }
  const missing = views.filter((i) => !complete.has(i));
  if (missing.length > 0) {
    const sf = await loadSceneFeatures(scene.splatPath, scene.root, options.features, scene.name);
    const progress = createProgress(options.label ?? `render cache ${scene.name}`, missing.length);
    try {
      for (const i of missing) {
        const cam = scene.cameras[i];
        const r = await render(sf.cloud, scaleCamera(cam, width, height), {
          features: { values: sf.features, channels: sf.channels },
          threads: options.threads,
        });
        const rgb = new Uint8Array(width * height * 3);
        for (let k = 0; k < rgb.length; k++) rgb[k] = Math.round(Math.min(1, Math.max(0, r.rgb[k])) * 255);
        const frame = scene.frames[i];
        const labels =
          frame.semantic !== undefined
            ? resizeNearest(loadLabels(scene, i), cam.width, cam.height, width, height)
            : new Uint16Array(width * height).fill(IGNORE_LABEL);
        const depth =
          frame.depth !== undefined ? resizeNearest(loadDepth(scene, i), cam.width, cam.height, width, height) : new Float32Array(width * height);
        const view: CachedView = {
          width,
          height,
          channels: sf.channels,
          rgb,
          features: float32ToFloat16Bits(r.features as Float32Array),
          labels,
          depth,
        };
        writeFileAtomic(viewPath(i), encodeCachedView(view));
        complete.add(i);
        progress.tick();
      }
    } finally {
      progress.done();
    }
    writeFileAtomic(manifestPath, JSON.stringify({ key, parts, scene: scene.name, views: [...complete].sort((a, b) => a - b) }, null, 1));
  }
  return {
    scene,
    dir,
    key,
    parts,
    built: missing.length,
    viewPath,
    read: (i) => decodeCachedView(readFileChecked(viewPath(i)), viewPath(i)),
  };
}
