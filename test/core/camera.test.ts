import { test } from "node:test";
import assert from "node:assert/strict";
import { imageUp, lookAtCamera, meanImageUp, projectPoint } from "../../src/core/camera.ts";

test("image-up is the world direction that points up in the image", () => {
  const intr = { width: 100, height: 80, fx: 50 };
  const cam = lookAtCamera([0, 0, 0], [1, 0, 0], [0, 0, 1], intr);
  const up = imageUp(cam);
  assert.ok(Math.abs(up[2] - 1) < 1e-12 && Math.abs(up[0]) < 1e-12);
  // A point above the centre along `up` lands above the image centre (smaller v).
  assert.ok(projectPoint(cam, [1, 0, 0.1]).v < 40);
  const tilted = lookAtCamera([0, 0, 0], [1, 0, 0.3], [0, 0, 1], intr);
  const mean = meanImageUp([cam, tilted, lookAtCamera([0, 0, 0], [0, 1, 0], [0, 0, 1], intr)]);
  assert.ok(mean[2] > 0.98 && Math.abs(Math.hypot(...mean) - 1) < 1e-12);
});
