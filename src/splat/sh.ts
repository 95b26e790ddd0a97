/**
 * Real spherical-harmonics colour, degree 0–3, with the constants and sign conventions of the reference 3DGS
 * rasterizer, so colours match scenes trained with it. Coefficient k of `rest` multiplies basis function k+1.
 */
import { SH_C0 } from "./cloud.ts";

export { SH_C0 };
export const SH_C1 = 0.4886025119029199;
export const SH_C2 = [1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396] as const;
export const SH_C3 = [
  -0.5900435899266435, 2.890611442640554, -0.4570457994644658, 0.3731763325901154, -0.4570457994644658,
  1.445305721320277, -0.5900435899266435,
] as const;

/**
 * Fill `basis` (length ≥ (degree+1)²) with the SH basis values for unit direction (x, y, z).
 * basis[0] is Y₀⁰; the rest follow the 3DGS order (y, z, x, xy, yz, …).
 */
export function shBasis(degree: number, x: number, y: number, z: number, basis: Float64Array): void {
  basis[0] = SH_C0;
  if (degree < 1) return;
  basis[1] = -SH_C1 * y;
  basis[2] = SH_C1 * z;
  basis[3] = -SH_C1 * x;
  if (degree < 2) return;
  const xx = x * x,
    yy = y * y,
    zz = z * z,
    xy = x * y,
    yz = y * z,
    xz = x * z;
  basis[4] = SH_C2[0] * xy;
  basis[5] = SH_C2[1] * yz;
  basis[6] = SH_C2[2] * (2 * zz - xx - yy);
  basis[7] = SH_C2[3] * xz;
  basis[8] = SH_C2[4] * (xx - yy);
  if (degree < 3) return;
  basis[9] = SH_C3[0] * y * (3 * xx - yy);
  basis[10] = SH_C3[1] * xy * z;
  basis[11] = SH_C3[2] * y * (4 * zz - xx - yy);
  basis[12] = SH_C3[3] * z * (2 * zz - 3 * xx - 3 * yy);
  basis[13] = SH_C3[4] * x * (4 * zz - xx - yy);
  basis[14] = SH_C3[5] * z * (xx - yy);
  basis[15] = SH_C3[6] * x * (xx - 3 * yy);
}

/**
 * RGB of Gaussian `i` for the basis values of its view direction (from shBasis): Σ basis·coeff + 0.5, clamped
 * at 0 only, as the reference kernel does (no upper clamp). Evaluates up to `degree`; `storedDegree` (default
 * `degree`) is the degree `shRest` is laid out for. Writes out[o..o+2].
 */
export function shColor(
  degree: number,
  shDc: Float32Array,
  shRest: Float32Array,
  i: number,
  basis: Float64Array,
  out: Float32Array | Float64Array,
  o: number,
  storedDegree = degree,
): void {
  let r = SH_C0 * shDc[i * 3] + 0.5;
  let g = SH_C0 * shDc[i * 3 + 1] + 0.5;
  let b = SH_C0 * shDc[i * 3 + 2] + 0.5;
  const k = (degree + 1) * (degree + 1) - 1;
  const base = i * ((storedDegree + 1) * (storedDegree + 1) - 1) * 3;
  for (let c = 0; c < k; c++) {
    const w = basis[c + 1];
    r += w * shRest[base + c * 3];
    g += w * shRest[base + c * 3 + 1];
    b += w * shRest[base + c * 3 + 2];
  }
  out[o] = r > 0 ? r : 0;
  out[o + 1] = g > 0 ? g : 0;
  out[o + 2] = b > 0 ? b : 0;
}
