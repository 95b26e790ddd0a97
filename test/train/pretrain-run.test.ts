import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flattenParams } from "../../src/nn/params.ts";
import { TINY_ENCODER } from "../../src/models/gaussian-encoder/config.ts";
import { loadEncoderCheckpoint } from "../../src/models/gaussian-encoder/checkpoint.ts";
import { lastPathOf, runPretrain } from "../../src/train/pretrain/run.ts";
import { capPairPoints } from "../../src/train/pretrain/pair-cap.ts";
import { ringScene } from "./pretrain-scenes.ts";
import { loadCheckpoint } from "../../src/nn/checkpoint.ts";
import { JsonlLogger } from "../../src/nn/train.ts";
import { ConfigError } from "../../src/core/errors.ts";
import { toHost } from "../nn/helpers.ts";
import { Rng } from "../../src/core/rng.ts";

test("runPretrain: checkpoints, best held-out checkpoint, and a resume identical to an uninterrupted run", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-pre-"));
  try {
    const scenes = [ringScene(1)];
    const common = { config: TINY_ENCODER, seed: 3, maxPairs: 32, checkpointEvery: 2, valPairs: 1 };
    const outA = join(dir, "a.safetensors");
    const a = await runPretrain(scenes, { ...common, steps: 4, out: outA, log: join(dir, "a.jsonl") });
    assert.equal(a.steps, 4);
    assert.equal(a.stepsThisRun, 4);
    assert.equal(a.stoppedEarly, false);
    assert.ok(Number.isFinite(a.loss));
    assert.deepEqual(a.val.map((v) => v.step), [2, 4]);
    assert.ok(a.bestStep === 2 || a.bestStep === 4);
    assert.equal(a.bestLoss, Math.min(a.val[0].loss, a.val[1].loss));
    assert.equal(a.lastPath, lastPathOf(outA));
    assert.equal(lastPathOf(outA), join(dir, "a.last.safetensors"));
    assert.ok(existsSync(outA) && existsSync(a.lastPath));
    // The best file holds the best step's weights without optimizer moments; the last file the full state.
    assert.equal(loadEncoderCheckpoint(outA).step, a.bestStep);
    assert.equal(loadCheckpoint(outA, {}, { strict: false }).metadata.optimStep, undefined);
    assert.equal(loadCheckpoint(a.lastPath, {}, { strict: false }).metadata.optimStep, "4");
    const log = new JsonlLogger(join(dir, "a.jsonl"), { resumeStep: Infinity }).read();
    assert.deepEqual(log.filter((r) => "loss" in r).map((r) => r.step), [1, 2, 3, 4]);
    assert.deepEqual(log.filter((r) => "valLoss" in r).map((r) => r.valLoss), a.val.map((v) => v.loss));

    // 2 steps, stop, resume to 4: identical weights and held-out loss at step 4.
    const outB = join(dir, "b.safetensors");
    await runPretrain(scenes, { ...common, steps: 2, out: outB, log: join(dir, "b.jsonl") });
    const b = await runPretrain(scenes, { ...common, steps: 4, out: outB, resume: true, log: join(dir, "b.jsonl") });
    assert.equal(b.resumedFrom, lastPathOf(outB));
    assert.equal(b.steps, 4);
    assert.equal(b.stepsThisRun, 2);
    const la = loadEncoderCheckpoint(a.lastPath);
    const lb = loadEncoderCheckpoint(b.lastPath);
    assert.equal(la.step, 4);
    assert.equal(lb.id, la.id);
    const pb = new Map(flattenParams(lb.params));
    for (const [path, arr] of flattenParams(la.params)) {
      assert.deepEqual(toHost(arr.ref), toHost((pb.get(path) as typeof arr).ref), path);
    }
    assert.deepEqual(b.val.map((v) => v.loss), [a.val[1].loss]);
    await assert.rejects(
      () => runPretrain(scenes, { ...common, steps: 6, out: outB, resume: true, lr: 2e-3 }),
      (e: unknown) => e instanceof ConfigError && e.field === "lr" && /needs the run's lr 0\.001/.test(e.message),
    );
    const logB = new JsonlLogger(join(dir, "b.jsonl"), { resumeStep: Infinity }).read();
    assert.deepEqual(logB.filter((r) => "loss" in r).map((r) => r.loss), log.filter((r) => "loss" in r).map((r) => r.loss));

    // A stop request after step 1 (as a time budget would) checkpoints and evaluates there.
    const outC = join(dir, "c.safetensors");
    const c1 = await runPretrain(scenes, { ...common, steps: 4, out: outC, shouldStop: (s) => s === 1 });
    assert.equal(c1.steps, 1);
    assert.equal(c1.stoppedEarly, true);
    assert.deepEqual(c1.val.map((v) => v.step), [1]);
    assert.equal(loadEncoderCheckpoint(c1.lastPath).step, 1);
    assert.equal(loadEncoderCheckpoint(outC).step, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("runPretrain: bad settings are ConfigErrors naming the field", async () => {
  const common = { config: TINY_ENCODER, out: join(tmpdir(), "never.safetensors") };
  await assert.rejects(() => runPretrain([], { ...common, steps: 1 }), (e: unknown) => e instanceof ConfigError && e.field === "data");
  await assert.rejects(() => runPretrain([ringScene(1)], { ...common, steps: -1 }), (e: unknown) => e instanceof ConfigError && e.field === "steps");
  await assert.rejects(
    () => runPretrain([ringScene(1)], { ...common, steps: 1, checkpointEvery: 0 }),
    (e: unknown) => e instanceof ConfigError && e.field === "checkpointEvery",
  );
});

test("capPairPoints: thins the kept Gaussians to about maxPoints pair rows, seeded; unchanged when they fit", () => {
  const kept = Uint32Array.from({ length: 8000 }, (_, i) => i * 2); // 3000 of them outside both views
  const visA = Uint32Array.from({ length: 6000 }, (_, i) => i); // overlaps kept in 3000
  const visB = Uint32Array.from({ length: 4000 }, (_, i) => 6000 + i); // overlaps kept in 2000
  const rows = (k: Uint32Array): number => k.filter((g) => g < 10000).length;
  assert.equal(capPairPoints(kept, visA, visB, undefined, new Rng(0)), kept);
  assert.equal(capPairPoints(kept, visA, visB, 5000, new Rng(0)), kept);
  const c = capPairPoints(kept, visA, visB, 1000, new Rng(1));
  assert.equal(c.length, 1600);
  assert.ok(c.every((g, i) => kept.includes(g) && (i === 0 || g > c[i - 1])), "an ascending subset of kept");
  assert.ok(Math.abs(rows(c) - 1000) <= 1000 * 0.1, `${rows(c)} rows`);
  assert.deepEqual(capPairPoints(kept, visA, visB, 1000, new Rng(1)), c);
});

test("capPairPoints crop: the kept Gaussians nearest a centre both views see, up to maxPoints rows, seeded", () => {
  // 1000 Gaussians on a line x = i; view A sees 0..599, view B 400..999: rows count 1 or 2 per Gaussian.
  const n = 1000;
  const positions = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) positions[3 * i] = i;
  const kept = Uint32Array.from({ length: n }, (_, i) => i);
  const visA = Uint32Array.from({ length: 600 }, (_, i) => i);
  const visB = Uint32Array.from({ length: 600 }, (_, i) => 400 + i);
  const c = capPairPoints(kept, visA, visB, 100, new Rng(5), { mode: "crop", positions });
  const rows = c.reduce((s, g) => s + (g < 600 ? 1 : 0) + (g >= 400 ? 1 : 0), 0);
  assert.ok(rows <= 100 && rows >= 98, `${rows} rows`);
  // A contiguous run (a ball on a line) around a Gaussian both views see.
  assert.equal(c[c.length - 1] - c[0] + 1, c.length);
  const mid = (c[0] + c[c.length - 1]) / 2;
  assert.ok(mid >= 400 - 50 && mid < 600 + 50, `centre near the overlap, got ${mid}`);
  assert.deepEqual(capPairPoints(kept, visA, visB, 100, new Rng(5), { mode: "crop", positions }), c);
  assert.equal(capPairPoints(kept, visA, visB, 5000, new Rng(5), { mode: "crop", positions }), kept);
  assert.throws(() => capPairPoints(kept, visA, visB, 100, new Rng(5), { mode: "crop" }), (e: unknown) => e instanceof ConfigError && e.field === "positions");
});

test("runPretrain --max-points: every pair padded to one fixed capacity set; trains and evaluates", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-pre-cap-"));
  try {
    const r = await runPretrain([ringScene(1)], { config: TINY_ENCODER, seed: 3, maxPairs: 32, maxPoints: 120, checkpointEvery: 2, valPairs: 1, steps: 2, out: join(dir, "m.safetensors") });
    assert.equal(r.steps, 2);
    assert.ok(Number.isFinite(r.loss) && Number.isFinite(r.val[0].loss));
    assert.ok(existsSync(join(dir, "m.safetensors")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
