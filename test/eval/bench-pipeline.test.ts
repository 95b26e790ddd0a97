import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { vdviConfig } from "../../src/models/configs.ts";
import { VdviNet } from "../../src/models/vdvi/index.ts";
import { buildProgram } from "../../src/cli/program.ts";
import { Rtgs2Error } from "../../src/core/errors.ts";

const bin = fileURLToPath(new URL("../../bin/rtgs2.js", import.meta.url));

function rtgs2(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const close = (a: number, b: number, rel = 1e-6): boolean => Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b));

test("bench pipeline --json (default size: the config's): the contract's fields, parts that sum to the frame, MAC-share network parts", () => {
  const r = rtgs2("bench", "pipeline", "--config", "tiny", "--gaussians", "500", "--frames", "2", "--threads", "1", "--json");
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as {
    fps: number;
    breakdown: Record<"render" | "rgbBranch" | "featureBranch" | "fusion" | "decoder", number>;
    encodeSeconds: number;
    width: number;
    height: number;
    gaussians: number;
    frames: number;
    threads: number;
    networkMs: number;
    frameMs: number;
    breakdownMethod: string;
    paperFps: number;
    paperHardware: string;
    config: string;
  };
  assert.deepEqual([j.config, j.width, j.height, j.gaussians, j.frames, j.threads], ["tiny", 64, 48, 500, 2, 1]);
  assert.equal(j.paperFps, 27.03);
  assert.equal(j.paperHardware, "RTX 3090, 640×480, paper config");
  assert.match(j.breakdownMethod, /multiply-adds/);
  assert.ok(j.encodeSeconds > 0);
  const b = j.breakdown;
  for (const v of Object.values(b)) assert.ok(Number.isFinite(v) && v >= 0);
  assert.ok(b.render > 0 && j.networkMs > 0);
  const sum = b.render + b.rgbBranch + b.featureBranch + b.fusion + b.decoder;
  assert.ok(close(sum, j.frameMs), `parts sum ${sum} vs frameMs ${j.frameMs}`);
  assert.ok(close(b.render + j.networkMs, j.frameMs));
  assert.ok(close(j.fps * j.frameMs, 1000));
  // The network parts are the measured forward split by each part's multiply-adds, computed here independently.
  const parts = new VdviNet(vdviConfig("tiny")).analyze(1, 48, 64).flops.byPrefix(["rgb", "feat", "scc", "adapt", "decoder"]);
  const macs = [parts.rgb.macsAll, parts.feat.macsAll, parts.scc.macsAll + parts.adapt.macsAll, parts.decoder.macsAll];
  const total = macs.reduce((a, c) => a + c, 0);
  [b.rgbBranch, b.featureBranch, b.fusion, b.decoder].forEach((ms, i) => assert.ok(close(ms / j.networkMs, macs[i] / total, 1e-6), `part ${i}`));
});

test("bench pipeline: bad flags are refused before any benchmark runs, as one-line exit-2 errors", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-bench-pipeline-"));
  const cases: [string[], RegExp][] = [
    [["--config", "huge"], /--config/],
    [["--size", "64by64"], /--size/],
    [["--size", "65x64"], /--size/],
    [["--frames", "0"], /--frames/],
    [["--gaussians", "many"], /--gaussians/],
    [["--threads", "-1"], /--threads/],
    [["--model", join(dir, "absent.safetensors")], /absent\.safetensors/],
  ];
  for (const [args, pattern] of cases) {
    const program = buildProgram();
    await assert.rejects(program.parseAsync(["node", "rtgs2", "bench", "pipeline", ...args, "--json"]), (e: unknown) => {
      assert.ok(e instanceof Rtgs2Error, args.join(" "));
      assert.equal(e.exitCode, 2, args.join(" "));
      assert.ok(!e.message.includes("\n"), args.join(" "));
      assert.match(e.message, pattern);
      return true;
    });
  }
});

test("bench pipeline: an error only the benchmark process sees still reaches the CLI as one line and exit 2", () => {
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-bench-pipeline-"));
  const notCkpt = join(dir, "not-a-checkpoint.safetensors");
  writeFileSync(notCkpt, "hello");
  for (const [args, pattern] of [
    // Only the benchmark (child) process reads the file: its error must come back as one line with exit 2 as well.
    [["--model", notCkpt, "--gaussians", "10", "--frames", "1"], /not-a-checkpoint/],
  ] as [string[], RegExp][]) {
    const r = rtgs2("bench", "pipeline", ...args, "--json");
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "", args.join(" "));
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(lines[0], pattern);
  }
});
