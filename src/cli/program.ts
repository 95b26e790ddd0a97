/**
 * The rtgs2 commander program with every command registered, built without parsing argv or running anything, so
 * the CLI entry point (main.ts) and the generated CLI reference (scripts/cli-reference.ts) share one definition.
 */
import { Command } from "commander";
import { registerCommands } from "./commands/index.ts";

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("rtgs2")
    .description("Real-time generalizable semantic segmentation of 3D Gaussian Splatting scenes")
    .option("--debug", "print stack traces on errors")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError(false);
  registerCommands(program);
  return program;
}
