/**
 * Where the VDVI forward's time goes, kernel by kernel (issue 12: "show which layers hold the matmul ratio back").
 *
 *   RTGS2_THREADS=2 RTGS2_INLINE_US=1e12 node --import tsx bench/model-kernels.ts [--config lite] [--top 30]
 *     [--backward] [--chars 200] [--json]
 *
 * `--chars` bounds how much of each fused expression is printed.
 *
 * With that environment the engine shim runs every chunk of every jax-js kernel on the main thread, one after
 * the other, and times it (`recordKernelTimes`); jax-js's own trace, in the same dispatch order, names each
 * kernel (its fused expression, size and reduction). Kernels
 * are grouped by that expression over 3 forwards; each row says what kind of kernel it is: a matmul-shaped
 * reduction (`matmul M×N×K`, with its GFLOP/s), another reduction, or element-wise (ns per output element).
 */
import { parseArgs } from "node:util";
import { numpy as np, jit, grad, random, blockUntilReady, profiler } from "../src/nn/jax.ts";
import { initEngine, engineInfo } from "../src/nn/engine/index.ts";
import { recordKernelTimes } from "../src/nn/engine/shim.ts";
import { Rng } from "../src/core/rng.ts";
import { refParams } from "../src/nn/params.ts";
import { vdviConfig } from "../src/models/configs.ts";
import { VdviNet, type BnStates, type VdviParams } from "../src/models/vdvi/index.ts";

const { values } = parseArgs({
  options: {
    config: { type: "string", default: "lite" },
    top: { type: "string", default: "30" },
    backward: { type: "boolean", default: false },
    chars: { type: "string", default: "200" },
    json: { type: "boolean", default: false },
  },
});
await initEngine();
if (engineInfo().threads < 2 || !(Number(process.env.RTGS2_INLINE_US) >= 1e9)) {
  process.stderr.write("usage: RTGS2_THREADS=2 RTGS2_INLINE_US=1e12 node --import tsx bench/model-kernels.ts … (every kernel timed on the main thread)\n");
  process.exit(2);
}
const cfg = vdviConfig(values.config);
const net = new VdviNet(cfg);
const rng = new Rng("bench-model-kernels");
const params = net.init(rng);
const state = net.initState();
const uniform = (shape: number[]): np.Array => np.array(rng.fillUniform(new Float32Array(shape.reduce((a, b) => a * b, 1)), -1, 1)).reshape(shape);
const rgb = uniform([1, cfg.height, cfg.width, 3]);
const feats = uniform([1, cfg.height, cfg.width, cfg.feat.inChannels]);

const logits = (p: VdviParams, s: BnStates, x: np.Array, f: np.Array, train: boolean): np.Array => {
  // Training mode needs a key for dropout and DropPath; a fixed one keeps the passes identical.
  const o = net.apply(p, s, { rgb: x, features: f }, train ? { train, key: random.key(0) } : { train });
  o.z.dispose();
  for (const v of Object.values(o.state)) {
    v.runningMean.dispose();
    v.runningVar.dispose();
  }
  return o.logits;
};
type Fn = (p: VdviParams, s: BnStates, x: np.Array, f: np.Array) => unknown;
const fn = (
  values.backward
    ? jit(grad((p: VdviParams, s: BnStates, x: np.Array, f: np.Array) => np.sum(np.square(logits(p, s, x, f, true)))))
    : jit((p: VdviParams, s: BnStates, x: np.Array, f: np.Array) => logits(p, s, x, f, false))
) as unknown as Fn;
const settle = async (y: unknown): Promise<void> => {
  if (y instanceof np.Array) (await blockUntilReady(y)).dispose();
  else if (y !== null && typeof y === "object") for (const c of Object.values(y)) await settle(c);
};
const call = (): unknown => fn(refParams(params), refParams(state), rgb.ref, feats.ref);
for (let i = 0; i < 3; i++) await settle(call());

