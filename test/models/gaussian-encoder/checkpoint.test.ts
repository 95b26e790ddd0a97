import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../../src/core/rng.ts";
import { InvalidFileError } from "../../../src/core/errors.ts";
import { flattenParams } from "../../../src/nn/params.ts";
import { saveCheckpoint } from "../../../src/nn/checkpoint.ts";
import { TINY_ENCODER } from "../../../src/models/gaussian-encoder/config.ts";
import { GaussianEncoder } from "../../../src/models/gaussian-encoder/encoder.ts";
import {
  encoderId,
  loadEncoderCheckpoint,
  saveEncoderCheckpoint,
} from "../../../src/models/gaussian-encoder/checkpoint.ts";
import { toHost } from "../../nn/helpers.ts";

test("encoder checkpoints: round trip with config and BN statistics; float16 export keeps the encoder id", () => {
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-enc-"));
  try {
    const encoder = new GaussianEncoder(TINY_ENCODER);
    const params = encoder.init(new Rng(4));
    const state = encoder.initState();
    const id = encoderId(params, state);
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.notEqual(encoderId(encoder.init(new Rng(5)), state), id);
    const file = join(dir, "enc.safetensors");
    saveEncoderCheckpoint(file, encoder.config, params, state, { step: 12 });
    const loaded = loadEncoderCheckpoint(file);
    assert.deepEqual(loaded.encoder.config, encoder.config);
    assert.equal(loaded.step, 12);
    assert.equal(loaded.id, id);
    assert.equal(loaded.metadata.encoder, id);
    const a = flattenParams(params);
    const b = new Map(flattenParams(loaded.params));
    for (const [path, arr] of a) assert.deepEqual(toHost(arr.ref), toHost((b.get(path) as typeof arr).ref), path);
    assert.deepEqual(Object.keys(loaded.state).sort(), Object.keys(state).sort());
    const half = join(dir, "enc-f16.safetensors");
    saveEncoderCheckpoint(half, encoder.config, params, state, {}, { float16: true });
    assert.equal(loadEncoderCheckpoint(half).id, id);
    // A checkpoint of something else is refused with a one-line reason.
    const other = join(dir, "other.safetensors");
    saveCheckpoint(other, { params: {}, config: {} });
    assert.throws(() => loadEncoderCheckpoint(other), InvalidFileError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
