import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TINY_ENCODER } from "../../src/models/gaussian-encoder/config.ts";
import { runPretrain } from "../../src/train/pretrain/run.ts";
import { ringScene } from "./pretrain-scenes.ts";

test("runPretrain: the training loss falls on a repeated tiny scene", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-pre-loss-"));
  try {
    const losses: number[] = [];
    await runPretrain([ringScene(2)], {
      config: TINY_ENCODER,
      steps: 8,
      seed: 5,
      maxPairs: 64,
      checkpointEvery: 8,
      valPairs: 0,
      out: join(dir, "l.safetensors"),
      onStep: (_, loss) => losses.push(loss),
    });
    assert.equal(losses.length, 8);
    const mean = (xs: number[]): number => xs.reduce((x, y) => x + y, 0) / xs.length;
    // Chance level of InfoNCE over m candidates is ln m; the last steps must be well below the first ones.
    assert.ok(mean(losses.slice(-2)) < 0.8 * mean(losses.slice(0, 2)), `losses ${losses.map((l) => l.toFixed(2)).join(" ")}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

