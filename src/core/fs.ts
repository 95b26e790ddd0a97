/** File-system helpers. Every output is written to a temporary sibling and renamed, so no reader ever sees half a file. */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname, basename, join } from "node:path";
import { randomBytes } from "node:crypto";
import { InvalidFileError, MissingFileError } from "./errors.ts";

/** The typed error for a failed open or read of `path`: missing, a directory, or unreadable for another reason. */
export function fileError(path: string, err: unknown): MissingFileError | InvalidFileError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return new MissingFileError(path);
  if (code === "EISDIR") return new InvalidFileError(path, "is a directory, expected a file");
  return new InvalidFileError(path, `cannot read (${code ?? String(err)})`, { cause: err });
}

/** The bytes of `path`, with fileError's typed errors. */
export function readFileChecked(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw fileError(path, err);
  }
}

/** The UTF-8 text of `path`, with fileError's typed errors. */
export function readTextChecked(path: string): string {
  return readFileChecked(path).toString("utf8");
}

/** The parsed JSON of `path`; an empty file or invalid JSON is an InvalidFileError naming it. */
export function readJsonChecked(path: string): unknown {
  const text = readTextChecked(path);
  if (text.trim() === "") throw new InvalidFileError(path, "empty file");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidFileError(path, `not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

/** Write `data` (one buffer or a sequence of chunks) to `path` atomically: temp file, fsync-free write, rename. */
export function writeFileAtomic(path: string, data: Uint8Array | string | Iterable<Uint8Array>): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  const fd = openSync(tmp, "w");
  try {
    const chunks: Iterable<Uint8Array | string> =
      typeof data === "string" || data instanceof Uint8Array ? [data] : data;
    for (const chunk of chunks) {
      if (typeof chunk === "string") writeSync(fd, chunk);
      else {
        let off = 0;
        while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
      }
    }
    closeSync(fd);
    renameSync(tmp, path);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    rmSync(tmp, { force: true });
    throw err;
  }
}
