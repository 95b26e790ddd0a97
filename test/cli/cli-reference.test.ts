import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { buildProgram } from "../../src/cli/program.ts";
import { CLI_REFERENCE_PATH, commandPath, listCommands, renderCliReference } from "../../scripts/cli-reference.ts";

test("docs/cli.md is the reference generated from the current command definitions (run `npm run docs:cli`)", () => {
  assert.equal(readFileSync(CLI_REFERENCE_PATH, "utf8"), renderCliReference(buildProgram()), "docs/cli.md is stale: run `npm run docs:cli`");
});

test("the reference has a section for every registered command and subcommand, with each of its flags", () => {
  const program = buildProgram();
  const md = renderCliReference(program);
  // Oracle independent of listCommands: walk commander's own `commands` arrays.
  const expected: string[] = [];
  const walk = (cmd: Command, prefix: string): void => {
    for (const sub of cmd.commands) {
      expected.push(`${prefix} ${sub.name()}`);
      walk(sub, `${prefix} ${sub.name()}`);
    }
  };
  walk(program, "rtgs2");
  assert.deepEqual(listCommands(program).map(commandPath), expected);
  const headings = md.split("\n").filter((l) => l.startsWith("## rtgs2 ")).map((l) => l.slice(3));
  assert.deepEqual(headings, expected);
  for (const known of ["rtgs2 demo", "rtgs2 eval", "rtgs2 bench", "rtgs2 bench model", "rtgs2 bench render"]) assert.ok(expected.includes(known), known);

  // Each section lists its usage line and every option's flags, and nothing of other commands' sections leaks in.
  const sections = md.split(/^## /m);
  for (const cmd of listCommands(program)) {
    const body = sections.find((s) => s.startsWith(`${commandPath(cmd)}\n`));
    assert.ok(body !== undefined, commandPath(cmd));
    assert.ok(body.includes("```\n" + cmd.createHelp().commandUsage(cmd) + "\n```"), `usage of ${commandPath(cmd)}`);
    for (const opt of cmd.options) assert.ok(body.includes(`| \`${opt.flags}\` |`), `${commandPath(cmd)} ${opt.flags}`);
  }
});

test("a flag added without regenerating changes the reference; defaults, required options and arguments are shown", () => {
  const base = renderCliReference(buildProgram());
  const program = buildProgram();
  const evalCmd = program.commands.find((c) => c.name() === "eval")!;
  evalCmd.option("--brand-new <x>", "a flag nobody documented", "7");
  const changed = renderCliReference(program);
  assert.notEqual(changed, base);
  assert.ok(changed.includes("| `--brand-new <x>` | a flag nobody documented | `7` |"));

  const tiny = new Command().name("tool").description("t");
  tiny
    .command("go")
    .description("runs <things> | more")
    .argument("<in>", "input")
    .argument("[rest...]", "more inputs")
    .requiredOption("--out <dir>", "output folder")
    .option("--n <k>", "count with `a|b` <code>", "3");
  const md = renderCliReference(tiny);
  assert.ok(md.includes("## tool go\n\n```\ntool go [options] <in> [rest...]\n```\n\nruns &lt;things&gt; \\| more\n"), md);
  assert.ok(md.includes("| `<in>` | input |  |"));
  assert.ok(md.includes("| `[rest...]` | more inputs |  |"));
  assert.ok(md.includes("| `--out <dir>` | output folder | required |"));
  assert.ok(md.includes("| `--n <k>` | count with `a\\|b` &lt;code&gt; | `3` |"));
  assert.equal(renderCliReference(tiny), md, "deterministic");
});
