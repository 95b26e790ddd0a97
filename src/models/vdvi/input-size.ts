/**
 * The VDVI input size for a view. Pure (no Node modules), so the browser viewer bundles the same rule that
 * `Segmenter` uses in Node.
 */

/** Render size for a camera: the network's size at the same aspect (within 2 %), else ≈ its pixel count at the camera's aspect, each side a multiple of 32. */
export function segmentSize(config: { width: number; height: number }, camera: { width: number; height: number }): { width: number; height: number } {
  const a = camera.width / camera.height;
  const b = config.width / config.height;
  if (Math.abs(a / b - 1) < 0.02) return { width: config.width, height: config.height };
  const area = config.width * config.height;
  const h = Math.max(32, Math.round(Math.sqrt(area / a) / 32) * 32);
  const w = Math.max(32, Math.round((h * a) / 32) * 32);
  return { width: w, height: h };
}
