import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Rng } from "../../src/core/rng.ts";
import { ConfigError, InvalidFileError, MissingFileError } from "../../src/core/errors.ts";
import { synthesizeDataset } from "../../src/scenes/dataset.ts";
import { readProjectDataset } from "../../src/datasets/project.ts";
import { readSplatSync, writePly } from "../../src/splat/io/index.ts";
import { readSafetensors } from "../../src/nn/safetensors.ts";
import { TINY_ENCODER } from "../../src/models/gaussian-encoder/config.ts";
import { GaussianEncoder } from "../../src/models/gaussian-encoder/encoder.ts";
import { saveEncoderCheckpoint, loadEncoderCheckpoint } from "../../src/models/gaussian-encoder/checkpoint.ts";
import { encodeCloud } from "../../src/models/gaussian-encoder/encode.ts";
import {
  defaultEncoderPath,
  encodeScene,
  encodeScenes,
  fileSha256,
  loadEncoder,
  loadSceneFeatures,
  plyEncoderId,
  scenesToEncode,
  sidecarPath,
} from "../../src/pipeline/encode.ts";

const bin = fileURLToPath(new URL("../../bin/rtgs2.js", import.meta.url));

function saveTiny(path: string, seed: number, metadata: Record<string, string> = {}): string {
  const enc = new GaussianEncoder(TINY_ENCODER);
  saveEncoderCheckpoint(path, TINY_ENCODER, enc.init(new Rng(seed)), enc.initState(), { metadata });
  return loadEncoderCheckpoint(path).id;
}

