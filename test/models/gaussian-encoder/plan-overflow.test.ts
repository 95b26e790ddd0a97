import { wasmBytes } from "../../nn/wasm-memory-probe.ts";
import { test } from "node:test";
import assert from "node:assert/strict";
import { numpy as np } from "../../../src/nn/jax.ts";
import { ConfigError } from "../../../src/core/errors.ts";
import { TINY_ENCODER } from "../../../src/models/gaussian-encoder/config.ts";
import { disposeDevicePlan, planCapacities, planEncoder, toDevicePlan, type PlanCapacities } from "../../../src/models/gaussian-encoder/levels.ts";
import { randomCloud } from "../../helpers/clouds.ts";

test("a plan that overflows its capacities is a ConfigError naming the stage, and leaks no device memory", () => {
  const cloud = randomCloud(4, 20_000, 0);
  const plan = planEncoder(cloud.positions, TINY_ENCODER, {});
  const exact = planCapacities(plan);
  disposeDevicePlan(toDevicePlan(plan, TINY_ENCODER, np.float32, exact));
  const last = exact.points.length - 1;
  // The deepest stage overflows by one patch, so every shallower stage's tables would be built first.
  const tooSmall: PlanCapacities = {
    ...exact,
    patches: exact.patches.map((rec, s) => (s === last ? Object.fromEntries(Object.entries(rec).map(([K, n]) => [K, n - 1])) : rec)),
  };
  const before = wasmBytes();
  for (let i = 0; i < 30; i++) {
    assert.throws(
      () => toDevicePlan(plan, TINY_ENCODER, np.float32, tooSmall),
      (e: unknown) => e instanceof ConfigError && e.field === "capacities" && e.message.includes(`stage ${last}:`),
    );
  }
  // Leaking the shallower stages' tables (~4 MB a try here) would grow the heap by ~120 MB.
  assert.equal(wasmBytes(), before);
});
