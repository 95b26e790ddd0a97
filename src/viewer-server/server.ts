/**
 * The `rtgs2 view` server: node:http on 127.0.0.1, read-only (GET and HEAD; 405 otherwise), serving
 * - `/`, `/index.html`, `/viewer.js`: the browser viewer (bundled from `viewer/` by esbuild at start);
 * - `/api/info.json`: what the scene holds (counts, SH degree, feature channels, labels, classes, model);
 *   features come from the splats' `f_pc_*` or, for a scene folder, its `features.safetensors` sidecar;
 * - `/api/scene.bin`: the splats in the payload format of `format.ts`;
 * - `/api/cameras.json`: the dataset cameras (rtgs2's Camera convention: OpenCV world-to-camera, row-major),
 *   or 8 orbit cameras around the splats when the scene has none;
 * - `/api/model.safetensors`: the `--model` checkpoint, when given;
 * - `/scene/<path>`: the scene folder's files; when SCENE is a file, only `/scene/<its name>`.
 *
 * Path safety (ARCHITECTURE.md §5): the path is %-decoded once and runs of `/` collapse to one before any check;
 * a path holding `..`, a backslash or a NUL, a request target that is not an origin-form path, or a path outside
 * the roots above answers 403. A path under `/scene/` is resolved with realpath and must stay inside the scene
 * folder (a symlink pointing out is refused too). Every response carries COOP `same-origin` and COEP
 * `require-corp` so the page is cross-origin isolated (wasm threads, SharedArrayBuffer).
 */
