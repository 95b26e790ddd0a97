import type { Command } from "commander";
import { readSplatSync } from "../../splat/io/index.ts";
import { cloudBounds } from "../../splat/cloud.ts";
import { printJson } from "../options.ts";

export function registerInfo(program: Command): void {
  program
    .command("info")
    .description("read any supported splat file (ply, compressed ply, splat, spz) and describe it")
    .argument("<file>", "splat file")
    .option("--json", "print one JSON object")
    .action((file: string, opts: { json?: boolean }) => {
      const { cloud, format, comments } = readSplatSync(file);
      const info = {
        file,
        format,
        count: cloud.count,
        shDegree: cloud.shDegree,
        extraProperties: [...cloud.extras.keys()],
        bounds: cloudBounds(cloud),
        comments,
      };
      if (opts.json) return printJson(info);
      const fmt = (v: number[]) => v.map((x) => x.toFixed(3)).join(", ");
      const extras = info.extraProperties;
      process.stdout.write(
        [
          `${file}`,
          `  format      ${format}`,
          `  splats      ${cloud.count.toLocaleString("en-US")}`,
          `  SH degree   ${cloud.shDegree}`,
          `  extras      ${extras.length === 0 ? "none" : summarizeNames(extras)}`,
          `  bounds      min (${fmt(info.bounds.min)})  max (${fmt(info.bounds.max)})`,
          ...comments.map((c) => `  comment     ${c}`),
        ].join("\n") + "\n",
      );
    });
}

/** "f_pc_0..31, label" instead of 33 names. */
function summarizeNames(names: string[]): string {
  const out: string[] = [];
  for (let i = 0; i < names.length; ) {
    const m = /^(.*?)(\d+)$/.exec(names[i]);
    let j = i + 1;
    if (m) while (j < names.length && names[j] === `${m[1]}${Number(m[2]) + (j - i)}`) j++;
    out.push(j - i > 2 && m ? `${m[1]}${m[2]}..${Number(m[2]) + (j - i - 1)}` : names.slice(i, j).join(", "));
    i = j;
  }
  return out.join(", ");
}
