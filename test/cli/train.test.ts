/**
 * `rtgs2 train / eval / segment` through the binary: a two-step tiny run, its eval and segmentation with the
 * contract's JSON fields, and bad input as one stderr line with exit code 2 and an empty stdout.
 */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readLabelPng } from "../../src/core/image.ts";
import { tinyDataset } from "../train/semantic-fixture.ts";

const bin = fileURLToPath(new URL("../../bin/rtgs2.js", import.meta.url));

function rtgs2(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let ds: Awaited<ReturnType<typeof tinyDataset>>;
before(async () => {
  ds = await tinyDataset({ scenes: 2, frames: 3, gaussians: 2000 });
});
after(() => ds.cleanup());

test("train → eval → segment on a tiny dataset, --json objects with the contract's fields", () => {
  const ckpt = join(ds.dir, "..", "m.safetensors");
  const t = rtgs2("train", "--data", ds.dir, "--out", ckpt, "--config", "tiny", "--steps", "2", "--batch", "2", "--threads", "1", "--json");
  assert.equal(t.code, 0, t.stderr);
  const tj = JSON.parse(t.stdout);
  assert.equal(tj.steps, 2);
  assert.ok(Number.isFinite(tj.loss));
  assert.ok(typeof tj.val.mIoU === "number");
  const e = rtgs2("eval", "--model", ckpt, "--data", ds.dir, "--threads", "1", "--json");
  assert.equal(e.code, 0, e.stderr);
  const ej = JSON.parse(e.stdout);
  for (const k of ["mIoU", "mAcc", "oAcc", "top20", "perClass", "fps", "viewConsistency", "gtCeiling"]) assert.ok(k in ej, `eval JSON has ${k}`);
  for (const k of ["mIoU", "mAcc", "oAcc"]) assert.ok(typeof ej.top20[k] === "number");
  const out = join(ds.dir, "..", "seg");
  const s = rtgs2("segment", "--model", ckpt, join(ds.dir, ds.test[0]), "--out", out, "--threads", "1", "--json");
  assert.equal(s.code, 0, s.stderr);
  const sj = JSON.parse(s.stdout);
  assert.equal(sj.views, 3);
  assert.ok(sj.seconds > 0);
  assert.deepEqual(readdirSync(join(out, "labels")).sort(), ["000000.png", "000001.png", "000002.png"]);
  assert.ok(existsSync(join(out, "overlay", "000002.png")));
  const l = readLabelPng(join(out, "labels", "000000.png"));
  assert.deepEqual([l.width, l.height], [64, 48]);
  assert.ok(l.labels.every((v) => v < 28));
});

test("bad input: one stderr line, exit 2, nothing on stdout", () => {
  const ckpt = join(ds.dir, "..", "x.safetensors");
  const cases: [string[], RegExp][] = [
    [["train", "--data", join(ds.dir, "nope"), "--out", ckpt, "--json"], /dataset\.json/],
    [["train", "--data", ds.dir, "--out", ckpt, "--finetune", "scene_999", "--from", ckpt, "--json"], /scene_999.*not in/],
    [["train", "--data", ds.dir, "--out", ckpt, "--finetune", ds.test[0], "--from", join(ds.dir, "missing.safetensors"), "--json"], /missing\.safetensors.*not found/],
    [["train", "--data", ds.dir, "--out", ckpt, "--ablate", "no-thing"], /--ablate/],
    [["train", "--data", ds.dir, "--out", ckpt, "--features", "fancy"], /--features/],
    [["eval", "--model", join(ds.dir, "missing.safetensors"), "--data", ds.dir, "--json"], /missing\.safetensors.*not found/],
    [["eval", "--model", ckpt, "--data", ds.dir, "--split", "val"], /--split/],
    [["segment", "--model", join(ds.dir, "missing.safetensors"), join(ds.dir, ds.test[0]), "--out", join(ds.dir, "o")], /not found/],
  ];
  for (const [args, re] of cases) {
    const r = rtgs2(...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "", args.join(" "));
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
});
