import type { Command } from "commander";
import { readSplatSync, writeSplat } from "../../splat/io/index.ts";
import { printJson, say } from "../options.ts";

export function registerConvert(program: Command): void {
  program
    .command("convert")
    .description("convert a splat file; the output format follows the extension (.ply or .splat)")
    .argument("<in>", "input splat file (any supported format)")
    .argument("<out>", "output file: .ply (Inria, keeps SH and extra properties) or .splat")
    .option("--json", "print one JSON object")
    .action((input: string, output: string, opts: { json?: boolean }) => {
      const { cloud, format, comments } = readSplatSync(input);
      writeSplat(output, cloud, { comments });
      if (opts.json) return printJson({ count: cloud.count, input, output, inputFormat: format });
      say(false, `${input} (${format}, ${cloud.count.toLocaleString("en-US")} splats) → ${output}`);
    });
}
