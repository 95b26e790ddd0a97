/**
 * Global front-to-back order of the Gaussians for one view: view depth z = row 2 of the world-to-camera times
 * the centre, Gaussians at z ≤ near dropped, then a stable LSD radix sort (2 passes of 16 bits) on the float
 * bits of z (positive floats order as their bits). Stable, so equal depths stay in index order, the CPU
 * renderer's tie rule.
 */
export class DepthSorter {
  private keys: Uint32Array;
  private keys2: Uint32Array;
  private ids2: Uint32Array;
  readonly order: Uint32Array;
  private readonly zf = new Float32Array(1);
  private readonly zu = new Uint32Array(this.zf.buffer);
  private readonly hist = new Uint32Array(65536);

  constructor(readonly count: number) {
    this.keys = new Uint32Array(count);
    this.keys2 = new Uint32Array(count);
    this.ids2 = new Uint32Array(count);
    this.order = new Uint32Array(count);
  }

  /** Sort; returns how many Gaussians lie beyond `near` (the first entries of `order`). */
  sort(positions: Float32Array, view: ArrayLike<number>, near: number): number {
    const r0 = view[8], r1 = view[9], r2 = view[10], r3 = view[11];
    const { keys, order, zf, zu } = this;
    let n = 0;
    for (let i = 0; i < this.count; i++) {
      const z = r0 * positions[i * 3] + r1 * positions[i * 3 + 1] + r2 * positions[i * 3 + 2] + r3;
      if (!(z > near)) continue;
      zf[0] = z;
      keys[n] = zu[0];
      order[n] = i;
      n++;
    }
    this.pass(keys, order, this.keys2, this.ids2, n, 0);
    this.pass(this.keys2, this.ids2, keys, order, n, 16);
    return n;
  }

  private pass(kin: Uint32Array, iin: Uint32Array, kout: Uint32Array, iout: Uint32Array, n: number, shift: number): void {
    const h = this.hist;
    h.fill(0);
    for (let i = 0; i < n; i++) h[(kin[i] >>> shift) & 0xffff]++;
    let sum = 0;
    for (let b = 0; b < 65536; b++) {
      const c = h[b];
      h[b] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const k = kin[i];
      const at = h[(k >>> shift) & 0xffff]++;
      kout[at] = k;
      iout[at] = iin[i];
    }
  }
}
