import { test } from "node:test";
import assert from "node:assert/strict";
import { rasterizeMesh } from "../../src/scenes/mesh-raster.ts";
import { projectPoint, type Camera } from "../../src/core/camera.ts";

/** Identity pose: camera coordinates are world coordinates. 8×6 pixels, fx = fy = 4, principal point at the centre. */
function identityCamera(): Camera {
  const viewMatrix = new Float64Array(16);
  viewMatrix[0] = viewMatrix[5] = viewMatrix[10] = viewMatrix[15] = 1;
  return { width: 8, height: 6, fx: 4, fy: 4, cx: 4, cy: 3, viewMatrix };
}

const mesh = (pts: number[]) => ({ positions: Float32Array.from(pts), indices: Uint32Array.from(pts.map((_, i) => i).slice(0, pts.length / 3)) });

test("a fronto-parallel triangle covers exactly the pixel centres inside it, at its planar depth", () => {
  // Vertices project to (4, 3), (8, 3), (4, 6): the pixel centres (i + 0.5, j + 0.5) with
  // (i + 0.5 − 4)/4 + (j + 0.5 − 3)/3 ≤ 1 are (4,3) (5,3) (6,3) (4,4) (5,4) (4,5), worked out by hand.
  const r = rasterizeMesh(mesh([0, 0, 2, 2, 0, 2, 0, 1.5, 2]), identityCamera());
  const covered: string[] = [];
  for (let j = 0; j < 6; j++) for (let i = 0; i < 8; i++) if (r.triangle[j * 8 + i] === 0) covered.push(`${i},${j}`);
  assert.deepEqual(covered, ["4,3", "5,3", "6,3", "4,4", "5,4", "4,5"]);
  for (const key of covered) {
    const [i, j] = key.split(",").map(Number);
    assert.equal(r.depth[j * 8 + i], 2);
  }
  assert.equal(r.depth[0], 0);
  assert.equal(r.triangle[0], -1);
});

test("depth is planar camera z, exact on a slanted triangle", () => {
  // Plane z = 2 + x. Along the ray through pixel centre u: x = (u − cx)/fx · z, so z = 2 / (1 − (u − cx)/fx).
  const r = rasterizeMesh(mesh([-1.5, -3, 0.5, 3, -3, 5, 0, 4, 2]), identityCamera());
  for (const i of [3, 4, 5]) {
    const u = i + 0.5;
    const expected = 2 / (1 - (u - 4) / 4);
    assert.ok(Math.abs(r.depth[3 * 8 + i] - expected) < 1e-5, `pixel ${i}: ${r.depth[3 * 8 + i]} vs ${expected}`);
  }
});

test("the nearer triangle wins and the near plane clips", () => {
  const far = [-10, -10, 5, 10, -10, 5, 0, 10, 5];
  const near = [-10, -10, 3, 10, -10, 3, 0, 10, 3];
  const r = rasterizeMesh(mesh([...far, ...near]), identityCamera());
  assert.ok(r.triangle.every((t) => t === 1));
  assert.ok(r.depth.every((d) => d === 3));
  // A triangle crossing the near plane (z from 0.1 to 1): only the part with z ≥ 0.2 is drawn, with no depth below it.
  const crossing = rasterizeMesh(mesh([-1, -1, 0.1, 1, -1, 0.1, 0, 1, 1]), identityCamera(), { near: 0.2 });
  const depths = Array.from(crossing.depth).filter((d) => d > 0);
  assert.ok(depths.length > 0);
  assert.ok(Math.min(...depths) >= 0.2 - 1e-9);
});

test("pixel centres follow the splat renderer's convention: a vertex projected onto a pixel centre is covered", () => {
  const cam = identityCamera();
  // A small triangle whose first vertex lies exactly at the centre of pixel (2, 1).
  const p0: [number, number, number] = [((2.5 - 4) / 4) * 2, ((1.5 - 3) / 4) * 2, 2];
  const { u, v } = projectPoint(cam, p0);
  assert.equal(u, 2.5);
  assert.equal(v, 1.5);
  const r = rasterizeMesh(mesh([...p0, p0[0] + 0.2, p0[1], 2, p0[0], p0[1] + 0.2, 2]), cam);
  assert.equal(r.triangle[1 * 8 + 2], 0);
  assert.equal(r.triangle.filter((t) => t === 0).length, 1);
});
