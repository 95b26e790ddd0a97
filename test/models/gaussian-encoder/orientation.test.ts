/**
 * Orientation for up-axis encoders: rotations against hand-computed matrices, snapping, the encoder's up from
 * checkpoint metadata, and the scene's up from level cameras.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "../../../src/core/errors.ts";
import { lookAtCamera } from "../../../src/core/camera.ts";
import { rotationBetween, type Vec3 } from "../../../src/core/math.ts";
import { Rng } from "../../../src/core/rng.ts";
import {
  alignmentRotation,
  encoderUp,
  parseUpChoice,
  rotatePositions,
  sceneUp,
  snapToAxis,
} from "../../../src/models/gaussian-encoder/orientation.ts";

const apply = (r: Float64Array, v: Vec3): Vec3 => [0, 1, 2].map((i) => r[i * 3] * v[0] + r[i * 3 + 1] * v[1] + r[i * 3 + 2] * v[2]) as Vec3;
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-12): void => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `[${i}] ${a[i]} vs ${b[i]}`);
};

test("rotationBetween: z-up to y-up is a −90° turn about x (hand-written); random pairs land exactly; opposite directions", () => {
  close(rotationBetween([0, 0, 1], [0, 1, 0]), [1, 0, 0, 0, 0, 1, 0, -1, 0], 1e-15);
  close(rotationBetween([0, 1, 0], [0, 1, 0]), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  const rng = new Rng("rotation-between");
  for (let t = 0; t < 20; t++) {
    const a: Vec3 = [rng.normal(), rng.normal(), rng.normal()];
    const b: Vec3 = t % 5 === 0 ? [-a[0], -a[1], -a[2]] : [rng.normal(), rng.normal(), rng.normal()];
    const r = rotationBetween(a, b);
    const ra = apply(r, a);
    const nb = Math.hypot(...b) / Math.hypot(...a);
    close(ra, b.map((x) => x / nb), 1e-12);
    // Orthonormal with determinant 1: a rotation, not a reflection.
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        const dot = r[i * 3] * r[j * 3] + r[i * 3 + 1] * r[j * 3 + 1] + r[i * 3 + 2] * r[j * 3 + 2];
        assert.ok(Math.abs(dot - (i === j ? 1 : 0)) < 1e-12);
      }
    const det = r[0] * (r[4] * r[8] - r[5] * r[7]) - r[1] * (r[3] * r[8] - r[5] * r[6]) + r[2] * (r[3] * r[7] - r[4] * r[6]);
    assert.ok(Math.abs(det - 1) < 1e-12);
  }
});

test("snapToAxis: within 15° of an axis gives the signed axis exactly, farther keeps the (normalized) direction", () => {
  const at = (deg: number): Vec3 => [Math.sin((deg * Math.PI) / 180), 0, -Math.cos((deg * Math.PI) / 180)];
  assert.deepEqual(snapToAxis(at(14)), [0, 0, -1]);
  const far = snapToAxis(at(16));
  close(far, at(16));
  assert.deepEqual(snapToAxis([0, 2, 0.1]), [0, 1, 0]);
});

test("encoderUp: +axis for a fixed rotation axis; none for random-axis, older or untrained encoders", () => {
  assert.deepEqual(encoderUp({ pretrain: JSON.stringify({ rotationAxis: "y", lr: 0.001 }) }), [0, 1, 0]);
  assert.deepEqual(encoderUp({ pretrain: JSON.stringify({ rotationAxis: "z" }) }), [0, 0, 1]);
  assert.equal(encoderUp({ pretrain: JSON.stringify({ rotationAxis: "random" }) }), undefined);
  assert.equal(encoderUp({ pretrain: JSON.stringify({ lr: 0.001 }) }), undefined);
  assert.equal(encoderUp({ pretrain: "{not json" }), undefined);
  assert.equal(encoderUp({}), undefined);
});

test("sceneUp: level cameras around a z-up room give +z; tilted ones a snapped or exact up; explicit axes; none", () => {
  const intr = { width: 64, height: 48, fx: 50 };
  const ring = (up: Vec3, lift: number) =>
    Array.from({ length: 8 }, (_, i) => {
      const a = (i / 8) * 2 * Math.PI;
      const eye: Vec3 = up[2] === 1 ? [3 * Math.cos(a), 3 * Math.sin(a), 1.5] : [3 * Math.cos(a), 1.5, 3 * Math.sin(a)];
      const target: Vec3 = up[2] === 1 ? [0, 0, 1.5 - lift] : [0, 1.5 - lift, 0];
      return lookAtCamera(eye, target, up, intr);
    });
  // Looking 20° down all round: every image up leans inwards, the mean is gravity again.
  assert.deepEqual(sceneUp("auto", ring([0, 0, 1], 1.1)), [0, 0, 1]);
  assert.deepEqual(sceneUp("auto", ring([0, 1, 0], 0)), [0, 1, 0]);
  // Cameras all pitched 30° about one axis: not snapped, the tilted up itself.
  const tilted = [lookAtCamera([0, 0, 0], [0, 1, Math.tan(Math.PI / 6)], [0, 0, 1], intr)];
  const up = sceneUp("auto", tilted);
  assert.ok(up !== undefined);
  close(up, [0, -Math.sin(Math.PI / 6), Math.cos(Math.PI / 6)], 1e-9);
  assert.deepEqual(sceneUp("-z", []), [0, 0, -1]);
  assert.deepEqual(sceneUp("+x", undefined), [1, 0, 0]);
  assert.equal(sceneUp("none", ring([0, 0, 1], 0)), undefined);
  assert.equal(sceneUp("auto", []), undefined);
  assert.throws(() => parseUpChoice("up"), (e: unknown) => e instanceof ConfigError && /\+y/.test(e.message));
});

test("alignmentRotation and rotatePositions: turn z-up points to y-up, identity needs no rotation, others shared", () => {
  assert.equal(alignmentRotation([0, 1, 0], [0, 1, 0]), undefined);
  assert.equal(alignmentRotation(undefined, [0, 1, 0]), undefined);
  assert.equal(alignmentRotation([0, 0, 1], undefined), undefined);
  const r = alignmentRotation([0, 0, 1], [0, 1, 0]);
  assert.ok(r !== undefined);
  const cloud = {
    count: 2,
    positions: Float32Array.from([1, 2, 3, -4, 5, -6]),
    shDc: new Float32Array(6),
    opacityLogits: new Float32Array(2),
    logScales: new Float32Array(6),
  };
  const turned = rotatePositions(cloud, r);
  // (x, y, z) → (x, z, −y): a point 3 m above a z-up floor is 3 m above the y-up one.
  close(turned.positions, [1, 3, -2, -4, -6, -5], 1e-6);
  assert.equal(turned.shDc, cloud.shDc);
  assert.deepEqual([...cloud.positions], [1, 2, 3, -4, 5, -6], "input untouched");
});
