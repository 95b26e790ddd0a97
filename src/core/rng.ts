/**
 * Seeded pseudo-random numbers. Every random choice in rtgs2 (synthetic scenes, sampling, initialisation,
 * augmentation) draws from an `Rng`, so one seed reproduces a whole run.
 *
 * Generator: xoshiro128** (Blackman & Vigna), 128-bit state, seeded through splitmix32 so that nearby seeds
 * give unrelated streams. Only 32-bit integer operations (`Math.imul`, shifts, `>>> 0`) touch the state, so
 * `next()`, `uniform()`, `int()` and `shuffle()` give bit-identical results on every platform and engine.
 * `normal()` also uses `Math.log`, `Math.sin` and `Math.cos`; V8 computes these in software (fdlibm), so
 * Node agrees across platforms, but another JS engine may differ in the last bit.
 */
import { ConfigError } from "./errors.ts";

/** The whole generator state, as plain JSON (checkpoints store it in their metadata). */
export interface RngState {
  /** The four xoshiro128** state words, each an unsigned 32-bit integer, not all zero. */
  s: [number, number, number, number];
  /** Second Box–Muller deviate not yet returned by `normal()`, or null. Part of the state so a restore is exact. */
  spare: number | null;
}

/** Anything indexable and writable with a length: plain arrays and every typed array. */
export interface MutableArrayLike<T> {
  readonly length: number;
  [index: number]: T;
}

const TWO_POW_32 = 4294967296;
const TWO_POW_NEG_53 = 1 / 9007199254740992;

