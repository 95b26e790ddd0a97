import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { synthesizeDataset } from "../../src/scenes/dataset.ts";
import { readScene } from "../../src/datasets/detect.ts";
import { loadLabels } from "../../src/datasets/frames.ts";
import { readPng } from "../../src/core/image.ts";
import { gtLabelSource, liftScene, noisyLabelSource } from "../../src/pipeline/lift-scene.ts";
import { closeRenderWorkers } from "../../src/render/render.ts";
import { readSplatSync } from "../../src/splat/io/index.ts";
import { ConfigError, MissingFileError } from "../../src/core/errors.ts";
import { Command } from "commander";
import { registerLift } from "../../src/cli/commands/lift.ts";
import type { PixelEvidence } from "../../src/pipeline/lift.ts";

after(closeRenderWorkers);

const bin = fileURLToPath(new URL("../../bin/rtgs2.js", import.meta.url));
function rtgs2(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let sceneDir = "";
const work = mkdtempSync(join(tmpdir(), "rtgs2-lift-scene-"));

before(async () => {
  await synthesizeDataset({ outDir: join(work, "data"), scenes: 1, frames: 6, width: 64, height: 48, seed: 3, gaussians: 4000, threads: 1, quiet: true, testScenes: 1 });
  sceneDir = join(work, "data", "scene_000");
});

const labelsOf = (e: PixelEvidence) => {
  assert.equal(e.kind, "labels");
  return e.kind === "labels" ? e.labels : new Uint16Array(0);
};

test("liftScene with the ground-truth source: per-view scores are the GT's own, lifted scores are in range", async () => {
  const out = join(work, "gt.ply");
  const previewDir = join(work, "previews");
  const r = await liftScene(sceneDir, "gt", { threads: 2, out, progress: false, previewDir, previewEvery: 4 });
  assert.deepEqual(r.previews?.map((f) => f.slice(previewDir.length + 1)), [
    "view-000-gt.png", "view-000-source.png", "view-000-lifted.png", "view-004-gt.png", "view-004-source.png", "view-004-lifted.png",
  ]);
  const gtPreview = readPng(join(previewDir, "view-004-gt.png"));
  const gt4 = loadLabels(readScene(sceneDir), 4);
  const colors = readScene(sceneDir).classes.map((c) => c.color);
  for (const p of [0, 777, 64 * 48 - 1]) {
    for (let ch = 0; ch < 3; ch++) assert.ok(Math.abs(gtPreview.data[p * gtPreview.channels + ch] * 255 - (gt4[p] === 65535 ? 0 : colors[gt4[p]][ch])) < 0.6);
  }
  assert.equal(r.gaussians, 4000);
  assert.equal(r.views, 6);
  assert.equal(r.classes, 28);
  // The oracle source is the ground truth: perfect per-view mIoU, and its consistency is exactly the ceiling.
  assert.equal(r.perView.mIoU, 100);
  assert.equal(r.perView.viewConsistency, r.gtCeiling);
  assert.ok(r.gtCeiling > 0.9 && r.gtCeiling <= 1);
  assert.ok(r.viewConsistency > 0.5 && r.viewConsistency <= 1, `lifted consistency ${r.viewConsistency}`);
  assert.ok(r.mIoU > 20 && r.mIoU <= 100, `lifted mIoU ${r.mIoU}`);
  assert.ok(r.seenRatio > 0.5 && r.seen <= r.gaussians);
  assert.ok(r.gaussianAccuracy > 40 && r.gaussianAccuracy <= 100, `per-Gaussian accuracy ${r.gaussianAccuracy}`);
  assert.ok(r.gaussianAccuracyAll <= r.gaussianAccuracy);
  assert.ok(r.pairs > 0 && r.countedPixels > 0);
  const { cloud } = readSplatSync(out);
  for (const name of ["label", "label_confidence", "gt_label"]) assert.ok(cloud.extras.has(name), name);
  // Lifting from views 1..5 scores view 0 as held out (the GT source itself scores 100 there).
  const h = await liftScene(sceneDir, "gt", { threads: 2, progress: false, liftViews: [1, 2, 3, 4, 5], render: "soft" });
  assert.equal(h.render, "soft");
  assert.equal(r.render, "onehot");
  assert.equal(h.heldOut?.views, 1);
  assert.equal(h.heldOut?.perViewMIoU, 100);
  assert.ok(h.heldOut!.mIoU > 10 && h.heldOut!.mIoU <= 100);
  assert.equal(h.perView.viewConsistency, r.perView.viewConsistency, "view 0's source labels are still scored");
  assert.equal(r.heldOut, undefined);
});

test("the noisy source is seeded, keeps ignore pixels, changes a plausible fraction, and lifting beats it", async () => {
  const scene = readScene(sceneDir);
  const a = noisyLabelSource(scene, { seed: 4 }), b = noisyLabelSource(scene, { seed: 4 }), c = noisyLabelSource(scene, { seed: 5 });
  const gt = labelsOf(await gtLabelSource(scene).evidence(1, scene.cameras[1]));
  const la = labelsOf(await a.evidence(1, scene.cameras[1]));
  assert.deepEqual(labelsOf(await b.evidence(1, scene.cameras[1])), la);
  assert.notDeepEqual(labelsOf(await c.evidence(1, scene.cameras[1])), la);
  assert.notDeepEqual(labelsOf(await a.evidence(2, scene.cameras[2])), labelsOf(await b.evidence(1, scene.cameras[1])));
  assert.deepEqual(gt, loadLabels(scene, 1));
  let changed = 0;
  for (let p = 0; p < gt.length; p++) {
    if (gt[p] === 65535) assert.equal(la[p], 65535);
    else if (la[p] !== gt[p]) changed++;
  }
  assert.ok(changed > 0.02 * gt.length && changed < 0.9 * gt.length, `${changed} of ${gt.length} changed`);
  assert.throws(() => noisyLabelSource(scene, { seed: 1, flicker: 2 }), ConfigError);
  // Small blobs and flicker, at this tiny size: lifting must agree across views better than the noisy labels do.
  const r = await liftScene(scene, { seed: 4, blobs: 2, radius: [2, 5], flicker: 0.1 }, { threads: 2, progress: false });
  assert.ok(r.perView.mIoU < 100);
  assert.ok(r.viewConsistency > r.perView.viewConsistency, `lifted ${r.viewConsistency} vs per-view ${r.perView.viewConsistency}`);
});

test("rtgs2 lift --labels gt --json prints the contract's fields and writes the ply", () => {
  const out = join(work, "cli.ply");
  const r = rtgs2("lift", sceneDir, "--out", out, "--labels", "gt", "--threads", "2", "--json");
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  for (const key of ["gaussians", "viewConsistency", "gtCeiling", "mIoU", "gaussianAccuracy"]) assert.equal(typeof j[key], "number", key);
  assert.equal(j.gaussians, 4000);
  assert.ok(j.viewConsistency <= 1 && j.gtCeiling <= 1, "fractions");
  assert.ok(j.mIoU > 1, "a percentage");
  assert.ok(existsSync(out));
});

test("rtgs2 lift: bad input is one line on stderr, exit 2, empty stdout", () => {
  const out = join(work, "bad.ply");
  const r = rtgs2("lift", sceneDir, "--out", out, "--labels", "predicted", "--json");
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, /--labels.*gt, noisy-gt.*predicted/);
  assert.ok(!existsSync(out));
});

test("rtgs2 lift: a missing scene, a non-ply output, a missing checkpoint and --model with --labels are typed errors", async () => {
  const out = join(work, "bad2.ply");
  const cases: [string[], typeof ConfigError | typeof MissingFileError, RegExp][] = [
    [[join(work, "nope"), "--out", out, "--labels", "gt"], MissingFileError, /nope/],
    [[sceneDir, "--out", join(work, "x.png"), "--labels", "gt"], ConfigError, /--out.*\.ply/],
    [[sceneDir, "--out", out, "--model", join(work, "nope.safetensors")], MissingFileError, /nope\.safetensors/],
    [[sceneDir, "--out", out, "--labels", "gt", "--model", "m.safetensors"], ConfigError, /either --model or --labels/],
  ];
  for (const [args, type, pattern] of cases) {
    const program = new Command().exitOverride();
    registerLift(program);
    await assert.rejects(program.parseAsync(["lift", ...args, "--json"], { from: "user" }), (e: Error) => e instanceof type && pattern.test(e.message));
  }
  assert.ok(!existsSync(out));
});
