/**
 * The demo end to end on a tiny scale: a tiny VDVI checkpoint trained for two steps on the features of the seeded
 * untrained encoder (`--features random:0`), then `runDemo` generates its own rooms, encodes them with that same
 * encoder, evaluates, lifts and writes the report; and `rtgs2 demo --json` prints the contract's fields.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { synthesizeDataset } from "../../src/scenes/dataset.ts";
import { runDemo } from "../../src/report/demo.ts";
import { readSplatSync } from "../../src/splat/io/index.ts";
import { closeRenderWorkers } from "../../src/render/render.ts";

const bin = fileURLToPath(new URL("../../bin/rtgs2.js", import.meta.url));
let dir: string;
let ckpt: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "rtgs2-demo-"));
  const data = join(dir, "train-data");
  await synthesizeDataset({ outDir: data, scenes: 2, testScenes: 1, frames: 3, width: 64, height: 48, gaussians: 2000, seed: 3, threads: 1, quiet: true });
  ckpt = join(dir, "tiny.safetensors");
  const t = spawnSync(process.execPath, [bin, "train", "--data", data, "--out", ckpt, "--config", "tiny", "--features", "random:0", "--steps", "2", "--batch", "2", "--threads", "1", "--json"], { encoding: "utf8" });
  assert.equal(t.status, 0, t.stderr);
});
after(async () => {
  await closeRenderWorkers();
  rmSync(dir, { recursive: true, force: true });
});

test("runDemo: rooms → features → eval → lifted plys → report, with the checkpoint's own encoder", async () => {
  const out = join(dir, "demo");
  const lines: string[] = [];
  const r = await runDemo({ out, model: ckpt, scenes: 1, frames: 4, width: 64, height: 48, gaussians: 2000, threads: 1, samples: 2, log: (l) => lines.push(l) });
  assert.equal(r.steps.length, 6);
  assert.ok(lines.some((l) => l.startsWith("[6/6]")));
  assert.equal(r.encoder, "random:0");
  assert.ok(r.mIoU >= 0 && r.mIoU <= 100);
  assert.equal(r.eval.views, 4);
  assert.ok(existsSync(r.report));
  const html = readFileSync(r.report, "utf8");
  assert.match(html, /rtgs2 demo/);
  assert.match(html, /random:0/);
  // The scene was encoded once, into its ply, with the encoder id the checkpoint asks for.
  const ply = readSplatSync(join(out, "data", "scene_000", "point_cloud.ply"));
  assert.ok(ply.comments.some((c) => c === "rtgs2 encoder random:0"));
  assert.ok(ply.cloud.extras.has("f_pc_31"));
  const lifted = readSplatSync(join(out, "scene_000.lifted.ply")).cloud;
  assert.equal(lifted.count, ply.cloud.count);
  for (const p of ["label", "label_confidence", "gt_label"]) assert.ok(lifted.extras.has(p), `lifted ply has ${p}`);
  assert.equal(r.lifted[0].gaussians, ply.cloud.count);
});

test("rtgs2 demo --json prints one JSON object with report, mIoU and seconds; a missing checkpoint is one line, exit 2", () => {
  const out = join(dir, "demo-cli");
  const r = spawnSync(process.execPath, [bin, "demo", "--model", ckpt, "--out", out, "--scenes", "1", "--frames", "3", "--size", "64x48", "--gaussians", "2000", "--threads", "1", "--json"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.report, join(out, "report.html"));
  assert.ok(typeof j.mIoU === "number" && typeof j.seconds === "number" && j.seconds > 0);
  const bad = spawnSync(process.execPath, [bin, "demo", "--model", join(dir, "none.safetensors"), "--out", join(dir, "x"), "--json"], { encoding: "utf8" });
  assert.equal(bad.status, 2);
  assert.equal(bad.stdout, "");
  assert.equal(bad.stderr.trim().split("\n").length, 1);
  assert.match(bad.stderr, /none\.safetensors/);
});
