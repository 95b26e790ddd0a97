/**
 * rtgs2 browser viewer. URL parameters: `backend=webgpu|webgl2` (default: WebGPU, WebGL2 where it is missing),
 * `cam=N` (dataset camera preset, default 0), `mode=rgb|depth|pca|labels|segmentation`, `size=WxH` (canvas pixels;
 * default the preset camera's size), `bg=r,g,b` (0–1, default black), `continuous=1` (render every animation
 * frame), `ui=0` (hide the panels: screenshots and benchmarks), `nn=webgpu|webgl|wasm` (the jax-js device of the
 * segmentation network; default WebGPU, else wasm, and wasm again if a WebGPU run fails), `opacity=0..1`
 * (segmentation overlay).
 *
 * Live segmentation (a `--model` checkpoint and per-Gaussian features): the view is rendered offscreen at the
 * network's input size, once for RGB and once per 3 feature channels, read back, and the VDVI network of
 * `src/models/vdvi` runs on it through jax-js; the argmax classes are drawn over the canvas with the checkpoint's
 * class colours. It runs whenever the view changed and the previous run is done, so the canvas stays interactive.
 *
 * Test hook: `window.rtgs2Viewer` ({@link ViewerApi}).
 */
import { decodeViewerScene } from "../src/viewer-server/format.ts";
import { dot, norm, orthonormalize, poseFromView, rotate, scale, sub, add, viewFromPose, type CameraJson, type Pose, type V3 } from "./math.ts";
import { featurePcaColors, hashColor, labelColors, pack } from "./prepare.ts";
import type { ColorSource, FrameParams, SplatRenderer } from "./renderer.ts";
import { DepthSorter } from "./sort.ts";
import type { Mode, SegmentationInfo, ViewerApi } from "./api.ts";
import type { Device } from "../src/nn/jax.ts";
import {
  argmaxClasses,
  DEFAULT_NETWORK_DEVICES,
  initNetworkDevice,
  NETWORK_DEVICES,
  NetworkRunner,
  vdviFromSafetensors,
  type BrowserVdvi,
} from "./network.ts";
import { classShares, featureChannelSets, labelOverlay, networkInputs } from "./segmentation.ts";
import { segmentSize } from "../src/models/vdvi/input-size.ts";
import { createWebGl2Renderer } from "./webgl2.ts";
import { createWebGpuRenderer } from "./webgpu.ts";

interface SceneInfo {
  name: string;
  count: number;
  shDegree: number;
  featureChannels: number;
  hasLabels: boolean;
  classes: { id: number; name: string; color: [number, number, number] }[];
  model: boolean;
}

const params = new URLSearchParams(location.search);
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const canvas = $<HTMLCanvasElement>("canvas");
const statsEl = $("stats");
if (params.get("ui") === "0") for (const id of ["panel", "stats"]) $(id).style.display = "none";

let resolveReady!: (v: Awaited<ViewerApi["ready"]>) => void;
let rejectReady!: (e: unknown) => void;
const api: ViewerApi = {
  ready: new Promise((ok, fail) => {
    resolveReady = ok;
    rejectReady = fail;
  }),
  renderNow: () => Promise.reject(new Error("not ready")),
  bench: () => Promise.reject(new Error("not ready")),
  setCamera: () => undefined,
  setMode: () => undefined,
  segment: () => Promise.reject(new Error("not ready")),
  runNetwork: () => Promise.reject(new Error("not ready")),
  networkInputs: () => Promise.reject(new Error("not ready")),
};
window.rtgs2Viewer = api;

