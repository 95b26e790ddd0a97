/**
 * Generates docs/cli.md, the CLI reference, from the commander definitions themselves (src/cli/program.ts), so it
 * cannot drift from what `rtgs2 --help` says. Usage: node --import tsx scripts/cli-reference.ts [--check]
 * (npm run docs:cli). With --check it writes nothing and exits 1 when docs/cli.md differs from the generated text.
 */
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Argument, Command, Option } from "commander";
import { buildProgram } from "../src/cli/program.ts";
import { writeFileAtomic } from "../src/core/fs.ts";

/** Where the reference lives in the repository. */
export const CLI_REFERENCE_PATH = fileURLToPath(new URL("../docs/cli.md", import.meta.url));

/** Every command below `root` (not `root` itself), depth-first in registration order: a group, then its subcommands. */
export function listCommands(root: Command): Command[] {
  const out: Command[] = [];
  const help = root.createHelp();
  const walk = (cmd: Command): void => {
    // visibleCommands drops hidden commands but adds commander's implicit `help` command, which is not ours.
    for (const sub of help.visibleCommands(cmd).filter((c) => cmd.commands.includes(c))) {
      out.push(sub);
      walk(sub);
    }
  };
  walk(root);
  return out;
}

/** The command's full name as typed: `rtgs2 bench model`. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** Table-cell text: pipes escaped, one line, `<` and `>` escaped outside code spans so `<ckpt>` is not read as HTML. */
function cell(text: string): string {
  return text
    .replace(/\s*\n\s*/g, " ")
    .split("`")
    .map((part, i) => (i % 2 === 0 ? part.replace(/</g, "&lt;").replace(/>/g, "&gt;") : part))
    .join("`")
    .replace(/\|/g, "\\|");
}

const code = (text: string): string => "`" + text.replace(/\|/g, "\\|") + "`";

function argumentTerm(arg: Argument): string {
  const name = arg.name() + (arg.variadic ? "..." : "");
  return arg.required ? `<${name}>` : `[${name}]`;
}

/** A default as a table cell: commander's own description of it when given, else the value as code. */
function defaultCell(value: unknown, description: string | undefined): string {
  if (description !== undefined && description !== "") return cell(description);
  if (value === undefined) return "";
  return code(typeof value === "string" ? value : JSON.stringify(value));
}

function argumentsTable(args: readonly Argument[]): string[] {
  if (args.length === 0) return [];
  const rows = args.map((a) => {
    const choices = a.argChoices !== undefined ? ` (one of ${a.argChoices.join(", ")})` : "";
    return `| ${code(argumentTerm(a))} | ${cell(a.description + choices)} | ${defaultCell(a.defaultValue, a.defaultValueDescription)} |`;
  });
  return ["**Arguments**", "", "| Argument | Description | Default |", "| --- | --- | --- |", ...rows, ""];
}

function optionsTable(options: readonly Option[], title: string): string[] {
  const visible = options.filter((o) => !o.hidden);
  if (visible.length === 0) return [];
  const rows = visible.map((o) => {
    const choices = o.argChoices !== undefined ? ` (one of ${o.argChoices.join(", ")})` : "";
    const def = o.mandatory ? "required" : defaultCell(o.defaultValue, o.defaultValueDescription);
    return `| ${code(o.flags)} | ${cell(o.description + choices)} | ${def} |`;
  });
  return [`**${title}**`, "", "| Option | Description | Default |", "| --- | --- | --- |", ...rows, ""];
}

function section(cmd: Command, level: number): string[] {
  const help = cmd.createHelp();
  const sub = listDirect(cmd);
  return [
    `${"#".repeat(level)} ${commandPath(cmd)}`,
    "",
    "```",
    help.commandUsage(cmd),
    "```",
    "",
    ...(cmd.description() !== "" ? [cell(cmd.description()), ""] : []),
    ...argumentsTable(cmd.registeredArguments),
    ...optionsTable(cmd.options, "Options"),
    ...(sub.length > 0 ? ["**Subcommands**: " + sub.map((c) => `[${c.name()}](#${anchor(commandPath(c))})`).join(", "), ""] : []),
  ];
}

function listDirect(cmd: Command): Command[] {
  return cmd
    .createHelp()
    .visibleCommands(cmd)
    .filter((c) => cmd.commands.includes(c));
}

/** GitHub's heading anchor for a plain-text heading such as `rtgs2 bench model`. */
function anchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, "")
    .replace(/ /g, "-");
}

/** The whole reference as markdown (deterministic: depends only on the command definitions). */
export function renderCliReference(program: Command = buildProgram()): string {
  const commands = listCommands(program);
  const lines = [
    "# rtgs2 command-line reference",
    "",
    "<!-- Generated from the commander definitions in src/cli by scripts/cli-reference.ts; do not edit by hand. -->",
    "",
    "Generated from the command definitions (src/cli/program.ts and src/cli/commands/*.ts), so it matches",
    "`rtgs2 <command> --help`. Regenerate after changing a command or flag with `npm run docs:cli`",
    "(`node --import tsx scripts/cli-reference.ts`); `--check` only verifies it is current, and",
    "test/cli/cli-reference.test.ts fails when it is not.",
    "",
    "Every command also accepts `-h, --help`. Errors print one line on stderr and exit 2 for bad input or usage,",
    "1 otherwise; where a command has `--json`, it prints exactly one JSON object on stdout.",
    "",
    "## Commands",
    "",
    ...commands.map((c) => `${"  ".repeat(depth(c) - 1)}- [${commandPath(c)}](#${anchor(commandPath(c))})${summary(c)}`),
    "",
    `## ${program.name()}`,
    "",
    "```",
    program.createHelp().commandUsage(program),
    "```",
    "",
    cell(program.description()),
    "",
    ...optionsTable(program.options, "Global options"),
    ...commands.flatMap((c) => section(c, 2)),
  ];
  while (lines[lines.length - 1] === "") lines.pop();
  return lines.join("\n") + "\n";
}

function depth(cmd: Command): number {
  let d = 0;
  for (let c = cmd.parent; c !== null; c = c.parent) d++;
  return d;
}

function summary(cmd: Command): string {
  const text = cmd.summary() || cmd.description();
  return text !== "" ? `: ${cell(text)}` : "";
}

function main(argv: string[]): number {
  const check = argv.includes("--check");
  const unknown = argv.filter((a) => a !== "--check");
  if (unknown.length > 0) {
    process.stderr.write(`cli-reference: unknown argument ${unknown[0]} (usage: cli-reference.ts [--check])\n`);
    return 2;
  }
  const text = renderCliReference();
  const current = existsSync(CLI_REFERENCE_PATH) ? readFileSync(CLI_REFERENCE_PATH, "utf8") : undefined;
  if (check) {
    if (current === text) return 0;
    process.stderr.write(`docs/cli.md is ${current === undefined ? "missing" : "out of date"}: run \`npm run docs:cli\` to regenerate it\n`);
    return 1;
  }
  if (current !== text) writeFileAtomic(CLI_REFERENCE_PATH, text);
  process.stdout.write(`${current === text ? "unchanged" : "wrote"} docs/cli.md (${listCommands(buildProgram()).length} commands)\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
