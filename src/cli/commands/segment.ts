/**
 * `rtgs2 segment [--model CKPT] SCENE --out DIR`: labels for every camera of a scene of any layout (an Inria
 * output folder without labels too): `labels/NNNNNN.png` (16-bit class ids at the camera's size) and
 * `overlay/NNNNNN.png` (the render blended half and half with the class colours). A depth checkpoint writes
 * `depth/NNNNNN.png` (16-bit millimetres) instead of labels.
 */
import { join } from "node:path";
import type { Command } from "commander";
import { colorizeLabels, defaultPalette, depthToMillimetres, writeLabelPng, writePng, type Rgb255 } from "../../core/image.ts";
import { readScene } from "../../datasets/detect.ts";
import { frameFileName } from "../../datasets/project.ts";
import { Segmenter, resizeLabels } from "../../pipeline/segment.ts";
import { loadSceneFeatures } from "../../train/semantic/features.ts";
import { createProgress } from "../../core/progress.ts";
import { parseThreads, printJson, say } from "../options.ts";

interface SegmentFlags {
  model?: string;
  out: string;
  threads?: string;
  json?: boolean;
}

/** Half-and-half blend of an RGB image (channel-last floats) with a colour image of the same size. */
function blend(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = 0.5 * a[i] + 0.5 * b[i];
  return out;
}

/** Nearest-neighbour resize of a channel-last image. */
function resizeImage(src: Float32Array, w: number, h: number, W: number, H: number, c: number): Float32Array {
  if (w === W && h === H) return src;
  const out = new Float32Array(W * H * c);
  for (let y = 0; y < H; y++) {
    const sy = Math.min(h - 1, Math.floor(((y + 0.5) * h) / H));
    for (let x = 0; x < W; x++) {
      const sx = Math.min(w - 1, Math.floor(((x + 0.5) * w) / W));
      for (let k = 0; k < c; k++) out[(y * W + x) * c + k] = src[(sy * w + sx) * c + k];
    }
  }
  return out;
}

export function registerSegment(program: Command): void {
  program
    .command("segment")
    .description("segment every camera of a scene: label PNGs and colour overlays")
    .argument("<scene>", "scene folder (rtgs2 project, Inria output, Replica, ScanNet, ScanNet++)")
    .option("--model <ckpt>", "checkpoint (default: checkpoints/vdvi-lite.safetensors)")
    .requiredOption("--out <dir>", "output folder")
    .option("--threads <n>", "render threads (default: all cores)")
    .option("--json", "print one JSON object")
    .action(async (sceneDir: string, flags: SegmentFlags) => {
      const t0 = performance.now();
      const seg = Segmenter.load(flags.model);
      try {
        const scene = readScene(sceneDir);
        const sf = await loadSceneFeatures(scene.splatPath, scene.root, seg.featureSource, scene.name);
        seg.checkEncoder(sf.encoder, sceneDir);
        const palette: Rgb255[] = seg.classes.length > 0 ? seg.classes.map((c) => c.color) : defaultPalette(40);
        const threads = parseThreads(flags.threads);
        const progress = createProgress(`segment ${scene.name}`, scene.cameras.length);
        let ms = 0;
        try {
          for (let i = 0; i < scene.cameras.length; i++) {
            const cam = scene.cameras[i];
            const out = await seg.segment(sf.cloud, cam, { features: { values: sf.features, channels: sf.channels }, threads });
            ms += out.timing.total;
            const name = frameFileName(i);
            const rgb = resizeImage(out.rgb, out.width, out.height, cam.width, cam.height, 3);
            if (seg.task === "depth" && out.predictedDepth !== undefined) {
              const d = resizeLabels(out.predictedDepth, out.width, out.height, cam.width, cam.height);
              const mm = depthToMillimetres(d);
              writeLabelPng(join(flags.out, "depth", name), mm, cam.width, cam.height); // uint16 millimetres
              writePng(join(flags.out, "render", name), { width: cam.width, height: cam.height, channels: 3, data: rgb });
            } else {
              const labels = resizeLabels(out.labels, out.width, out.height, cam.width, cam.height);
              writeLabelPng(join(flags.out, "labels", name), labels, cam.width, cam.height);
              const colours = colorizeLabels(labels, cam.width, cam.height, palette);
              writePng(join(flags.out, "overlay", name), { width: cam.width, height: cam.height, channels: 3, data: blend(rgb, colours.data) });
            }
            progress.tick();
          }
        } finally {
          progress.done();
        }
        const seconds = (performance.now() - t0) / 1000;
        if (flags.json) return printJson({ views: scene.cameras.length, seconds, scene: scene.name, out: flags.out, msPerView: ms / Math.max(1, scene.cameras.length) });
        say(false, `segmented ${scene.cameras.length} view(s) of ${scene.name} in ${seconds.toFixed(1)} s → ${flags.out}`);
      } finally {
        seg.dispose();
      }
    });
}
