import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { synthesizeDataset } from "../../src/scenes/dataset.ts";
import { readSafetensors } from "../../src/nn/safetensors.ts";
import { loadEncoderCheckpoint } from "../../src/models/gaussian-encoder/checkpoint.ts";

const bin = fileURLToPath(new URL("../../bin/rtgs2.js", import.meta.url));

function rtgs2(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env: { ...process.env, RTGS2_THREADS: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oneLineError(r: { code: number | null; stdout: string; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, "");
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
}

test("pretrain: a missing or invalid --data folder and bad flags are one-line errors with exit code 2", () => {
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-cli-pre-bad-"));
  try {
    const out = join(dir, "enc.safetensors");
    oneLineError(rtgs2("pretrain", "--data", join(dir, "nope"), "--out", out, "--json"), /nope: no such dataset folder/);
    oneLineError(rtgs2("pretrain", "--data", dir, "--out", out), /has no dataset\.json/);
    writeFileSync(join(dir, "dataset.json"), "{ not json");
    oneLineError(rtgs2("pretrain", "--data", dir, "--out", out), /dataset\.json/);
    oneLineError(rtgs2("pretrain", "--data", dir, "--out", out, "--lr", "-1"), /--lr/);
    oneLineError(rtgs2("pretrain", "--data", dir, "--out", out, "--config", "huge"), /unknown encoder config "huge"/);
    oneLineError(rtgs2("export", join(dir, "missing.safetensors"), out), /missing\.safetensors: no such checkpoint/);
    assert.ok(!existsSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("pretrain --json on a generated dataset: checkpoints, log, resume, and export keeps the encoder id", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-cli-pre-"));
  try {
    const data = join(dir, "data");
    await synthesizeDataset({ outDir: data, scenes: 2, frames: 24, width: 64, height: 48, seed: 2, gaussians: 2000, testScenes: 1, threads: 1, quiet: true });
    const out = join(dir, "enc.safetensors");
    const common = ["pretrain", "--data", data, "--out", out, "--config", "tiny", "--max-pairs", "64", "--checkpoint-every", "1", "--val-pairs", "1"];
    const r = rtgs2(...common, "--steps", "1", "--json");
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(j.steps, 1);
    assert.ok(Number.isFinite(j.loss) && Number.isFinite(j.valLoss), r.stdout);
    assert.equal(j.bestStep, 1);
    assert.equal(j.resumed, false);
    const last = join(dir, "enc.last.safetensors");
    const log = join(dir, "enc.jsonl");
    assert.deepEqual([j.out, j.last, j.log], [out, last, log]);
    for (const f of [out, last, log]) assert.ok(existsSync(f), f);
    const lines = readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, number>);
    assert.deepEqual(lines.filter((l) => "loss" in l).map((l) => l.step), [1]);
    assert.deepEqual(lines.filter((l) => "valLoss" in l).map((l) => l.valLoss), [j.valLoss]);

    const r2 = rtgs2(...common, "--steps", "2", "--resume", "--json");
    assert.equal(r2.code, 0, r2.stderr);
    const j2 = JSON.parse(r2.stdout) as Record<string, unknown>;
    assert.equal(j2.steps, 2);
    assert.equal(j2.resumed, true);
    assert.equal(loadEncoderCheckpoint(last).step, 2);
    assert.equal(readFileSync(log, "utf8").trim().split("\n").filter((l) => l.includes('"loss"')).length, 2);

    const exported = join(dir, "enc.f16.safetensors");
    const e = rtgs2("export", last, exported, "--json");
    assert.equal(e.code, 0, e.stderr);
    const ej = JSON.parse(e.stdout) as { tensors: number; bytes: number; encoder: string };
    const src = readSafetensors(last);
    const dst = readSafetensors(exported);
    const weights = [...src.tensors.keys()].filter((k) => !k.startsWith("optim."));
    assert.ok(weights.length < src.tensors.size, "the training state holds optimizer moments");
    assert.equal(ej.tensors, weights.length);
    assert.deepEqual([...dst.tensors.keys()].sort(), weights.sort());
    assert.ok([...dst.tensors.values()].every((t) => t.dtype === "F16"));
    assert.equal(ej.bytes, readFileSync(exported).length);
    assert.equal(dst.metadata.rng, undefined);
    assert.equal(dst.metadata.config, src.metadata.config);
    const trained = loadEncoderCheckpoint(last);
    const shipped = loadEncoderCheckpoint(exported);
    assert.equal(ej.encoder, trained.id);
    assert.equal(shipped.id, trained.id);
    assert.equal(dst.metadata.encoder, trained.id);

    // The probe on the features the exported encoder writes, and on the raw input.
    const enc = rtgs2("encode", "--encoder", exported, "--data", data, "--sidecar", "--json");
    assert.equal(enc.code, 0, enc.stderr);
    const probe = rtgs2("probe", "--data", data, "--epochs", "3", "--json");
    assert.equal(probe.code, 0, probe.stderr);
    const pj = JSON.parse(probe.stdout) as Record<string, unknown>;
    assert.equal(pj.input, "features");
    assert.equal(pj.encoder, trained.id);
    assert.equal(pj.dim, 32);
    assert.deepEqual([pj.trainScenes, pj.testScenes], [1, 1]);
    for (const k of ["mIoU", "mAcc", "oAcc"]) assert.ok(Number.isFinite(pj[k]) && (pj[k] as number) >= 0 && (pj[k] as number) <= 100, k);
    assert.ok("top20" in pj && Array.isArray(pj.perClass));
    // Encoding in the probe (--encoder) gives the features `rtgs2 encode` stored, so the same probe.
    const inline = rtgs2("probe", "--data", data, "--encoder", exported, "--epochs", "3", "--json");
    assert.equal(inline.code, 0, inline.stderr);
    const ij = JSON.parse(inline.stdout) as Record<string, unknown>;
    assert.deepEqual([ij.input, ij.encoder, ij.mIoU, ij.oAcc], ["encoder", trained.id, pj.mIoU, pj.oAcc]);
    const raw = rtgs2("probe", "--data", data, "--raw", "--epochs", "3", "--json");
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal((JSON.parse(raw.stdout) as { dim: number }).dim, 10);
    oneLineError(rtgs2("probe", "--data", data, "--raw", "--random-encoder"), /pick at most one input/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
