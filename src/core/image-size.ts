/** Image sizes as users type them. */
import { ConfigError } from "./errors.ts";

/** "640x480" → { width: 640, height: 480 }; `flag` names the option in the error. */
export function parseSize(text: string, flag = "--size"): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/i.exec(text.trim());
  if (!m) throw new ConfigError(flag, `expected WxH such as 640x480, got "${text}"`);
  const width = Number(m[1]), height = Number(m[2]);
  if (width < 1 || height < 1 || width > 16384 || height > 16384) throw new ConfigError(flag, `each side must be in 1..16384, got ${text}`);
  return { width, height };
}
