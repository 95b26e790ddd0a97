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
      const lost = lostInSplat(output, cloud.shDegree, cloud.extras.size);
      if (lost) process.stderr.write(`rtgs2: note: ${output}: the .splat format drops ${lost}\n`);
      if (opts.json) return printJson({ count: cloud.count, input, output, inputFormat: format });
      say(false, `${input} (${format}, ${cloud.count.toLocaleString("en-US")} splats) → ${output}`);
    });
}

/** What a .splat output drops from the cloud, or "" when nothing is lost (it stores SH degree 0 and no extras). */
function lostInSplat(output: string, shDegree: number, extras: number): string {
  if (!output.toLowerCase().endsWith(".splat")) return "";
  const lost = [shDegree > 0 ? `the SH rest coefficients (degree ${shDegree}; only the base colour stays)` : "", extras > 0 ? `${extras} extra properties` : ""];
  return lost.filter(Boolean).join(" and ");
}
