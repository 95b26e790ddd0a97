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
