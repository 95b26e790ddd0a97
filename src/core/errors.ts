/**
 * Typed errors. Every error caused by bad input names the file (or other source) and what was wrong with it,
 * so the CLI can print one precise line and a library user can branch on the class.
 */

/** Base class of every error rtgs2 raises on purpose. `exitCode` is what the CLI exits with. */
export class Rtgs2Error extends Error {
  readonly exitCode: number = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A file (or in-memory buffer) that cannot be read as what it claims to be: truncated, wrong magic, NaN, … */
export class InvalidFileError extends Rtgs2Error {
  override readonly exitCode = 2;
  constructor(
    /** Path of the offending file, or a descriptive name for in-memory data. */
    readonly file: string,
    /** What is wrong, without the file name: "truncated: 1024 of 4096 bytes". */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${reason}`, options);
  }
}

/** A format is recognised but a feature of it is not supported (e.g. spz SH degree 4). */
export class UnsupportedFormatError extends InvalidFileError {}

/** A required file or folder is missing. */
export class MissingFileError extends Rtgs2Error {
  override readonly exitCode = 2;
  constructor(
    readonly file: string,
    readonly reason = "no such file or directory",
  ) {
    super(`${file}: ${reason}`);
  }
}

/** A bad option, flag or configuration value; `field` names it. */
export class ConfigError extends Rtgs2Error {
  override readonly exitCode = 2;
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

/** Two arrays, images or tensors whose shapes must agree but do not. */
export class ShapeError extends Rtgs2Error {
  override readonly exitCode = 2;
  constructor(
    readonly where: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${where}: expected shape ${expected}, got ${actual}`);
  }
}

/** `value` when it is one of `choices`, else a ConfigError naming `field`, the choices and the value. */
export function parseChoice<T extends string>(choices: readonly T[], value: string, field: string): T {
  const found = choices.find((c) => c === value);
  if (found === undefined) throw new ConfigError(field, `expected one of ${choices.join(", ")}, got "${value}"`);
  return found;
}