interface Row {
  calls: number;
  us: number;
  size: number;
  reduction: string;
  exp: string;
  /** Buffers the kernel reads and writes (jax-js's `nargs`). */
  args: number;
}
const rows = new Map<string, Row>();
/** Traced milliseconds of each routine (these run on a thread; their time is jax-js's span, not a chunk's). */
const routines = new Map<string, number>();
const rounds = 3;
let wallMs = 0;
let kernelUs = 0;
let kernels = 0;
for (let r = 0; r < rounds; r++) {
  performance.clearMeasures();
  profiler.startTrace();
  recordKernelTimes(true);
  const t0 = performance.now();
  await settle(call());
  wallMs += performance.now() - t0;
  // Sum the chunks of each dispatch: a dispatch starts with pool slot 0's chunk.
  const times: { us: number }[] = [];
  for (const c of recordKernelTimes(false)) {
    if (c.worker === 0 || times.length === 0) times.push({ us: c.us });
    else times[times.length - 1].us += c.us;
  }
  profiler.stopTrace();
  const entries = (performance.getEntriesByType("measure") as PerformanceMeasure[]).filter((m) => m.detail?.devtools?.trackGroup === "JAX Profiler");
  // Routines (CPU fallbacks such as sorting) run on a worker thread, never inline: they have no recorded chunk
  // and are named by their routine instead of "Kernel[…]". Zipping them would shift every later kernel's time.
  const traced = entries.filter((m) => m.name.startsWith("Kernel["));
  for (const m of entries) if (!m.name.startsWith("Kernel[")) routines.set(m.name, (routines.get(m.name) ?? 0) + m.duration);
  if (traced.length !== times.length) throw new Error(`${traced.length} traced kernels but ${times.length} timed dispatches: cannot zip them`);
  traced.forEach((m, i) => {
    const props = new Map<string, string>(m.detail.devtools.properties as [string, string][]);
    const exp = (props.get("exp") ?? m.name).replace(/\s+/g, " ");
    const us = times[i]?.us ?? 0;
    const row = rows.get(exp) ?? { calls: 0, us: 0, size: Number(props.get("size") ?? 0), reduction: props.get("reduction") ?? "", exp, args: Number(props.get("nargs") ?? 0) };
    row.calls++;
    row.us += us;
    rows.set(exp, row);
    kernelUs += us;
    kernels++;
  });
}

type Category = "matmul" | "reduce" | "elementwise";

/** What a kernel is, read off its fused expression: a matmul M×N×K when it reduces a product of two views. */
function describe(row: Row): { category: Category; kind: string; gflops: number | null; nsPerElement: number | null } {
  const ms = row.us / row.calls / 1000;
  const [op, size] = row.reduction.split(":");
  if (op === "Add" && /^\(?GV_0<float32>\{[\d,]+:/.test(row.exp) && row.exp.includes("* GV_1")) {
    const shape = /^\(?GV_0<float32>\{([\d,]+):/.exec(row.exp)?.[1].split(",").map(Number) ?? [];
    const K = Number(size);
    const MN = row.size;
    const N = shape.length >= 2 ? shape[shape.length - 2] : 1;
    return { category: "matmul", kind: `matmul ${MN / N}×${N}×${K}`, gflops: (2 * MN * K) / ms / 1e6, nsPerElement: null };
  }
  if (row.reduction !== "") {
    return { category: "reduce", kind: `reduce ${row.reduction} → ${row.size}`, gflops: null, nsPerElement: (ms * 1e6) / (row.size * Number(size)) };
  }
  return { category: "elementwise", kind: `element-wise ${row.size}`, gflops: null, nsPerElement: (ms * 1e6) / row.size };
}

const described = [...rows.values()].sort((a, b) => b.us - a.us).map((row) => ({ row, ...describe(row) }));
const byKind: Record<Category, number> = { matmul: 0, reduce: 0, elementwise: 0 };
for (const d of described) byKind[d.category] += d.row.us / rounds / 1000;
const top = described.slice(0, Number(values.top)).map(({ row, kind, gflops, nsPerElement }) => ({
  ms: row.us / rounds / 1000,
  share: row.us / kernelUs,
  callsPerPass: row.calls / rounds,
  buffers: row.args,
  kind,
  gflops,
  nsPerElement,
  expression: row.exp.slice(0, Number(values.chars)),
}));
const summary = {
  config: cfg.name,
  pass: values.backward ? "forward+backward" : "forward",
  threads: engineInfo().threads,
  wallMs: wallMs / rounds,
  kernelMs: kernelUs / rounds / 1000,
  kernelsPerPass: kernels / rounds,
  msByKind: byKind,
  routineMs: Object.fromEntries([...routines].map(([name, ms]) => [name, ms / rounds])),
};
if (values.json) {
  process.stdout.write(`${JSON.stringify({ ...summary, top })}\n`);
} else {
  console.log(
    `${summary.pass} of ${cfg.name}: ${summary.wallMs.toFixed(1)} ms wall, ${summary.kernelMs.toFixed(1)} ms in ${summary.kernelsPerPass} kernels ` +
      `(matmul ${byKind.matmul.toFixed(1)}, other reductions ${byKind.reduce.toFixed(1)}, element-wise ${byKind.elementwise.toFixed(1)} ms)`,
  );
  for (const [name, ms] of Object.entries(summary.routineMs)) console.log(`routine ${name}: ${ms.toFixed(2)} ms traced per pass (on a thread)`);
  for (const t of top) {
    const rate = t.gflops !== null ? `${t.gflops.toFixed(1)} GFLOP/s` : `${(t.nsPerElement ?? 0).toFixed(1)} ns/elem`;
    console.log(`${t.ms.toFixed(2).padStart(6)} ms ${(100 * t.share).toFixed(1).padStart(4)} % ×${t.callsPerPass} ${t.kind.padEnd(28)} ${rate.padStart(15)} ${String(t.buffers).padStart(3)} buffers  ${t.expression.slice(0, 80)}`);
  }
}
process.exit(0);
