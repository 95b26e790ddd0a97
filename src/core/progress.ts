/**
 * Progress reporting for long loops. A bar is drawn on stderr only when stderr is an interactive terminal, so
 * `--json` output, pipes and CI logs stay clean; nothing here ever writes to stdout.
 */
import { SingleBar, Presets } from "cli-progress";

/** A running progress report; every method is cheap and safe to call after `done()`. */
export interface Progress {
  /** Advance by `n` (default 1). */
  tick(n?: number): void;
  /** Set the number of finished items. */
  update(done: number): void;
  /** Finish: draw the final state and release the terminal line. Idempotent. */
  done(): void;
}

/** Where a bar may be drawn: stderr, or a test double with the same TTY surface. */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export interface ProgressOptions {
  /** Draw nothing even on a terminal (for `--quiet`, or when the caller draws its own output). */
  quiet?: boolean;
  /** Output stream; default `process.stderr`. A bar is drawn only if `stream.isTTY` is true. */
  stream?: ProgressStream;
}

let globalQuiet = false;

/** Silence (or re-allow) every progress bar of this process, e.g. from a CLI `--quiet` flag. */
export function setProgressQuiet(quiet: boolean): void {
  globalQuiet = quiet;
}

const NOOP: Progress = { tick() {}, update() {}, done() {} };

/**
 * cli-progress re-arms a redraw timer after every render; unref-ing it means a caller that never reaches
 * `done()` (an exception on the way) cannot keep the process alive.
 */
class UnrefSingleBar extends SingleBar {
  override render(): void {
    super.render();
    (this as unknown as { timer?: { unref?: () => void } | null }).timer?.unref?.();
  }
}

/**
 * Start a progress report for `total` items labelled `label`. Returns a no-op reporter unless the stream
 * (stderr by default) is a TTY and neither `options.quiet` nor `setProgressQuiet(true)` silences it.
 */
export function createProgress(label: string, total: number, options: ProgressOptions = {}): Progress {
  const stream: ProgressStream = options.stream ?? process.stderr;
  if (options.quiet || globalQuiet || stream.isTTY !== true) return NOOP;
  const bar = new UnrefSingleBar(
    {
      stream,
      format: `${label} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted}`,
      // No SIGINT handler: cli-progress's would swallow Ctrl-C; the cursor is never hidden, so there is nothing to restore.
      gracefulExit: false,
      hideCursor: false,
      fps: 10,
    },
    Presets.shades_classic,
  );
  const safeTotal = Number.isFinite(total) && total >= 0 ? total : 0;
  let value = 0;
  let finished = false;
  bar.start(safeTotal, 0);
  return {
    tick(n = 1) {
      if (finished) return;
      value += n;
      bar.update(value);
    },
    update(done: number) {
      if (finished) return;
      value = done;
      bar.update(value);
    },
    done() {
      if (finished) return;
      finished = true;
      bar.stop();
    },
  };
}
