import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { safetensors } from "@jax-js/loaders";
import { numpy as np } from "../../src/nn/jax.ts";
import { Rng } from "../../src/core/rng.ts";
import { InvalidFileError } from "../../src/core/errors.ts";
import { AdamW } from "../../src/nn/optim.ts";
import { loadCheckpoint, saveCheckpoint } from "../../src/nn/checkpoint.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  readSafetensors,
  type HostTensor,
} from "../../src/nn/safetensors.ts";
import { BatchNorm, Conv2d, Linear } from "../../src/nn/layers/index.ts";
import { concatLeaves, flattenParams, refParams } from "../../src/nn/params.ts";
import { toHost } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "rtgs2-nn-ckpt-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

function model(rng: Rng) {
  return {
    vd: { stem: new Conv2d("vd.stem", 3, 4, 4, { stride: 4 }).init(rng), blocks: [new Linear("vd.blocks.0", 4, 8).init(rng)] },
    head: new Linear("head", 8, 2, { bias: false }).init(rng),
  };
}

test("a checkpoint round-trips parameters, buffers, AdamW moments and metadata exactly", () => {
  const rng = new Rng(5);
  const params = model(rng);
  const bn = new BatchNorm("fuse.bn", 4);
  const buffers = { fuse: { bn: bn.initState() } };
  const opt = new AdamW();
  let state = opt.init(params);
  const grads = { vd: { stem: { weight: np.ones([4, 4, 4, 3]), bias: np.ones([4]) }, blocks: [{ weight: np.ones([8, 4]).mul(0.5), bias: np.ones([8]) }] }, head: { weight: np.ones([2, 8]) } };
  const r = opt.step(refParams(params), concatLeaves(grads), state, 1e-3);
  r.gradNorm.dispose();
  state = r.state;
  const rngState = rng.getState();
  const file = join(dir, "train.safetensors");
  saveCheckpoint(file, { params: r.params, buffers, optimizer: state, config: { name: "tiny", widths: [4, 8] }, step: 17, rng: rngState, metadata: { classes: "[\"wall\"]" } });
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes(".tmp-")), [], "no temporary file left behind");
  const loaded = loadCheckpoint(file, params, { buffers, optimizer: true });
  for (const [path, a] of flattenParams(r.params)) {
    const b = flattenParams(loaded.params).find(([p]) => p === path)?.[1] as np.Array;
    assert.deepEqual(b.shape, a.shape);
    assert.deepEqual(toHost(b), toHost(a.ref), path);
  }
  assert.deepEqual(toHost(loaded.optimizer?.m as np.Array), toHost(state.m.ref));
  assert.deepEqual(toHost(loaded.optimizer?.v as np.Array), toHost(state.v.ref));
  assert.equal(loaded.optimizer?.step, 1);
  // The flat moments are stored leaf by leaf under their paths (an independent reader, and values by hand: one
  // unclipped step from zero moments gives m = 0.1·g and v = 0.001·g²).
  const raw = safetensors.parse(new Uint8Array(readFileSync(file)));
  const leafValues = (name: string): number[] => [...(raw.tensors[name].data as Float32Array)];
  assert.ok(leafValues("optim.m.head.weight").every((x) => Math.abs(x - 0.1) < 1e-7));
  assert.ok(leafValues("optim.m.vd.blocks.0.weight").every((x) => Math.abs(x - 0.05) < 1e-7));
  assert.ok(leafValues("optim.v.vd.blocks.0.weight").every((x) => Math.abs(x - 0.00025) < 1e-9));
  assert.deepEqual(raw.tensors["optim.m.head.weight"].shape, [2, 8]);
  assert.deepEqual([...toHost(loaded.buffers?.fuse.bn.runningVar as np.Array)], [1, 1, 1, 1]);
  assert.deepEqual(loaded.config, { name: "tiny", widths: [4, 8] });
  assert.equal(loaded.step, 17);
  assert.deepEqual(loaded.rng, rngState);
  assert.equal(loaded.metadata.classes, "[\"wall\"]");
  // Without asking for moments, the optim.* tensors are skipped, not an error.
  loadCheckpoint(file, params, { buffers });
  opt.dispose();
});

