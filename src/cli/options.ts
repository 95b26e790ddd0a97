/** Option parsers and output helpers shared by the CLI commands. */
import { availableParallelism } from "node:os";
import { ConfigError } from "../core/errors.ts";

export { parseSize } from "../core/image-size.ts";

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
