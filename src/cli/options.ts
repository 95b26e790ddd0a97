/** Option parsers and output helpers shared by the CLI commands. */
import { availableParallelism } from "node:os";
import { ConfigError } from "../core/errors.ts";

/** "640x480" → { width: 640, height: 480 }. */
export function parseSize(text: string, flag = "--size"): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/i.exec(text.trim());
  if (!m) throw new ConfigError(flag, `expected WxH such as 640x480, got "${text}"`);
  const width = Number(m[1]), height = Number(m[2]);
  if (width < 1 || height < 1 || width > 16384 || height > 16384) throw new ConfigError(flag, `each side must be in 1..16384, got ${text}`);
  return { width, height };
}

/** A positive integer flag value, within [min, max]. */
export function parseIntFlag(text: string, flag: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const v = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new ConfigError(flag, `expected an integer in ${min}..${max}, got "${text}"`);
  }
  return v;
}

export function parseThreads(text: string | undefined): number {
  return text === undefined ? availableParallelism() : parseIntFlag(text, "--threads", 1, 256);
}

/** `--json` output: exactly one JSON object on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Human output goes to stdout only when --json is off. */
export function say(json: boolean | undefined, line: string): void {
  if (!json) process.stdout.write(`${line}\n`);
}
