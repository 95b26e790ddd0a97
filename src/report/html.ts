/** HTML text helpers: escaping and number formatting. Every string that reaches the page goes through `esc`. */

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escape text for an HTML text node or a quoted attribute value. */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** A number with `digits` decimals, or "—" when it is not finite. */
export function fmt(value: number | undefined, digits = 2): string {
  return value === undefined || !Number.isFinite(value) ? "—" : value.toFixed(digits);
}

/** A 0–255 colour as `#rrggbb`. */
export function hex(color: readonly [number, number, number]): string {
  return `#${color.map((c) => Math.max(0, Math.min(255, Math.round(c))).toString(16).padStart(2, "0")).join("")}`;
}
