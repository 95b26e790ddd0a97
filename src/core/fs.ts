/** File-system helpers. Every output is written to a temporary sibling and renamed, so no reader ever sees half a file. */
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname, basename, join } from "node:path";
import { randomBytes } from "node:crypto";

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
