import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readPng } from "../../src/core/image.ts";
import { writePly } from "../../src/splat/io/index.ts";
import { writeInriaCameras } from "../../src/core/camera-convert.ts";
import { lookAtCamera } from "../../src/core/camera.ts";
import { randomCloud } from "../helpers/clouds.ts";

const bin = fileURLToPath(new URL("../../bin/rtgs2.js", import.meta.url));
const guitar = fileURLToPath(new URL("../fixtures/guitar.compressed.ply", import.meta.url));
const sh3 = fileURLToPath(new URL("../fixtures/playcanvas-test-sh3.compressed.ply", import.meta.url));

function rtgs2(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("info --json prints only the contract's JSON", () => {
  const r = rtgs2("info", sh3, "--json");
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.equal(info.format, "compressed-ply");
  assert.equal(info.count, 64);
  assert.equal(info.shDegree, 3);
  assert.deepEqual(info.extraProperties, []);
  assert.equal(info.bounds.min.length, 3);
  assert.ok(info.bounds.min.every((v: number, i: number) => v <= info.bounds.max[i]));
});

test("convert writes a ply that reads back with the same count and SH degree", () => {
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-cli-"));
  const out = join(dir, "sh3.ply");
  const c = rtgs2("convert", sh3, out, "--json");
  assert.equal(c.code, 0, c.stderr);
  assert.equal(JSON.parse(c.stdout).count, 64);
  const info = JSON.parse(rtgs2("info", out, "--json").stdout);
  assert.equal(info.format, "ply");
  assert.equal(info.count, 64);
  assert.equal(info.shDegree, 3);
});

test("render --orbit writes RGB, alpha and depth PNGs of the requested size", () => {
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-cli-"));
  const r = rtgs2("render", guitar, "--orbit", "1", "--size", "96x64", "--out", dir, "--json", "--threads", "2");
  assert.equal(r.code, 0, r.stderr);
  const { files } = JSON.parse(r.stdout) as { files: string[] };
  assert.deepEqual(files.map((f) => f.slice(dir.length + 1)).sort(), ["orbit-000-alpha.png", "orbit-000-depth.png", "orbit-000-rgb.png"]);
  for (const f of files) assert.ok(existsSync(f));
  const rgb = readPng(files.find((f) => f.endsWith("rgb.png"))!);
  assert.deepEqual([rgb.width, rgb.height, rgb.channels], [96, 64, 3]);
  assert.ok(rgb.data.some((v) => v > 0.2), "the guitar is visible");
  const depth = readPng(files.find((f) => f.endsWith("depth.png"))!);
  assert.equal(depth.bitDepth, 16);
});

test("bad input: one line on stderr naming the file, nothing on stdout, exit code 2", () => {
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-cli-"));
  const truncated = join(dir, "cut.ply");
  writeFileSync(truncated, readFileSync(sh3).subarray(0, 900));
  for (const args of [["info", join(dir, "missing.ply"), "--json"], ["info", truncated, "--json"], ["convert", sh3, join(dir, "x.obj")]]) {
    const r = rtgs2(...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /missing\.ply|cut\.ply|\.obj/);
  }
  const usage = rtgs2("render", sh3, "--out", dir);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--view N or --orbit K/);
  const debug = rtgs2("info", join(dir, "missing.ply"), "--debug");
  assert.match(debug.stderr, /at /, "--debug prints the stack");
});

test("render --view uses a scene folder's cameras.json and previews f_pc features", () => {
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-scene-"));
  writePly(join(dir, "point_cloud.ply"), randomCloud(3, 400, 1, 4));
  const cams = [lookAtCamera([0, 0, -1], [0, 0, 2.5], [0, -1, 0], { width: 128, height: 96, fx: 90 })];
  writeInriaCameras(join(dir, "cameras.json"), cams);
  const out = join(dir, "renders");
  const r = rtgs2("render", dir, "--view", "0", "--size", "64x48", "--out", out, "--features", "--json");
  assert.equal(r.code, 0, r.stderr);
  const { files } = JSON.parse(r.stdout) as { files: string[] };
  assert.deepEqual(files.map((f) => f.slice(out.length + 1)).sort(), ["view-000-alpha.png", "view-000-depth.png", "view-000-features.png", "view-000-rgb.png"]);
  const pca = readPng(files.find((f) => f.endsWith("features.png"))!);
  assert.deepEqual([pca.width, pca.height, pca.channels], [64, 48, 3], "rendered at --size, intrinsics rescaled");
  assert.ok(pca.data.some((v) => v > 0.5));
  const missing = rtgs2("render", dir, "--view", "1", "--size", "64x48", "--out", out);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /has 1 cameras/);
  const noFeatures = rtgs2("render", sh3, "--orbit", "1", "--size", "32x32", "--out", out, "--features");
  assert.equal(noFeatures.code, 2);
  assert.match(noFeatures.stderr, /no f_pc_\* feature channels/);
});

test("model-info --json reports the paper config at AsymFormer B0_T's size, and refuses an unknown config", () => {
  const r = rtgs2("model-info", "--config", "paper", "--json");
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout) as { params: number; gmacs: number; gmacsAll: number; gflops: number };
  assert.ok(Math.abs(info.params - 33.0e6) <= 0.7e6, `params ${info.params}`);
  assert.ok(Math.abs(info.gmacs - 36) <= 4, `gmacs ${info.gmacs}`);
  assert.ok(info.gmacsAll > info.gmacs);
  assert.ok(Math.abs(info.gflops - 2 * info.gmacs) < 1e-9);
  const bad = rtgs2("model-info", "--config", "huge", "--json");
  assert.equal(bad.code, 2);
  assert.equal(bad.stdout, "");
  assert.match(bad.stderr, /huge/);
});

test("synth and bench render print the contract's JSON fields", () => {
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-synth-"));
  const s = rtgs2("synth", "--out", dir, "--scenes", "2", "--frames", "2", "--size", "32x24", "--seed", "5", "--gaussians", "3000", "--json");
  assert.equal(s.code, 0, s.stderr);
  const synth = JSON.parse(s.stdout) as Record<string, unknown>;
  assert.deepEqual([synth.scenes, synth.frames, synth.gaussians], [2, 2, 6000]);
  assert.ok(typeof synth.classes === "number" && synth.classes >= 20 && typeof synth.seconds === "number");
  const b = rtgs2("bench", "render", join(dir, "scene_000", "point_cloud.ply"), "--size", "48x32", "--json");
  assert.equal(b.code, 0, b.stderr);
  const bench = JSON.parse(b.stdout) as { splats: number; width: number; height: number; threads: number; fps: { rgb: number; rgbFeatures: number }; blendsPerSecond: number; referenceSpeedup: number };
  assert.deepEqual([bench.splats, bench.width, bench.height], [3000, 48, 32]);
  assert.ok(bench.threads >= 1 && bench.fps.rgb > 0 && bench.fps.rgbFeatures > 0 && bench.blendsPerSecond > 0 && bench.referenceSpeedup > 0);
});
