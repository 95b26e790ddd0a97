/**
 * Dropout and DropPath (stochastic depth), both seeded through a jax-js PRNG key so a training step is a pure
 * function of its inputs: the same key gives the same mask, in and out of `jit`.
 */
import { numpy as np, random } from "../jax.ts";
import { ConfigError } from "../../core/errors.ts";

function checkRate(where: string, rate: number): void {
  if (!(rate >= 0 && rate < 1)) throw new ConfigError(where, `rate must be in [0, 1), got ${rate}`);
}

/**
 * Zero each element with probability `rate` and scale the rest by 1/(1 − rate). Identity (the key is
 * disposed) when not training or when rate is 0.
 */
export function dropout(x: np.Array, rate: number, key: np.Array, train: boolean): np.Array {
  checkRate("dropout", rate);
  if (!train || rate === 0) {
    key.dispose();
    return x;
  }
  const keep = random.bernoulli(key, 1 - rate, x.shape);
  return np.where(keep, x.mul(1 / (1 - rate)), 0);
}

/**
 * Drop the whole residual branch of each sample (first axis) with probability `rate`, scaling survivors by
 * 1/(1 − rate), as timm's `drop_path`.
 */
export function dropPath(x: np.Array, rate: number, key: np.Array, train: boolean): np.Array {
  checkRate("dropPath", rate);
  if (!train || rate === 0) {
    key.dispose();
    return x;
  }
  const maskShape = [x.shape[0], ...x.shape.slice(1).map(() => 1)];
  const keep = random.bernoulli(key, 1 - rate, maskShape);
  return np.where(keep, x.mul(1 / (1 - rate)), 0);
}
