/** Activations: GELU (tanh approximation and exact), ReLU, sigmoid, softmax. */
import { numpy as np, nn, lax } from "../jax.ts";

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** GELU. `approximate: true` is the tanh form; the default is the exact erf form (PyTorch's default). */
export function gelu(x: np.Array, approximate = false): np.Array {
  if (approximate) {
    const inner = x.ref.add(np.power(x.ref, 3).mul(0.044715)).mul(SQRT_2_OVER_PI);
    return x.mul(np.tanh(inner).add(1)).mul(0.5);
  }
  return x.ref.mul(lax.erf(x.mul(Math.SQRT1_2)).add(1)).mul(0.5);
}

/** Odd minimax-style fit of erf on [0, 3] in powers z, z³, …, z¹⁷ (erf error ≤ 1.7e-5 with z clamped to ±3). */
const ERF_POLY = [
  1.128268513642068, -0.37531542128644263, 0.1110803015497432, -0.02510361533860063, 0.004235735090315689, -0.0005111072833526246,
  4.1069620581107684e-5, -1.945441639804313e-6, 4.0759339403617645e-8,
];

/**
 * The exact (erf) GELU to within 5e-5 absolute (float32) — ten times closer than the tanh form — from a clamped odd
 * polynomial: no exp, erf or tanh, which jax-js's wasm backend evaluates far slower than multiply-adds (on
 * lite's 80×60×128 ConvNeXt hidden map: ~3.5× faster than `gelu`, measured). The networks use this one.
 */
export function geluFast(x: np.Array): np.Array {
  const z = np.clip(x.ref.mul(Math.SQRT1_2), -3, 3);
  const s = z.ref.mul(z.ref);
  let p = s.ref.mul(ERF_POLY[8]).add(ERF_POLY[7]);
  for (let k = 6; k >= 0; k--) p = p.mul(s.ref).add(ERF_POLY[k]);
  s.dispose();
  return x.mul(z.mul(p).add(1)).mul(0.5);
}

/** max(x, 0). */
export function relu(x: np.Array): np.Array {
  return nn.relu(x);
}

/** 1 / (1 + e^−x). */
export function sigmoid(x: np.Array): np.Array {
  return nn.sigmoid(x);
}

/** Softmax along `axis` (default last), max-subtracted for stability. */
export function softmax(x: np.Array, axis = -1): np.Array {
  const shifted = x.ref.sub(lax.stopGradient(np.max(x, axis, { keepdims: true })));
  const e = np.exp(shifted);
  return e.ref.div(np.sum(e, axis, { keepdims: true }));
}