async function fetchOk(path: string): Promise<Response> {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const [info, cameras, bin] = await Promise.all([
    fetchOk("/api/info.json").then((r) => r.json() as Promise<SceneInfo>),
    fetchOk("/api/cameras.json").then((r) => r.json() as Promise<CameraJson[]>),
    fetchOk("/api/scene.bin").then((r) => r.arrayBuffer()),
  ]);
  const scene = decodeViewerScene(new Uint8Array(bin));
  const packed = pack(scene);
  const loadMs = performance.now() - t0;

  const want = params.get("backend");
  let renderer: SplatRenderer;
  if (want === "webgl2") renderer = createWebGl2Renderer(canvas);
  else {
    try {
      renderer = await createWebGpuRenderer(canvas);
    } catch (err) {
      if (want === "webgpu") throw err;
      console.warn(`falling back to WebGL2: ${(err as Error).message}`);
      renderer = createWebGl2Renderer(canvas);
    }
  }
  api.backend = renderer.backend;
  renderer.upload(packed);

  // Display modes and their per-Gaussian colours.
  const modes: Mode[] = ["rgb", "depth"];
  const alt: Partial<Record<Mode, Float32Array>> = {};
  if (scene.features && scene.featureChannels > 0) modes.push("pca");
  if (scene.label) modes.push("labels");
  if (info.model && scene.features && scene.featureChannels > 0) modes.push("segmentation");
  const altFor = (m: Mode): Float32Array | undefined => {
    if (alt[m]) return alt[m];
    if (m === "pca" && scene.features) alt[m] = featurePcaColors(scene.features, scene.featureChannels, scene.count);
    if (m === "labels" && scene.label) alt[m] = labelColors(scene.label, info.classes.map((c) => c.color));
    return alt[m];
  };
  let mode: Mode = modes.includes(params.get("mode") as Mode) ? (params.get("mode") as Mode) : "rgb";
  let altShown: Mode | undefined;

  // Camera state.
  const sizeParam = /^(\d+)x(\d+)$/.exec(params.get("size") ?? "");
  let preset = Math.min(Math.max(0, Number(params.get("cam") ?? 0) | 0), cameras.length - 1);
  const base = cameras[preset];
  const width = sizeParam ? Number(sizeParam[1]) : base.width;
  const height = sizeParam ? Number(sizeParam[2]) : base.height;
  canvas.width = width;
  canvas.height = height;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  let intr = { fx: 0, fy: 0, cx: 0, cy: 0 };
  let pose: Pose = poseFromView(base.viewMatrix);
  const bg = (params.get("bg") ?? "0,0,0").split(",").map(Number) as [number, number, number];

  // Scene scale (for the orbit distance and fly speed): the 2–98 % box of a subsample of the positions.
  const sceneBox = (() => {
    const step = Math.max(1, Math.floor(scene.count / 20000));
    const axes: number[][] = [[], [], []];
    for (let i = 0; i < scene.count; i += step) for (let a = 0; a < 3; a++) axes[a].push(scene.position[i * 3 + a]);
    const lo: V3 = [0, 0, 0], hi: V3 = [0, 0, 0];
    axes.forEach((v, a) => {
      v.sort((x, y) => x - y);
      lo[a] = v[Math.floor(0.02 * (v.length - 1))];
      hi[a] = v[Math.floor(0.98 * (v.length - 1))];
    });
    return { centre: scale(add(lo, hi), 0.5), radius: Math.hypot(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]) / 2 || 1 };
  })();
  let worldUp: V3 = scale(pose.down, -1);
  let target: V3 = [0, 0, 0];
  const applyPreset = (i: number) => {
    preset = i;
    const c = cameras[i];
    pose = poseFromView(c.viewMatrix);
    worldUp = scale(pose.down, -1);
    intr = { fx: (c.fx * width) / c.width, fy: (c.fy * height) / c.height, cx: (c.cx * width) / c.width, cy: (c.cy * height) / c.height };
    // Orbit about the point of the view axis nearest the scene's centre (at least 0.5 m ahead).
    const d = Math.max(0.5, dot(sub(sceneBox.centre, pose.center), pose.forward));
    target = add(pose.center, scale(pose.forward, d));
    dirty = true;
  };

  const sorter = new DepthSorter(scene.count);
  const sigmaMax = new Float32Array(scene.count);
  for (let i = 0; i < scene.count; i++) {
    sigmaMax[i] = Math.max(scene.scale[i * 3], scene.scale[i * 3 + 1], scene.scale[i * 3 + 2]);
  }
  let dirty = true;
  let lastSortMs = 0, lastFrameMs = 0;
  const frameTimes: number[] = [];
  const near = 0.2;
  const depthRange = (): [number, number] => {
    const d = Math.max(near, dot(sub(sceneBox.centre, pose.center), pose.forward));
    return [Math.max(near, d - 2 * sceneBox.radius), d + 2 * sceneBox.radius];
  };
  const frameParams = (): FrameParams => ({
    view: viewFromPose(pose),
    ...intr,
    width,
    height,
    near,
    center: pose.center,
    source: ({ rgb: 0, depth: 1, pca: 2, labels: 2, segmentation: 0 } as const)[mode] as ColorSource,
    background: bg,
    depthRange: depthRange(),
  });
  const renderFrame = () => {
    if (mode === "pca" || mode === "labels") {
      if (altShown !== mode) {
        const c = altFor(mode);
        if (c) renderer.setAltColors(c);
        altShown = mode;
      }
    }
    const f = frameParams();
    const ts = performance.now();
    const n = sorter.sort(scene.position, f.view, near, { sigmaMax, ...intr, width, height });
    const tSort = performance.now();
    renderer.draw(f, sorter.order, n);
    lastSortMs = tSort - ts;
    return ts;
  };
  const timed = async () => {
    const ts = renderFrame();
    await renderer.finish();
    lastFrameMs = performance.now() - ts;
    return { sortMs: lastSortMs, frameMs: lastFrameMs };
  };

  // Live segmentation: the network loads on first use (weights, jax-js device, jit compile on the first run).
  const overlay = $<HTMLCanvasElement>("overlay");
  overlay.style.width = `${width}px`;
  overlay.style.height = `${height}px`;
  const opacity = $<HTMLInputElement>("opacity");
  if (params.get("opacity") !== null) opacity.value = String(Math.min(1, Math.max(0, Number(params.get("opacity")))));
  overlay.style.opacity = opacity.value;
  opacity.oninput = () => (overlay.style.opacity = opacity.value);
  const segStatus = $("segstatus");
  let network: Promise<{ runner: NetworkRunner; model: BrowserVdvi; device: Device; loadMs: number }> | undefined;
  const nnParam = params.get("nn");
  let modelBytes: Promise<Uint8Array> | undefined;
  const buildNetwork = async (order: readonly Device[]) => {
    if (!info.model) throw new Error("no model: start the server with --model CKPT");
    const t = performance.now();
    if (nnParam !== null && !(NETWORK_DEVICES as readonly string[]).includes(nnParam)) {
      throw new Error(`nn=${nnParam}: expected one of ${NETWORK_DEVICES.join(", ")}`);
    }
    const device = await initNetworkDevice(order);
    modelBytes ??= fetchOk("/api/model.safetensors").then(async (r) => new Uint8Array(await r.arrayBuffer()));
    const model = vdviFromSafetensors(await modelBytes, "/api/model.safetensors");
    return { runner: new NetworkRunner(model), model, device, loadMs: performance.now() - t };
  };
  const loadNetwork = () => (network ??= buildNetwork(nnParam !== null ? [nnParam as Device] : DEFAULT_NETWORK_DEVICES));
  /** Run the network; when a run on a GPU device fails and no device was asked for, move to wasm once. */
  const runNetwork = async (rgb: Float32Array, features: Float32Array, w: number, h: number) => {
    let net = await loadNetwork();
    try {
      return { net, logits: await net.runner.run(rgb, features, w, h) };
    } catch (err) {
      if (nnParam !== null || net.device === "wasm") throw err;
      console.warn(`segmentation network failed on jax-js ${net.device} (${(err as Error).message}); moving to wasm`);
      network = buildNetwork(["wasm"]);
      net = await network;
      return { net, logits: await net.runner.run(rgb, features, w, h) };
    }
  };
  let setsFor: NetworkRunner | undefined;
  const segSorter = new DepthSorter(scene.count);
  let lastSeg: { labels: Uint16Array; device: string; readMs: number; networkMs: number; width: number; height: number } | undefined;
  let segBusy = false, segDirty = false;
  const classColor = (k: number, classes: BrowserVdvi["classes"]) => classes[k]?.color ?? hashColor(k);
  const showSegLegend = (classes: BrowserVdvi["classes"]) => {
    if (mode !== "segmentation" || !lastSeg) return;
    legend.innerHTML = "";
    for (const { id, share } of classShares(lastSeg.labels)) {
      const row = document.createElement("div");
      row.className = "class";
      row.innerHTML = `<span style="background:rgb(${classColor(id, classes).join(",")})"></span>${classes[id]?.name ?? `class ${id}`} · ${(100 * share).toFixed(1)} %`;
      legend.append(row);
    }
  };
  /** The network's inputs for the current view: offscreen RGB + feature passes at its size, read back. */
  const renderNetworkInputs = async (net: Awaited<ReturnType<typeof loadNetwork>>) => {
    const cfg = net.model.config;
    const C = cfg.feat.inChannels;
    if (!scene.features || scene.featureChannels !== C) {
      throw new Error(`the network expects ${C} feature channels per Gaussian, the scene has ${scene.featureChannels}`);
    }
    if (setsFor !== net.runner) {
      renderer.setChannelSets(featureChannelSets(scene.features, C, scene.count));
      setsFor = net.runner;
    }
    const size = segmentSize(cfg, { width, height });
    const f = frameParams();
    const sx = size.width / width, sy = size.height / height;
    const nf: FrameParams = {
      ...f,
      fx: f.fx * sx,
      fy: f.fy * sy,
      cx: f.cx * sx,
      cy: f.cy * sy,
      width: size.width,
      height: size.height,
      background: [0, 0, 0],
    };
    const t0 = performance.now();
    const n = segSorter.sort(scene.position, nf.view, near, { sigmaMax, fx: nf.fx, fy: nf.fy, cx: nf.cx, cy: nf.cy, width: size.width, height: size.height });
    const passes = Math.ceil(C / 3);
    const reads = await renderer.readChannels(nf, segSorter.order, n, ["rgb", ...Array.from({ length: passes }, (_, k) => k)]);
    return { size, input: networkInputs(reads[0], reads.slice(1), C), readMs: performance.now() - t0 };
  };
  const segmentView = async (): Promise<SegmentationInfo> => {
    const net = await loadNetwork();
    const cfg = net.model.config;
    const { size, input, readMs } = await renderNetworkInputs(net);
    const t1 = performance.now();
    const ran = await runNetwork(input.rgb, input.features, size.width, size.height);
    const logits = ran.logits;
    const t2 = performance.now();
    const labels = argmaxClasses(logits, cfg.numClasses);
    lastSeg = { labels, device: ran.net.device, readMs, networkMs: t2 - t1, width: size.width, height: size.height };
    overlay.width = size.width;
    overlay.height = size.height;
    overlay.getContext("2d")!.putImageData(new ImageData(labelOverlay(labels, (k) => classColor(k, net.model.classes)), size.width, size.height), 0, 0);
    showSegLegend(net.model.classes);
    segStatus.textContent = `${cfg.name} VDVI on jax-js ${ran.net.device} at ${size.width}×${size.height}`;
    return { device: ran.net.device, width: size.width, height: size.height, labels: Array.from(labels), readMs, networkMs: t2 - t1 };
  };
  // One segmentation at a time (the live loop and api.segment share the offscreen targets and the sorter).
  let segQueue: Promise<unknown> = Promise.resolve();
  const serialSegment = (): Promise<SegmentationInfo> => {
    const p = segQueue.then(segmentView);
    segQueue = p.catch(() => undefined);
    return p;
  };
  const segFailed = (err: unknown) => {
    const msg = err instanceof Error ? err.message : String(err);
    segStatus.textContent = `segmentation failed: ${msg}`;
    $("error").textContent = `segmentation: ${msg}`;
    console.warn(`segmentation: ${msg}`);
  };

  // UI: presets, modes, legend, stats.
  const camSel = $<HTMLSelectElement>("camera");
  cameras.forEach((c, i) => camSel.add(new Option(`${i}: ${c.name}`, String(i))));
  camSel.onchange = () => applyPreset(Number(camSel.value));
  const modeSel = $<HTMLSelectElement>("mode");
  for (const m of modes) modeSel.add(new Option(m, m));
  modeSel.value = mode;
  const legend = $("legend");
  const setMode = (m: Mode) => {
    if (!modes.includes(m)) throw new Error(`mode ${m} is not available for this scene (have ${modes.join(", ")})`);
    mode = m;
    modeSel.value = m;
    legend.innerHTML = "";
    const seg = m === "segmentation";
    overlay.style.display = seg && lastSeg ? "block" : "none";
    $("seg").style.display = seg ? "block" : "none";
    if (seg) {
      segDirty = true;
      if (lastSeg) void loadNetwork().then((n) => showSegLegend(n.model.classes), () => undefined);
      else segStatus.textContent = "loading the network…";
    }
    if (m === "labels" && scene.label) {
      const present = [...new Set(scene.label)].filter((l) => l !== 65535).sort((a, b) => a - b);
      for (const l of present) {
        const c = info.classes[l]?.color ?? hashColor(l);
        const row = document.createElement("div");
        row.innerHTML = `<span style="background:rgb(${c.join(",")})"></span>${info.classes[l]?.name ?? `class ${l}`}`;
        legend.append(row);
      }
    }
    dirty = true;
  };
  modeSel.onchange = () => setMode(modeSel.value as Mode);
  const ctlSel = $<HTMLSelectElement>("controls");
  $("title").textContent = `${info.name} · ${info.count.toLocaleString("en-US")} splats · ${renderer.backend}`;

  // Controls.
  const keys = new Set<string>();
  let drag: { x: number; y: number; button: number; shift: boolean } | undefined;
  canvas.addEventListener("contextmenu", (e) => e.preventDefault());
  canvas.addEventListener("pointerdown", (e) => {
    canvas.setPointerCapture(e.pointerId);
    drag = { x: e.clientX, y: e.clientY, button: e.button, shift: e.shiftKey };
  });
  canvas.addEventListener("pointerup", () => (drag = undefined));
  canvas.addEventListener("pointermove", (e) => {
    if (!drag) return;
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    drag.x = e.clientX;
    drag.y = e.clientY;
    const fly = ctlSel.value === "fly";
    if (drag.button === 2 || drag.shift) {
      const dist = Math.hypot(...sub(target, pose.center));
      const k = dist / intr.fy;
      const move = add(scale(pose.right, -dx * k), scale(pose.down, -dy * k));
      pose = { ...pose, center: add(pose.center, move) };
      target = add(target, move);
    } else {
      const yaw = -dx * 0.005, pitch = dy * 0.005;
      const rot = (p: Pose, axis: V3, ang: number, pivot: V3): Pose => ({
        right: rotate(p.right, axis, ang),
        down: rotate(p.down, axis, ang),
        forward: rotate(p.forward, axis, ang),
        center: add(pivot, rotate(sub(p.center, pivot), axis, ang)),
      });
      const pivot = fly ? pose.center : target;
      pose = rot(pose, norm(worldUp), fly ? -yaw : yaw, pivot);
      pose = rot(pose, pose.right, fly ? -pitch : pitch, pivot);
      pose = orthonormalize(pose);
      if (fly) target = add(pose.center, scale(pose.forward, Math.hypot(...sub(target, pose.center))));
    }
    dirty = true;
  });
  canvas.addEventListener(
    "wheel",
    (e) => {
      e.preventDefault();
      const dist = Math.hypot(...sub(target, pose.center));
      const nd = Math.max(0.05, dist * Math.exp(e.deltaY * 0.001));
      pose = { ...pose, center: sub(target, scale(pose.forward, nd)) };
      dirty = true;
    },
    { passive: false },
  );
  window.addEventListener("keydown", (e) => keys.add(e.key.toLowerCase()));
  window.addEventListener("keyup", (e) => keys.delete(e.key.toLowerCase()));

  let lastT = performance.now();
  const continuous = params.get("continuous") === "1";
  const tick = (now: number) => {
    const dt = Math.min(0.1, (now - lastT) / 1000);
    lastT = now;
    if (keys.size > 0) {
      const speed = sceneBox.radius * 0.5 * dt;
      const m: V3 = [0, 0, 0];
      const step = (v: V3, s: number) => ((m[0] += v[0] * s), (m[1] += v[1] * s), (m[2] += v[2] * s));
      if (keys.has("w")) step(pose.forward, speed);
      if (keys.has("s")) step(pose.forward, -speed);
      if (keys.has("d")) step(pose.right, speed);
      if (keys.has("a")) step(pose.right, -speed);
      if (keys.has("e")) step(worldUp, speed);
      if (keys.has("q")) step(worldUp, -speed);
      if (m.some((x) => x !== 0)) {
        pose = { ...pose, center: add(pose.center, m) };
        target = add(target, m);
        dirty = true;
      }
    }
    if (dirty || continuous) {
      dirty = false;
      if (mode === "segmentation") segDirty = true;
      const ts = renderFrame();
      frameTimes.push(now);
      void renderer.finish().then(() => (lastFrameMs = performance.now() - ts));
    }
    if (mode === "segmentation" && segDirty && !segBusy) {
      segDirty = false;
      segBusy = true;
      serialSegment()
        .then(() => (overlay.style.display = mode === "segmentation" ? "block" : "none"), segFailed)
        .finally(() => (segBusy = false));
    }
    while (frameTimes.length > 0 && frameTimes[0] < now - 1000) frameTimes.shift();
    statsEl.textContent =
      `${renderer.backend} · ${width}×${height} · ${mode}\n` +
      `${lastFrameMs > 0 ? (1000 / lastFrameMs).toFixed(1) : "–"} fps from the last frame's time · ${frameTimes.length} frames drawn in the last second\n` +
      `frame ${lastFrameMs.toFixed(1)} ms = sort ${lastSortMs.toFixed(1)} ms + render ${(lastFrameMs - lastSortMs).toFixed(1)} ms\n` +
      (lastSeg
        ? `network ${lastSeg.networkMs.toFixed(1)} ms on jax-js ${lastSeg.device} at ${lastSeg.width}×${lastSeg.height} · its passes + read-back ${lastSeg.readMs.toFixed(1)} ms`
        : `network — (${modes.includes("segmentation") ? "choose the segmentation mode" : "no --model or no features"})`) +
      ` · load ${loadMs.toFixed(0)} ms`;
    requestAnimationFrame(tick);
  };

  api.renderNow = timed;
  api.setCamera = (i) => {
    applyPreset(i);
    camSel.value = String(i);
  };
  api.setMode = setMode;
  api.segment = async () => {
    const r = await serialSegment();
    overlay.style.display = mode === "segmentation" ? "block" : "none";
    return r;
  };
  api.networkInputs = async () => {
    const net = await loadNetwork();
    const p = segQueue.then(() => renderNetworkInputs(net));
    segQueue = p.catch(() => undefined);
    const { size, input } = await p;
    return { width: size.width, height: size.height, rgb: Array.from(input.rgb), features: Array.from(input.features) };
  };
  api.runNetwork = async (rgb, features, w, h) => {
    await loadNetwork();
    const t = performance.now();
    const ran = await runNetwork(Float32Array.from(rgb), Float32Array.from(features), w, h);
    return { logits: Array.from(ran.logits), device: ran.net.device, ms: performance.now() - t };
  };
  api.bench = async (frames) => {
    const saved = pose;
    let sortMs = 0;
    const tb = performance.now();
    for (let k = 0; k < frames; k++) {
      pose = orthonormalize({
        right: rotate(saved.right, norm(worldUp), (k * 2 * Math.PI) / frames),
        down: rotate(saved.down, norm(worldUp), (k * 2 * Math.PI) / frames),
        forward: rotate(saved.forward, norm(worldUp), (k * 2 * Math.PI) / frames),
        center: add(target, rotate(sub(saved.center, target), norm(worldUp), (k * 2 * Math.PI) / frames)),
      });
      const r = await timed();
      sortMs += r.sortMs;
    }
    const total = performance.now() - tb;
    pose = saved;
    dirty = true;
    return { fps: (1000 * frames) / total, sortMs: sortMs / frames, frameMs: total / frames, width, height };
  };
  applyPreset(preset);
  camSel.value = String(preset);
  setMode(mode);
  await timed();
  dirty = false;
  requestAnimationFrame(tick);
  resolveReady({ backend: renderer.backend, count: scene.count, modes, loadMs });
}

main().catch((err: unknown) => {
  const msg = err instanceof Error ? err.message : String(err);
  api.error = msg;
  $("error").textContent = `error: ${msg}`;
  statsEl.textContent = "error";
  rejectReady(err);
});