test("@jax-js/loaders, an independent reader, reads our files: tensors, dtypes, shapes, flat string metadata", () => {
  const tensors = new Map<string, HostTensor>([
    ["b.f32", { dtype: "F32", shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6.5]) }],
    ["a.i32", { dtype: "I32", shape: [3], data: Int32Array.from([-1, 0, 7]) }],
    ["c.f16", { dtype: "F16", shape: [2], data: float32ToFloat16Bits([0.5, -2]) }],
    ["d.u8", { dtype: "U8", shape: [1, 1], data: Uint8Array.from([200]) }],
  ]);
  const bytes = Buffer.concat(encodeSafetensors(tensors, { config: JSON.stringify({ a: 1 }), step: "3" }));
  const headerLen = Number(bytes.readBigUInt64LE(0));
  assert.equal((8 + headerLen) % 8, 0, "data section is 8-byte aligned");
  // @jax-js/loaders views F16 data as a Float16Array, which Node 20 lacks, so it reads a copy without that tensor.
  const noHalf = new Map([...tensors].filter(([k]) => k !== "c.f16"));
  const parsed = safetensors.parse(new Uint8Array(Buffer.concat(encodeSafetensors(noHalf, { config: JSON.stringify({ a: 1 }), step: "3" }))));
  assert.deepEqual(parsed.metadata, { config: "{\"a\":1}", step: "3" });
  assert.deepEqual(parsed.tensors["b.f32"].shape, [2, 3]);
  assert.equal(parsed.tensors["b.f32"].dtype, "F32");
  assert.deepEqual([...(parsed.tensors["b.f32"].data as Float32Array)], [1, 2, 3, 4, 5, 6.5]);
  assert.deepEqual([...(parsed.tensors["a.i32"].data as Int32Array)], [-1, 0, 7]);
  assert.deepEqual([...(parsed.tensors["d.u8"].data as Uint8Array)], [200]);
  // Our own reader agrees, including the half-precision bits.
  const ours = decodeSafetensors(new Uint8Array(bytes), "mem");
  assert.deepEqual([...float16BitsToFloat32(ours.tensors.get("c.f16")?.data as Uint16Array)], [0.5, -2]);
});

test("float16 conversion rounds to nearest even and keeps specials", () => {
  const vals = [0, -0, 1, 65504, 70000, 1e-8, 5.960464477539063e-8, 0.1, -3.14159, Infinity, NaN, 1 + 2 ** -11, 1 + 3 * 2 ** -11];
  const back = float16BitsToFloat32(float32ToFloat16Bits(vals));
  assert.equal(back[3], 65504);
  assert.equal(back[4], Infinity);
  assert.equal(back[5], 0);
  assert.equal(back[6], 5.960464477539063e-8);
  assert.ok(Math.abs(back[7] - 0.1) < 1e-4);
  assert.ok(Number.isNaN(back[10]));
  assert.equal(back[11], 1, "tie rounds to even (down)");
  assert.equal(back[12], 1 + 2 ** -9, "tie rounds to even (up)");
});

test("loading names the first missing tensor, shape mismatch, dtype mismatch or unexpected tensor", () => {
  const rng = new Rng(9);
  const params = model(rng);
  const file = join(dir, "m.safetensors");
  saveCheckpoint(file, { params });
  const wider = { ...params, head: new Linear("head", 8, 3, { bias: false }).init(rng) };
  assert.throws(() => loadCheckpoint(file, wider), (e: unknown) => e instanceof InvalidFileError && /tensor "head\.weight": expected shape \[3, 8\], file has \[2, 8\]/.test(e.message));
  const more = { ...params, extra: { w: np.zeros([2]) } };
  assert.throws(() => loadCheckpoint(file, more), /missing tensor "extra\.w"/);
  const fewer = { vd: params.vd };
  assert.throws(() => loadCheckpoint(file, fewer), /unexpected tensor "head\.weight"/);
  const f64 = { ...params, head: { weight: np.zeros([2, 8], { dtype: np.float64 }) } };
  assert.throws(() => loadCheckpoint(file, f64), /tensor "head\.weight": expected dtype F64, file has F32/);
  assert.throws(() => loadCheckpoint(file, params, { optimizer: true }), /no optimizer state/);
  // Weights-only float16 exports load into a float32 model.
  const half = join(dir, "half.safetensors");
  saveCheckpoint(half, { params }, { float16: true });
  assert.equal(readSafetensors(half).tensors.get("head.weight")?.dtype, "F16");
  const h = loadCheckpoint(half, params);
  const a = toHost(h.params.vd.blocks[0].weight);
  const b = toHost(params.vd.blocks[0].weight.ref);
  assert.ok(a.every((v, i) => Math.abs(v - b[i]) <= 1e-3 * Math.abs(b[i]) + 1e-7));
});

test("corrupt files raise InvalidFileError naming the file and the problem", () => {
  const bad = join(dir, "bad.safetensors");
  writeFileSync(bad, Buffer.from([1, 2, 3]));
  assert.throws(() => readSafetensors(bad), (e: unknown) => e instanceof InvalidFileError && e.message.startsWith(bad) && /truncated/.test(e.message));
  const good = Buffer.concat(encodeSafetensors(new Map([["x", { dtype: "F32", shape: [4], data: new Float32Array(4) }]])));
  writeFileSync(bad, good.subarray(0, good.length - 4));
  assert.throws(() => readSafetensors(bad), /tensor "x": data_offsets/);
  const nested = Buffer.from(JSON.stringify({ __metadata__: { config: { a: 1 } } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(nested.length));
  writeFileSync(bad, Buffer.concat([len, nested]));
  assert.throws(() => readSafetensors(bad), /__metadata__\.config is not a string/);
  assert.ok(readFileSync(bad).length > 0);
});
