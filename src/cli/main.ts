/**
 * rtgs2 command-line entry point. Each command lives in its own file under src/cli/commands and registers itself
 * on the program (built by program.ts); this file only runs it and owns the error contract: one line on stderr, no
 * stack trace unless --debug, exit 2 for bad input or usage and 1 for anything else, stdout untouched on failure.
 */
import { CommanderError } from "commander";
import { Rtgs2Error } from "../core/errors.ts";
import { buildProgram } from "./program.ts";
import { closeRenderWorkers } from "../render/render.ts";

// `rtgs2 … | head` closes stdout early; that is the reader's choice, not an error worth a stack trace.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

const program = buildProgram();

const debug = process.argv.includes("--debug");
try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = reportError(err, debug);
} finally {
  await closeRenderWorkers();
}

function reportError(err: unknown, withStack: boolean): number {
  if (err instanceof CommanderError) {
    // Commander already printed its message (help output exits with code 0).
    return err.exitCode === 0 ? 0 : 2;
  }
  if (withStack && err instanceof Error) process.stderr.write(`${err.stack ?? err.message}\n`);
  else process.stderr.write(`rtgs2: ${err instanceof Error ? err.message : String(err)}\n`);
  return err instanceof Rtgs2Error ? err.exitCode : 1;
}