/** splitmix32 step: a well-mixed 32-bit output from a 32-bit counter (used only for seeding). */
function splitmix32(state: { x: number }): number {
  state.x = (state.x + 0x9e3779b9) >>> 0;
  let z = state.x;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/**
 * Hash a string to 32 bits (UTF-16 code units fed through a murmur3-style mix). Used for string seeds and fork
 * labels; `basis` lets two passes with different bases give two independent words.
 */
function hashString(text: string, basis: number): number {
  let h = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    let k = Math.imul(text.charCodeAt(i), 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h ^= k;
    h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) >>> 0;
  }
  h ^= text.length;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Fill a 4-word state from two 32-bit seed words; splitmix32 never yields four zeros in a row from one run. */
function seedState(lo: number, hi: number): [number, number, number, number] {
  const sm = { x: (lo ^ Math.imul(hi, 0x85ebca6b)) >>> 0 };
  // Mixing `hi` in a second time keeps seeds differing only in the high word apart after the first output.
  const s: [number, number, number, number] = [
    splitmix32(sm),
    (splitmix32(sm) ^ hi) >>> 0,
    splitmix32(sm),
    splitmix32(sm),
  ];
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
  return s;
}

/** A seeded, forkable, serializable pseudo-random generator. */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare: number | null = null;

  /**
   * @param seed a non-negative integer up to 2^53 − 1 (all 53 bits count) or any string. The same seed always
   *   gives the same stream.
   */
  constructor(seed: number | string = 0) {
    let lo: number, hi: number;
    if (typeof seed === "string") {
      lo = hashString(seed, 0x2545f491);
      hi = hashString(seed, 0x9e3779b9);
    } else {
      if (!Number.isSafeInteger(seed) || seed < 0) {
        throw new ConfigError("seed", `must be a non-negative integer below 2^53 or a string, got ${seed}`);
      }
      lo = seed >>> 0;
      hi = Math.floor(seed / TWO_POW_32) >>> 0;
    }
    [this.s0, this.s1, this.s2, this.s3] = seedState(lo, hi);
  }

  /** Next raw output: an unsigned 32-bit integer, uniform over [0, 2^32). */
  next(): number {
    const s0 = this.s0,
      s1 = this.s1,
      s2 = this.s2,
      s3 = this.s3;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    this.s1 = (s1 ^ n2) >>> 0;
    this.s0 = (s0 ^ n3) >>> 0;
    this.s2 = (n2 ^ t) >>> 0;
    this.s3 = ((n3 << 11) | (n3 >>> 21)) >>> 0;
    return result;
  }

  /** A double uniform in [lo, hi), from 53 random bits (so every representable step in [0, 1) is reachable). */
  uniform(lo = 0, hi = 1): number {
    const a = this.next() >>> 5; // 27 bits
    const b = this.next() >>> 6; // 26 bits
    const u = (a * 67108864 + b) * TWO_POW_NEG_53;
    return lo + (hi - lo) * u;
  }

  /** A uniform integer in [0, n), without modulo bias. `n` must be an integer in 1..2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new ConfigError("n", `must be an integer in 1..2^32, got ${n}`);
    }
    // Reject the top partial block of 2^32 so every residue is equally likely.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.next();
      if (x < limit) return x % n;
    }
  }

  /** true with probability p. */
  bernoulli(p: number): boolean {
    return this.uniform() < p;
  }

  /**
   * A normal deviate (Box–Muller). Each pair of uniforms yields two deviates; the second is kept in the state
   * (and in `getState()`), so a restored generator continues exactly.
   */
  normal(mean = 0, std = 1): number {
    let z: number;
    if (this.spare !== null) {
      z = this.spare;
      this.spare = null;
    } else {
      // 1 − u lies in (0, 1], so the logarithm is finite.
      const r = Math.sqrt(-2 * Math.log(1 - this.uniform()));
      const theta = 2 * Math.PI * this.uniform();
      z = r * Math.cos(theta);
      this.spare = r * Math.sin(theta);
    }
    return mean + std * z;
  }

  /** Fill `out` with normal deviates (same sequence as calling `normal()` repeatedly); returns `out`. */
  fillNormal<A extends MutableArrayLike<number>>(out: A, mean = 0, std = 1): A {
    for (let i = 0; i < out.length; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** Fill `out` with uniforms in [lo, hi); returns `out`. */
  fillUniform<A extends MutableArrayLike<number>>(out: A, lo = 0, hi = 1): A {
    for (let i = 0; i < out.length; i++) out[i] = this.uniform(lo, hi);
    return out;
  }

  /** Shuffle in place (Fisher–Yates) and return the same array. Works on plain and typed arrays. */
  shuffle<A extends MutableArrayLike<unknown>>(array: A): A {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(array: ArrayLike<T>): T {
    if (array.length === 0) throw new ConfigError("array", "cannot pick from an empty array");
    return array[this.int(array.length)];
  }

  /**
   * An independent generator for a named sub-task ("layout", "scene-3", …). It depends on this generator's
   * current state and on `label` only, and does not advance this generator: adding or removing a fork never
   * changes the numbers other code draws from the parent, and forking twice with one label gives two equal
   * streams.
   */
  fork(label: string): Rng {
    const child = new Rng(0);
    const h0 = hashString(label, this.s0 ^ 0x632be59b);
    const h1 = hashString(label, this.s2 ^ 0x85157af5);
    const a = seedState((h0 ^ this.s1) >>> 0, (h1 ^ this.s3) >>> 0);
    const b = seedState((this.s0 ^ h1) >>> 0, (this.s2 ^ h0) >>> 0);
    // Combining two seedings keeps all 128 parent bits influential while splitmix32 works on 64 at a time.
    const s: [number, number, number, number] = [
      (a[0] ^ b[2]) >>> 0,
      (a[1] ^ b[3]) >>> 0,
      (a[2] ^ b[0]) >>> 0,
      (a[3] ^ b[1]) >>> 0,
    ];
    if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
    child.setState({ s, spare: null });
    return child;
  }

  /** A copy of the state as plain JSON data. */
  getState(): RngState {
    return { s: [this.s0, this.s1, this.s2, this.s3], spare: this.spare };
  }

  /** Restore a state from `getState()` (also after a JSON round trip). Throws ConfigError on a malformed state. */
  setState(state: RngState): void {
    const s: unknown = (state as { s?: unknown } | null)?.s;
    if (!Array.isArray(s) || s.length !== 4) throw new ConfigError("rng.s", "must be an array of 4 integers");
    for (const w of s) {
      if (!Number.isInteger(w) || w < 0 || w >= TWO_POW_32) {
        throw new ConfigError("rng.s", `must hold unsigned 32-bit integers, got ${String(w)}`);
      }
    }
    if ((s[0] | s[1] | s[2] | s[3]) === 0) throw new ConfigError("rng.s", "must not be all zero");
    const spare: unknown = state.spare ?? null;
    if (spare !== null && !(typeof spare === "number" && Number.isFinite(spare))) {
      throw new ConfigError("rng.spare", `must be a finite number or null, got ${String(spare)}`);
    }
    [this.s0, this.s1, this.s2, this.s3] = s as [number, number, number, number];
    this.spare = spare;
  }

  /** A generator restored from a saved state. */
  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }

  /** An independent copy at the same position. */
  clone(): Rng {
    return Rng.fromState(this.getState());
  }
}
