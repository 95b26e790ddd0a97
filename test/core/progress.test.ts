import { test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { spawnSync } from "node:child_process";
import { createProgress, setProgressQuiet, type ProgressStream } from "../../src/core/progress.ts";

/** A stream that records what is written; `isTTY` decides whether it poses as a terminal. */
function recorder(isTTY: boolean): { stream: ProgressStream; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  }) as Writable & { isTTY?: boolean; columns?: number };
  stream.isTTY = isTTY;
  stream.columns = 100;
  return { stream, text: () => chunks.join("") };
}

/** Run `fn` while recording every write to the real stdout and stderr. */
function captureStdio(fn: () => void): { stdout: string; stderr: string } {
  const out: string[] = [];
  const err: string[] = [];
  const origOut = process.stdout.write;
  const origErr = process.stderr.write;
  process.stdout.write = ((chunk: string | Uint8Array) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stdout.write = origOut;
    process.stderr.write = origErr;
  }
  return { stdout: out.join(""), stderr: err.join("") };
}

test("prints nothing at all when the stream is not a TTY", () => {
  const { stream, text } = recorder(false);
  const io = captureStdio(() => {
    const p = createProgress("encode", 100, { stream });
    for (let i = 0; i < 100; i++) p.tick();
    p.update(50);
    p.done();
  });
  assert.equal(text(), "");
  assert.equal(io.stdout, "");
  assert.equal(io.stderr, "");
});

test("with the default stream, writes nothing when stderr is not a TTY (as under the test runner)", (t) => {
  if (process.stderr.isTTY) {
    t.skip("stderr is a terminal here");
    return;
  }
  const io = captureStdio(() => {
    const p = createProgress("render", 10);
    p.tick(3);
    p.done();
  });
  assert.deepEqual(io, { stdout: "", stderr: "" });
});

test("draws a bar on a TTY stream, never on stdout", () => {
  const { stream, text } = recorder(true);
  const io = captureStdio(() => {
    const p = createProgress("train", 4, { stream });
    p.tick();
    p.tick(2);
    p.update(4);
    p.done();
    p.done(); // idempotent
    p.tick(); // ignored after done
  });
  assert.equal(io.stdout, "");
  const out = text();
  assert.match(out, /train \[/);
  assert.match(out, /4\/4/);
  assert.match(out, /100%/);
  assert.ok(out.endsWith("\n"), "done() releases the line");
  assert.ok(!out.includes("\u001b[?25l"), "the cursor is never hidden");
});

test("quiet option and setProgressQuiet force it off even on a TTY", () => {
  const a = recorder(true);
  const p = createProgress("x", 10, { stream: a.stream, quiet: true });
  p.tick();
  p.done();
  assert.equal(a.text(), "");

  const b = recorder(true);
  setProgressQuiet(true);
  try {
    const q = createProgress("x", 10, { stream: b.stream });
    q.tick();
    q.done();
  } finally {
    setProgressQuiet(false);
  }
  assert.equal(b.text(), "");
  const c = recorder(true);
  createProgress("x", 10, { stream: c.stream }).done();
  assert.notEqual(c.text(), "");
});

test("odd totals do not throw", () => {
  for (const total of [0, NaN, -5, Infinity]) {
    const { stream } = recorder(true);
    const p = createProgress("odd", total, { stream });
    p.tick();
    p.done();
  }
});

test("a bar that is never finished does not keep the process alive", () => {
  const url = new URL("../../src/core/progress.ts", import.meta.url).href;
  const script = `
    import { Writable } from "node:stream";
    const { createProgress } = await import(${JSON.stringify(url)});
    const s = new Writable({ write(_c, _e, cb) { cb(); } });
    s.isTTY = true; s.columns = 80;
    createProgress("hang", 10, { stream: s }).tick();
  `;
  const res = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    timeout: 8000,
    encoding: "utf8",
  });
  assert.equal(res.error, undefined, "child timed out: the redraw timer kept it alive");
  assert.equal(res.status, 0, res.stderr);
  assert.equal(res.stdout, "");
});
