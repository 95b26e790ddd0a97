/**
 * Live segmentation's pure parts (no DOM, no GPU; tested in Node): the per-Gaussian feature channels as vec4
 * colour sets the splat renderers blend (3 channels a pass), the network inputs assembled from those passes'
 * read-backs the way `Segmenter` prepares a CPU render, the network's input size for a view, and the overlay.
 */

/** Channels blended per offscreen pass (the fourth target channel carries 1 − T for the blend). */
export const CHANNELS_PER_PASS = 3;

/** Interleaved features `[N·C]` → ⌈C/3⌉ vec4 colour sets `[N·4]` (channels 3k..3k+2 in xyz, w = 0). */
export function featureChannelSets(features: Float32Array, channels: number, count: number): Float32Array[] {
  const sets: Float32Array[] = [];
  for (let k = 0; k * CHANNELS_PER_PASS < channels; k++) {
    const s = new Float32Array(count * 4);
    for (let i = 0; i < count; i++) {
      for (let j = 0; j < CHANNELS_PER_PASS; j++) {
        const c = k * CHANNELS_PER_PASS + j;
        if (c < channels) s[i * 4 + j] = features[i * channels + c];
      }
    }
    sets.push(s);
  }
  return sets;
}

/**
 * Network inputs from the read-backs of one RGB pass and the ⌈C/3⌉ feature passes (each `[P·4]`, premultiplied
 * sums and 1 − T): RGB over a black background, clamped to [0, 1] and rounded to 8 bits (what `Segmenter` feeds
 * the network), and the features as rendered (Σ f·α·T, no background), interleaved `[P·C]`.
 */
export function networkInputs(rgbPass: Float32Array, featurePasses: Float32Array[], channels: number): { rgb: Float32Array; features: Float32Array } {
  const P = rgbPass.length / 4;
  const rgb = new Float32Array(P * 3);
  for (let i = 0; i < P; i++) {
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Math.round(Math.min(1, Math.max(0, rgbPass[i * 4 + c])) * 255) / 255;
  }
  const features = new Float32Array(P * channels);
  for (let c = 0; c < channels; c++) {
    const pass = featurePasses[Math.floor(c / CHANNELS_PER_PASS)];
    const j = c % CHANNELS_PER_PASS;
    for (let i = 0; i < P; i++) features[i * channels + c] = pass[i * 4 + j];
  }
  return { rgb, features };
}

/** RGBA8 overlay of per-pixel classes: `colors[k]` (0–255) at full alpha. */
export function labelOverlay(labels: Uint16Array, colors: (k: number) => readonly [number, number, number]): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(labels.length * 4);
  for (let i = 0; i < labels.length; i++) {
    const c = colors(labels[i]);
    out[i * 4] = c[0];
    out[i * 4 + 1] = c[1];
    out[i * 4 + 2] = c[2];
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** Pixel share of each class, largest first (the legend's order). */
export function classShares(labels: Uint16Array): { id: number; share: number }[] {
  const counts = new Map<number, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return [...counts.entries()].map(([id, n]) => ({ id, share: n / labels.length })).sort((x, y) => y.share - x.share || x.id - y.id);
}
