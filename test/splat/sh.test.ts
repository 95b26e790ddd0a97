import { test } from "node:test";
import assert from "node:assert/strict";
import { shBasis, shColor, SH_C0 } from "../../src/splat/sh.ts";

test("the degree-3 SH basis is orthonormal over the sphere (checks every constant)", () => {
  // Gauss–Legendre in cos θ would be exact; a fine midpoint grid is accurate to ~1e-5 and independent.
  const nT = 400, nP = 800;
  const gram = new Float64Array(16 * 16);
  const b = new Float64Array(16);
  for (let i = 0; i < nT; i++) {
    const ct = -1 + (2 * (i + 0.5)) / nT;
    const st = Math.sqrt(1 - ct * ct);
    for (let j = 0; j < nP; j++) {
      const phi = (2 * Math.PI * (j + 0.5)) / nP;
      shBasis(3, st * Math.cos(phi), st * Math.sin(phi), ct, b);
      for (let u = 0; u < 16; u++) for (let v = u; v < 16; v++) gram[u * 16 + v] += b[u] * b[v];
    }
  }
  const dA = (2 / nT) * ((2 * Math.PI) / nP);
  for (let u = 0; u < 16; u++)
    for (let v = u; v < 16; v++) {
      const g = gram[u * 16 + v] * dA;
      assert.ok(Math.abs(g - (u === v ? 1 : 0)) < 2e-4, `<Y${u}, Y${v}> = ${g}`);
    }
});

test("SH colour: degree-1 signs follow the reference (−y, +z, −x), offset 0.5, clamp at 0 only", () => {
  const dc = new Float32Array([1, 0, -10]);
  const rest = new Float32Array([0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5]); // coefficient k, channel innermost
  const b = new Float64Array(16);
  const out = new Float64Array(3);
  const x = 0.6, y = 0.0, z = 0.8;
  shBasis(1, x, y, z, b);
  shColor(1, dc, rest, 0, b, out, 0);
  const C1 = 0.4886025119029199;
  assert.ok(Math.abs(out[0] - (SH_C0 + 0.5 - C1 * y * 0.5)) < 1e-12);
  assert.ok(Math.abs(out[1] - (0.5 + C1 * z * 0.5)) < 1e-12);
  assert.equal(out[2], 0, "negative colours clamp to 0");
  // No upper clamp: a large DC stays above 1.
  shColor(0, new Float32Array([10, 10, 10]), new Float32Array(0), 0, b, out, 0);
  assert.ok(out[0] > 3);
  // Evaluating a degree-3 cloud at degree 1 reads the right stride.
  const rest3 = new Float32Array(2 * 15 * 3);
  rest3[15 * 3 + 1 * 3] = 1; // Gaussian 1, rest coefficient 1 (basis 2, the +z term), red
  shColor(1, new Float32Array(6), rest3, 1, b, out, 0, 3);
  assert.ok(Math.abs(out[0] - (0.5 + C1 * z)) < 1e-12);
});
