/**
 * ByteSource: random-access reads from a file or an in-memory buffer. Readers pull bounded chunks through it,
 * so a large file never has to sit in memory as one buffer or string, and the same reader code runs in a browser.
 */
import { fileError } from "../../core/fs.ts";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { InvalidFileError } from "../../core/errors.ts";

export interface ByteSource {
  /** The file path or a descriptive name, used in every error message. */
  readonly name: string;
  readonly size: number;
  /** Exactly `length` bytes at `offset`; throws InvalidFileError("truncated …") if the source is shorter. */
  read(offset: number, length: number): Uint8Array;
  close(): void;
}

export function memorySource(bytes: Uint8Array, name = "<memory>"): ByteSource {
  return {
    name,
    size: bytes.length,
    read(offset, length) {
      if (offset + length > bytes.length) throw truncated(name, offset + length, bytes.length);
      return bytes.subarray(offset, offset + length);
    },
    close() {},
  };
}

export function fileSource(path: string): ByteSource {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    throw fileError(path, err);
  }
  const stat = fstatSync(fd);
  if (stat.isDirectory()) {
    closeSync(fd);
    throw new InvalidFileError(path, "is a directory, expected a file");
  }
  const size = stat.size;
  return {
    name: path,
    size,
    read(offset, length) {
      if (offset + length > size) throw truncated(path, offset + length, size);
      const buf = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, buf, done, length - done, offset + done);
        if (n === 0) throw truncated(path, offset + length, offset + done);
        done += n;
      }
      return buf;
    },
    close() {
      closeSync(fd);
    },
  };
}

function truncated(name: string, needed: number, have: number): InvalidFileError {
  return new InvalidFileError(name, `truncated: needs at least ${needed} bytes, has ${have}`);
}

/** Little-endian DataView over a chunk, for readers. */
export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
