/**
 * The rasterizer figures of the README in one run: the guitar sample, procedural rooms of 150k and 1M splats,
 * at 640×480 with 1 and all threads, as a markdown table. Usage:
 *   node --import tsx bench/render.ts [--quick]
 */
import { availableParallelism, cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { readSplatSync } from "../src/splat/io/index.ts";
import { syntheticRoomCloud } from "../src/splat/synthetic.ts";
import { benchRender } from "../src/eval/bench-render.ts";
import { closeRenderWorkers } from "../src/render/render.ts";
import type { GaussianCloud } from "../src/splat/cloud.ts";

const quick = process.argv.includes("--quick");
const guitar = fileURLToPath(new URL("../test/fixtures/guitar.compressed.ply", import.meta.url));
const scenes: [string, () => GaussianCloud][] = [
  ["guitar.compressed.ply", () => readSplatSync(guitar).cloud],
  ["procedural room 150k", () => syntheticRoomCloud(150_000)],
  ...(quick ? [] : ([["procedural room 1M", () => syntheticRoomCloud(1_000_000)]] as [string, () => GaussianCloud][])),
];
const threadCounts = [...new Set([1, availableParallelism()])];

console.log(`${cpus()[0]?.model ?? "unknown CPU"}, ${availableParallelism()} threads, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
console.log("| scene | splats | threads | RGB FPS | RGB + 32 feat. FPS | project / bin / blend ms | blends per frame | M blends/s | vs reference |");
console.log("|---|---|---|---|---|---|---|---|---|");
for (const [name, load] of scenes) {
  const cloud = load();
  for (const threads of threadCounts) {
    const r = await benchRender(cloud, { width: 640, height: 480, threads });
    const b = r.breakdownMs;
    console.log(
      `| ${name} | ${r.splats.toLocaleString("en-US")} | ${threads} | ${r.fps.rgb.toFixed(1)} | ${r.fps.rgbFeatures.toFixed(1)} | ` +
        `${b.project.toFixed(1)} / ${b.bin.toFixed(1)} / ${b.blend.toFixed(1)} | ${(r.blendsPerFrame / 1e6).toFixed(2)} M | ` +
        `${(r.blendsPerSecond / 1e6).toFixed(1)} | ${r.referenceSpeedup.toFixed(0)}× |`,
    );
  }
}
await closeRenderWorkers();
