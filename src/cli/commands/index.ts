/** Every CLI command, registered on the program in the order `rtgs2 --help` lists them. */
import type { Command } from "commander";

export function registerCommands(program: Command): void {
  void program;
}