test("encode: ply features equal encodeCloud, carry the encoder comment, skip when done; sidecars check encoder and ply hash", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-encode-"));
  try {
    const data = join(dir, "data");
    await synthesizeDataset({ outDir: data, scenes: 2, frames: 2, width: 32, height: 24, seed: 3, gaussians: 1000, testScenes: 1, threads: 1, quiet: true });
    const ckpt = join(dir, "enc.safetensors");
    const id = saveTiny(ckpt, 1);
    const scenes = scenesToEncode({ data });
    assert.equal(scenes.length, 2);
    const before = readSplatSync(scenes[0].splatPath).cloud;
    const loaded = loadEncoder(ckpt);
    const want = encodeCloud(loaded.encoder, loaded.params, loaded.state, before, { chunkPoints: 1000 });

    const first = encodeScenes(scenes, ckpt, { chunkPoints: 1000 });
    assert.equal(first.scenes, 2);
    assert.equal(first.gaussians, 2000);
    assert.equal(first.encoder, id);
    assert.ok(first.results.every((r) => !r.skipped && r.target === "ply"));
    const after = readSplatSync(scenes[0].splatPath);
    assert.equal(plyEncoderId(after.comments), id);
    assert.deepEqual(after.cloud.positions, before.positions, "geometry untouched");
    assert.deepEqual(after.cloud.extras.get("label"), before.extras.get("label"), "labels kept");
    const got = loadSceneFeatures(scenes[0], { encoder: id });
    assert.equal(got.source, "ply");
    assert.deepEqual(got.features, want);
    for (let i = 0; i < got.count; i += 97) assert.ok(Math.abs(Math.hypot(...got.features.subarray(i * 32, i * 32 + 32)) - 1) < 1e-5);

    // Same encoder again: skipped, file untouched.
    const bytes = readFileSync(scenes[0].splatPath);
    const again = encodeScenes(readProjectDataset(data).train, ckpt);
    assert.ok(again.results.every((r) => r.skipped));
    assert.deepEqual(readFileSync(scenes[0].splatPath), bytes);

    // Another encoder's features are refused by name; a sidecar from it is written and read back.
    const ckpt2 = join(dir, "enc2.safetensors");
    const id2 = saveTiny(ckpt2, 2);
    assert.throws(() => loadSceneFeatures(scenes[0], { encoder: id2 }), (e: unknown) => e instanceof InvalidFileError && e.message.includes(`expected ${id2}`));
    const side = encodeScenes([scenes[0]], ckpt2, { sidecar: true });
    assert.equal(side.results[0].target, "sidecar");
    const file = readSafetensors(sidecarPath(scenes[0]));
    assert.equal(file.metadata.encoder, id2);
    assert.equal(file.metadata.plySha256, fileSha256(scenes[0].splatPath));
    assert.deepEqual(file.tensors.get("f_pc")?.shape, [1000, 32]);
    assert.equal(loadSceneFeatures(scenes[0], { encoder: id2 }).source, "sidecar");
    assert.equal(loadSceneFeatures(scenes[0], { encoder: id }).source, "ply");
    assert.throws(() => loadSceneFeatures(scenes[0], { encoder: "f".repeat(64) }), (e: unknown) => e instanceof InvalidFileError && /expected f{64}/.test(e.message));
    // A changed ply makes the sidecar stale.
    writeFileSync(scenes[0].splatPath, Buffer.concat([bytes.subarray(0, bytes.length - 4), Buffer.from([0, 0, 0, 0])]));
    assert.throws(() => loadSceneFeatures(scenes[0], { encoder: id2 }), (e: unknown) => e instanceof InvalidFileError && /stale/.test(e.message));
    // A scene without features.
    assert.throws(() => loadSceneFeatures({ ...scenes[1], root: join(dir, "none") }, { encoder: id2 }), (e: unknown) => e instanceof InvalidFileError);
    const fresh = join(dir, "fresh");
    await synthesizeDataset({ outDir: fresh, scenes: 1, frames: 2, width: 32, height: 24, seed: 5, gaussians: 1000, testScenes: 1, threads: 1, quiet: true });
    assert.throws(() => loadSceneFeatures(scenesToEncode({ scene: join(fresh, "scene_000") })[0]), (e: unknown) => e instanceof MissingFileError);
    assert.throws(() => loadEncoder(join(dir, "missing.safetensors")), (e: unknown) => e instanceof ConfigError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("rtgs2 encode: the committed default encoder, --json fields, a one-line error for a missing checkpoint", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-encode-cli-"));
  try {
    const data = join(dir, "data");
    await synthesizeDataset({ outDir: data, scenes: 1, frames: 2, width: 32, height: 24, seed: 4, gaussians: 1000, testScenes: 1, threads: 1, quiet: true });
    const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", cwd: dir, env: { ...process.env, RTGS2_THREADS: "1" } });
    const missing = run("encode", "--encoder", join(dir, "nope.safetensors"), "--data", data, "--json");
    assert.equal(missing.status, 2, missing.stderr);
    assert.equal(missing.stdout, "");
    assert.equal(missing.stderr.trim().split("\n").length, 1);
    assert.match(missing.stderr, /nope\.safetensors does not exist/);
    const badUp = run("encode", "--up", "sideways", "--data", data, "--json");
    assert.equal(badUp.status, 2, badUp.stderr);
    assert.equal(badUp.stderr.trim().split("\n").length, 1);
    assert.match(badUp.stderr, /--up.*sideways/);
    // No --encoder: the package's committed checkpoint, found from the package even with another working directory.
    const byDefault = run("encode", "--scene", join(data, "scene_000"), "--sidecar", "--json");
    assert.equal(byDefault.status, 0, byDefault.stderr);
    const side = readSafetensors(join(data, "scene_000", "features.safetensors"));
    assert.equal(side.metadata.encoder, loadEncoderCheckpoint(defaultEncoderPath()).id);
    const ckpt = join(dir, "enc.safetensors");
    saveTiny(ckpt, 5);
    const ok = run("encode", "--encoder", ckpt, "--scene", join(data, "scene_000"), "--sidecar", "--json");
    assert.equal(ok.status, 0, ok.stderr);
    const out = JSON.parse(ok.stdout) as { scenes: number; gaussians: number; seconds: number };
    assert.equal(out.scenes, 1);
    assert.equal(out.gaussians, 1000);
    assert.ok(out.seconds > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("encode --up: an up-axis encoder sees a z-up copy of a y-up room as the room itself; a random-axis one turns nothing", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-encode-up-"));
  try {
    const data = join(dir, "data");
    await synthesizeDataset({ outDir: data, scenes: 1, frames: 4, width: 32, height: 24, seed: 6, gaussians: 1000, testScenes: 1, threads: 1, quiet: true });
    const ckpt = join(dir, "enc-y.safetensors");
    saveTiny(ckpt, 2, { pretrain: JSON.stringify({ rotationAxis: "y" }) });
    const loaded = loadEncoder(ckpt);
    const [room] = scenesToEncode({ scene: join(data, "scene_000") });
    // The synthetic room is y-up and its cameras say so: nothing to turn.
    const asIs = encodeScene(loaded, room, { sidecar: true });
    assert.deepEqual([asIs.rotated, asIs.up], [false, [0, 1, 0]]);
    const want = loadSceneFeatures(room, { encoder: loaded.id }).features;
    // The same room stood on its side, z up: (x, y, z) → (x, −z, y).
    const splat = readSplatSync(room.splatPath);
    const p = splat.cloud.positions;
    const positions = new Float32Array(p.length);
    for (let i = 0; i < p.length; i += 3) [positions[i], positions[i + 1], positions[i + 2]] = [p[i], -p[i + 2], p[i + 1]];
    const encodeZUp = (up: "+z" | "none", tag: string): Float32Array => {
      const root = join(dir, tag);
      mkdirSync(root);
      const scene = { ...room, root, name: tag, splatPath: join(root, "point_cloud.ply") };
      writePly(scene.splatPath, { ...splat.cloud, positions }, { comments: [] });
      const r = encodeScene(loaded, scene, { sidecar: true, up });
      assert.equal(r.rotated, up === "+z");
      return loadSceneFeatures(scene, { encoder: loaded.id }).features;
    };
    const turned = encodeZUp("+z", "z-up");
    // The turn is stored with the features: the same turn is skipped, another one encodes again.
    const zScene = { ...room, root: join(dir, "z-up"), name: "z-up", splatPath: join(dir, "z-up", "point_cloud.ply") };
    assert.equal(loadSceneFeatures(zScene).turnedUp, "0,0,1");
    assert.equal(encodeScene(loaded, zScene, { sidecar: true, up: "+z" }).skipped, true);
    assert.equal(encodeScene(loaded, zScene, { sidecar: true, up: "none" }).skipped, false);
    assert.equal(loadSceneFeatures(zScene).turnedUp, undefined);
    // Written into the ply (project layout), the turn is a comment beside the encoder's.
    encodeScene(loaded, zScene, { up: "+z" });
    assert.ok(readSplatSync(zScene.splatPath).comments.includes("rtgs2 encoder-turned-up 0,0,1"));
    assert.deepEqual([loadSceneFeatures(zScene).source, loadSceneFeatures(zScene).turnedUp], ["ply", "0,0,1"]);
    let maxDiff = 0;
    for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(turned[i] - want[i]));
    assert.ok(maxDiff < 1e-4, `turned back to y-up, the features match the room's to ${maxDiff}`);
    const sideways = encodeZUp("none", "z-up-as-is");
    let moved = 0;
    for (let i = 0; i < want.length; i++) moved = Math.max(moved, Math.abs(sideways[i] - want[i]));
    assert.ok(moved > 1e-2, `encoded on its side the features differ (${moved}), so the test above can fail`);
    // An encoder without an up axis (the paper's random-axis pre-training, or none recorded) turns nothing.
    const plain = join(dir, "enc.safetensors");
    saveTiny(plain, 2);
    const r = encodeScene(loadEncoder(plain), zScene, { sidecar: true, up: "+z" });
    assert.deepEqual([r.rotated, r.up], [false, null]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
