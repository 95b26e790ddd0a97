import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../../bin/rtgs2.js", import.meta.url));

test("rtgs2 bench encode --json: the contract's fields, consistent rates; a bad config is a one-line error", () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env: { ...process.env, RTGS2_THREADS: "1" } });
  const bad = run("bench", "encode", "--config", "huge", "--json");
  assert.equal(bad.status, 2);
  assert.equal(bad.stdout, "");
  assert.match(bad.stderr.trim(), /^[^\n]*--config[^\n]*huge[^\n]*$/);
  const r = run("bench", "encode", "--config", "tiny", "--gaussians", "2000", "--json");
  assert.equal(r.status, 0, r.stderr);
  const o = JSON.parse(r.stdout) as {
    gaussians: number;
    seconds: number;
    gaussiansPerSecond: number;
    train: { gaussians: number; seconds: number; gaussiansPerSecond: number; loss: number };
    capacities: number[];
  };
  assert.equal(o.gaussians, 2000);
  assert.ok(o.seconds > 0);
  assert.ok(Math.abs(o.gaussiansPerSecond - 2000 / o.seconds) < 1e-6 * o.gaussiansPerSecond);
  assert.ok(o.train.gaussians > 0 && o.train.seconds > 0 && Number.isFinite(o.train.loss));
  assert.ok(Math.abs(o.train.gaussiansPerSecond - o.train.gaussians / o.train.seconds) < 1e-6 * o.train.gaussiansPerSecond);
  assert.equal(o.capacities.length, 3, "tiny has three stages");
  assert.ok(o.capacities[0] >= 2000);
});