import { createReadStream, existsSync, realpathSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { basename, join, resolve, sep } from "node:path";
import type { AddressInfo } from "node:net";
import { orbitCameras } from "../core/camera-convert.ts";
import type { Camera } from "../core/camera.ts";
import { ConfigError, InvalidFileError, MissingFileError } from "../core/errors.ts";
import { detectLayout, readScene } from "../datasets/detect.ts";
import { resolveSceneFiles } from "../datasets/scene-files.ts";
import type { ClassInfo } from "../datasets/scene.ts";
import { featureChannelCount, featureMatrix, type GaussianCloud } from "../splat/cloud.ts";
import { readSplatSync, type SplatFormat } from "../splat/io/index.ts";
import { float16BitsToFloat32, readSafetensors } from "../nn/safetensors.ts";
import { buildViewerAssets, type ViewerAssets } from "./bundle.ts";
import { encodeViewerScene } from "./format.ts";

export interface ViewServerOptions {
  /** Scene folder (any layout `readScene` knows, or a folder holding point_cloud.ply) or a single splat file. */
  scene: string;
  /** Model checkpoint (safetensors) served at /api/model.safetensors. */
  model?: string;
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Size of the orbit cameras made for a scene without cameras. Default 640×480. */
  defaultSize?: { width: number; height: number };
}

export interface ViewServer {
  url: string;
  port: number;
  server: Server;
  info: SceneInfo;
  close(): Promise<void>;
}

/** `/api/info.json`. */
export interface SceneInfo {
  name: string;
  splatFile: string;
  format: SplatFormat;
  count: number;
  shDegree: number;
  featureChannels: number;
  hasLabels: boolean;
  /** Class table for label colours; empty when the scene has none. */
  classes: ClassInfo[];
  cameras: number;
  /** True when the cameras are made-up orbit views, not the dataset's. */
  orbitCameras: boolean;
  model: boolean;
}

/** What a request path resolves to. */
export type Route =
  | { kind: "forbidden"; why: string }
  | { kind: "asset"; name: string }
  | { kind: "scene-file"; rel: string };

/**
 * Decode and check a request target (the raw `req.url`). Pure, so it is tested on its own.
 * Returns the route, or `forbidden` per the rules in the module note; 400-worthy malformed %-escapes are
 * forbidden too.
 */
export function routeRequest(rawUrl: string): Route {
  if (!rawUrl.startsWith("/")) return { kind: "forbidden", why: "not an origin-form path" };
  const q = rawUrl.search(/[?#]/);
  const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return { kind: "forbidden", why: "malformed %-escape" };
  }
  path = path.replace(/\/{2,}/g, "/");
  if (path.includes("..")) return { kind: "forbidden", why: "path holds .." };
  if (path.includes("\\") || path.includes("\0")) return { kind: "forbidden", why: "backslash or NUL in path" };
  if (path === "/" || path === "/index.html") return { kind: "asset", name: "index.html" };
  if (path === "/viewer.js") return { kind: "asset", name: "viewer.js" };
  if (path.startsWith("/api/")) {
    const name = path.slice(5);
    if (["info.json", "scene.bin", "cameras.json", "model.safetensors"].includes(name)) return { kind: "asset", name };
    return { kind: "forbidden", why: "unknown api path" };
  }
  if (path.startsWith("/scene/")) {
    const rel = path.slice(7).replace(/\/$/, "");
    if (rel === "" || rel.split("/").some((s) => s === "." || s === "")) return { kind: "forbidden", why: "bad scene path" };
    return { kind: "scene-file", rel };
  }
  return { kind: "forbidden", why: "outside the served roots" };
}

interface LoadedScene {
  info: SceneInfo;
  payload: Uint8Array;
  cameras: Camera[];
  /** Scene folder, or the single file. */
  root: string;
  rootIsFile: boolean;
}

/** Read the scene once: its splats (encoded for the browser), cameras and class table. */
export function loadViewScene(scene: string, defaultSize = { width: 640, height: 480 }): LoadedScene {
  if (!existsSync(scene)) throw new MissingFileError(scene);
  const abs = realpathSync(resolve(scene));
  const isFile = statSync(abs).isFile();
  let cloud: GaussianCloud;
  let format: SplatFormat;
  let splatFile: string;
  let cameras: Camera[] = [];
  let classes: ClassInfo[] = [];
  if (!isFile && detectLayout(abs) !== undefined) {
    const s = readScene(abs);
    splatFile = s.splatPath;
    const file = readSplatSync(s.splatPath);
    cloud = file.cloud;
    format = file.format;
    cameras = [...s.cameras];
    classes = [...s.classes];
  } else {
    const files = resolveSceneFiles(abs);
    splatFile = files.splatPath;
    const file = readSplatSync(files.splatPath);
    cloud = file.cloud;
    format = file.format;
  }
  const orbit = cameras.length === 0;
  if (orbit) {
    if (cloud.count === 0) throw new ConfigError("scene", `${splatFile} holds no splats to look at`);
    cameras = orbitCameras(cloud.positions, 8, defaultSize);
  }
  let channels = featureChannelCount(cloud);
  let features = channels > 0 ? featureMatrix(cloud, "f_pc_", channels) : undefined;
  if (!features && !isFile && existsSync(join(abs, "features.safetensors"))) {
    const side = readFeatureSidecar(join(abs, "features.safetensors"), cloud.count);
    channels = side.channels;
    features = side.values;
  }
  const labelArr = cloud.extras.get("label");
  const label = labelArr ? Uint16Array.from(labelArr, (v) => (v >= 0 && v <= 65535 ? v : 65535)) : undefined;
  const payload = encodeViewerScene({
    ...cloud,
    features: features ? { values: features, channels } : undefined,
    label,
  });
  return {
    info: {
      name: basename(abs),
      splatFile: isFile ? basename(abs) : splatFile.slice(abs.length + 1),
      format,
      count: cloud.count,
      shDegree: cloud.shDegree,
      featureChannels: channels,
      hasLabels: label !== undefined,
      classes,
      cameras: cameras.length,
      orbitCameras: orbit,
      model: false,
    },
    payload,
    cameras,
    root: abs,
    rootIsFile: isFile,
  };
}

/**
 * A foreign scene's feature sidecar (ARCHITECTURE.md §4): tensor `f_pc` [N, C], float32 or float16, in the
 * splat file's vertex order.
 * @throws InvalidFileError naming the file when the tensor is missing or its shape does not fit `count`.
 */
export function readFeatureSidecar(path: string, count: number): { values: Float32Array; channels: number } {
  const t = readSafetensors(path).tensors.get("f_pc");
  if (!t) throw new InvalidFileError(path, "no tensor f_pc");
  if (t.shape.length !== 2 || t.shape[0] !== count) {
    throw new InvalidFileError(path, `f_pc has shape [${t.shape.join(", ")}], expected [${count}, C] for ${count} splats`);
  }
  let values: Float32Array;
  if (t.dtype === "F32") values = t.data as Float32Array;
  else if (t.dtype === "F16") values = float16BitsToFloat32(t.data as Uint16Array);
  else throw new InvalidFileError(path, `f_pc is ${t.dtype}, expected F32 or F16`);
  return { values, channels: t.shape[1] };
}

/** Start the server; resolves once it listens. */
export async function startViewServer(opts: ViewServerOptions): Promise<ViewServer> {
  const loaded = loadViewScene(opts.scene, opts.defaultSize);
  let modelPath: string | undefined;
  if (opts.model !== undefined) {
    if (!existsSync(opts.model) || !statSync(opts.model).isFile()) throw new MissingFileError(opts.model);
    modelPath = realpathSync(opts.model);
    loaded.info.model = true;
  }
  const assets = await buildViewerAssets();
  const camerasJson = JSON.stringify(
    loaded.cameras.map((c, i) => ({
      name: c.name ?? `camera ${i}`,
      width: c.width,
      height: c.height,
      fx: c.fx,
      fy: c.fy,
      cx: c.cx,
      cy: c.cy,
      viewMatrix: Array.from(c.viewMatrix),
    })),
  );
  const server = createServer((req, res) => handle(req, res, loaded, assets, camerasJson, modelPath));
  const port = opts.port ?? 0;
  await new Promise<void>((ok, fail) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      fail(err.code === "EADDRINUSE" ? new ConfigError("--port", `port ${port} is already in use`) : err),
    );
    server.listen(port, "127.0.0.1", () => ok());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}/`,
    port: actual,
    server,
    info: loaded.info,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

const SECURITY_HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
  "X-Content-Type-Options": "nosniff",
  "Cache-Control": "no-store",
};

function handle(
  req: IncomingMessage,
  res: ServerResponse,
  scene: LoadedScene,
  assets: ViewerAssets,
  camerasJson: string,
  modelPath: string | undefined,
): void {
  const send = (status: number, type: string, body: string | Uint8Array) => {
    const buf = typeof body === "string" ? Buffer.from(body) : body;
    res.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": type, "Content-Length": buf.length });
    res.end(req.method === "HEAD" ? undefined : buf);
  };
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    return send(405, "text/plain; charset=utf-8", "method not allowed\n");
  }
  const route = routeRequest(req.url ?? "");
  if (route.kind === "forbidden") return send(403, "text/plain; charset=utf-8", `forbidden: ${route.why}\n`);
  if (route.kind === "asset") {
    switch (route.name) {
      case "index.html":
        return send(200, "text/html; charset=utf-8", assets.html);
      case "viewer.js":
        return send(200, "text/javascript; charset=utf-8", assets.js);
      case "info.json":
        return send(200, "application/json", JSON.stringify(scene.info));
      case "cameras.json":
        return send(200, "application/json", camerasJson);
      case "scene.bin":
        return send(200, "application/octet-stream", scene.payload);
      case "model.safetensors":
        if (!modelPath) return send(404, "text/plain; charset=utf-8", "no --model given\n");
        return streamFile(req, res, modelPath);
    }
    return send(404, "text/plain; charset=utf-8", "not found\n");
  }
  // route.kind === "scene-file"
  let target: string;
  if (scene.rootIsFile) {
    if (route.rel !== basename(scene.root)) return send(403, "text/plain; charset=utf-8", "forbidden: only the scene file is served\n");
    target = scene.root;
  } else {
    const candidate = join(scene.root, ...route.rel.split("/"));
    if (!existsSync(candidate)) return send(404, "text/plain; charset=utf-8", "not found\n");
    target = realpathSync(candidate);
    if (!target.startsWith(scene.root + sep)) return send(403, "text/plain; charset=utf-8", "forbidden: outside the scene folder\n");
    if (!statSync(target).isFile()) return send(404, "text/plain; charset=utf-8", "not a file\n");
  }
  streamFile(req, res, target);
}

function streamFile(req: IncomingMessage, res: ServerResponse, path: string): void {
  const size = statSync(path).size;
  res.writeHead(200, { ...SECURITY_HEADERS, "Content-Type": contentType(path), "Content-Length": size });
  if (req.method === "HEAD") return void res.end();
  createReadStream(path)
    .on("error", () => res.destroy())
    .pipe(res);
}

function contentType(path: string): string {
  const ext = path.slice(path.lastIndexOf(".") + 1).toLowerCase();
  return (
    {
      json: "application/json",
      png: "image/png",
      jpg: "image/jpeg",
      jpeg: "image/jpeg",
      txt: "text/plain; charset=utf-8",
    }[ext] ?? "application/octet-stream"
  );
}
