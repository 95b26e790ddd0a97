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

  /**
   * Sort; returns how many Gaussians are kept (the first entries of `order`): those beyond `near` and, when `cull`
   * is given, not provably off-screen. A Gaussian's footprint is at most 3.33 of its 2D standard deviations
   * (α ≥ 1/255 at opacity ≤ 0.99) plus the 1 px margin, and its 2D deviation at most
   * f·σmax·√(1 + lim²)/z + √0.3 px (lim: the Jacobian's 1.3× frustum clamp), so a centre farther than that
   * outside the image touches no pixel and culling it changes nothing.
   */
  sort(
    positions: Float32Array,
    view: ArrayLike<number>,
    near: number,
    cull?: { sigmaMax: Float32Array; fx: number; fy: number; cx: number; cy: number; width: number; height: number },
  ): number {
    const r0 = view[8], r1 = view[9], r2 = view[10], r3 = view[11];
    const a0 = view[0], a1 = view[1], a2 = view[2], a3 = view[3];
    const b0 = view[4], b1 = view[5], b2 = view[6], b3 = view[7];
    const { keys, order, zf, zu } = this;
    let kx = 0, ky = 0;
    if (cull) {
      const limX = Math.max(cull.width - cull.cx, cull.cx) / cull.fx + (0.3 * 0.5 * cull.width) / cull.fx;
      const limY = Math.max(cull.height - cull.cy, cull.cy) / cull.fy + (0.3 * 0.5 * cull.height) / cull.fy;
      kx = cull.fx * Math.sqrt(1 + limX * limX);
      ky = cull.fy * Math.sqrt(1 + limY * limY);
    }
    let n = 0;
    for (let i = 0; i < this.count; i++) {
      const px = positions[i * 3], py = positions[i * 3 + 1], pz = positions[i * 3 + 2];
      const z = r0 * px + r1 * py + r2 * pz + r3;
      if (!(z > near)) continue;
      if (cull) {
        const s = cull.sigmaMax[i] / z;
        const ex = 3.4 * (kx * s + 0.55) + 2, ey = 3.4 * (ky * s + 0.55) + 2;
        const u = (cull.fx * (a0 * px + a1 * py + a2 * pz + a3)) / z + cull.cx;
        const v = (cull.fy * (b0 * px + b1 * py + b2 * pz + b3)) / z + cull.cy;
        if (u < -ex || u > cull.width + ex || v < -ey || v > cull.height + ey) continue;
      }
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
