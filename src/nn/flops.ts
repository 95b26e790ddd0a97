/**
 * A FLOP counter that works from layer shapes: each layer reports the multiply-adds of one call for an input
 * shape (`macs`: conv and linear only, the convention of published GMAC figures; `macsAll`: plus attention
 * products, norms and resizes), and the counter sums them by path.
 */
import type { MacCount } from "./layers/common.ts";

/** One entry of a FLOP count. */
export interface FlopEntry {
  path: string;
  macs: number;
  macsAll: number;
}

/** Accumulates multiply-adds per layer path. FLOPs are 2 × MACs (ARCHITECTURE.md §5). */
export class FlopCounter {
  readonly entries: FlopEntry[] = [];

  /** Record one layer call. */
  add(path: string, count: MacCount): void {
    this.entries.push({ path, macs: count.macs, macsAll: count.macsAll });
  }

  /** Multiply-adds of conv and linear layers. */
  get macs(): number {
    return this.entries.reduce((a, e) => a + e.macs, 0);
  }

  /** Multiply-adds including attention products, norms and resizes. */
  get macsAll(): number {
    return this.entries.reduce((a, e) => a + e.macsAll, 0);
  }

  /** FLOPs (2 per multiply-add) of conv and linear layers. */
  get flops(): number {
    return 2 * this.macs;
  }

  /** Totals under each path prefix (e.g. the branches of a network). */
  byPrefix(prefixes: readonly string[]): Record<string, MacCount> {
    const out: Record<string, MacCount> = {};
    for (const p of prefixes) {
      const sel = this.entries.filter((e) => e.path === p || e.path.startsWith(`${p}.`));
      out[p] = { macs: sel.reduce((a, e) => a + e.macs, 0), macsAll: sel.reduce((a, e) => a + e.macsAll, 0) };
    }
    return out;
  }
}
