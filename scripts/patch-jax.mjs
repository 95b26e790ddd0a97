#!/usr/bin/env node
/**
 * postinstall: three edits to @jax-js/jax 0.1.25, each a set of literal replacements checked against the
 * expected source (package.json pins jax-js exactly), idempotent (a marker comment), written atomically, and
 * failing loudly (exit 1) if jax-js changed, so an upgrade cannot silently drop one. `src/nn/engine` warns at
 * start-up when a patch is missing (e.g. `npm ci --ignore-scripts`). `RTGS2_SKIP_JAX_PATCH=1` skips them.
 * None changes a result: test/nn/jax-patches.test.ts checks them against references.
 *
 * 1. Coarser size classes for the wasm allocator. jax-js rounds every allocation above 64 KiB to whole 64 KiB
 *    pages and keeps freed buffers in one free list per exact rounded size, never returning memory. A workload
 *    whose tensor sizes drift (an encoder pass per scene, a training pair per step) therefore allocates fresh
 *    memory for nearly every tensor and reaches the 4 GiB wasm32 limit after a few iterations, even though its
 *    live set is far smaller. Rounding sizes up to four classes per octave (at most 25 % slack) lets freed
 *    buffers serve any later tensor of a similar size.
 * 2. A row-copy fast path for the Scatter routine. A gather's gradient is a scatter-add, which jax-js runs as a
 *    CPU routine outside its compiled kernels; the generic routine recomputes every element's coordinates with a
 *    division per axis. The Gaussian encoder's backward scatters tens of millions of elements a step (voxel-conv
 *    taps, segment reductions, unpooling): a lite pre-training step at 5000 pair rows took 5.1 s, 3.6 s with
 *    this. For the only form `take` produces — one index array on one axis, the index dims standing in that
 *    axis's place — the fast path adds whole contiguous rows, in the generic loop's element order, so the sums
 *    are bit-identical.
 * 3. Buffer reuse inside a jitted program (`rtgs2ReuseBuffers`, below).
 */
import { readFileSync, readdirSync, renameSync, writeFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const ALLOCATOR = {
  name: "wasm allocator size classes",
  marker: "/* rtgs2: geometric size classes */",
  edits: [
    [
      "\t\treturn alignTo(size, WASM_PAGE_SIZE);\n\t}\n\tgetStats() {",
      "\t\t/* rtgs2: geometric size classes */ const step = 2 ** (Math.floor(Math.log2(size)) - 2);\n" +
        "\t\treturn alignTo(alignTo(size, step), WASM_PAGE_SIZE);\n\t}\n\tgetStats() {",
    ],
  ],
};

// Inside runScatter, after `accumulate` is known. Self-contained: jax-js ships the function's source text to its
// workers. Visiting (outer, index, inner) in order is the generic loop's element order, hence the same sums.
const SCATTER = {
  name: "scatter-add row fast path",
  marker: "/* rtgs2: scatter row fast path */",
  edits: [
    [
      "\toutput.fill(0);\n\tconst accumulate = op !== \"update\" && !uniqueIndices;\n\tconst updateShape = type.inputShapes[0];\n",
      `\toutput.fill(0);
\tconst accumulate = op !== "update" && !uniqueIndices;
\t/* rtgs2: scatter row fast path */ if (indices.length === 1 && indexedAxes.length === 1 && indexedAxes[0] === outDim && type.inputDtypes[0] !== "bool") {
\t\tconst axis = outDim;
\t\tconst idx = indices[0];
\t\tconst m = idx.length;
\t\tconst na = outputShape[axis];
\t\tlet outer = 1;
\t\tfor (let d = 0; d < axis; d++) outer *= outputShape[d];
\t\tlet inner = 1;
\t\tfor (let d = axis + 1; d < outputShape.length; d++) inner *= outputShape[d];
\t\tif (outer * m * inner === updates.length) {
\t\t\tfor (let o = 0; o < outer; o++) for (let k = 0; k < m; k++) {
\t\t\t\tconst c = idx[k];
\t\t\t\tif (c < 0 || c >= na) continue;
\t\t\t\tconst dst = (o * na + c) * inner;
\t\t\t\tconst src = (o * m + k) * inner;
\t\t\t\tif (accumulate) for (let j = 0; j < inner; j++) output[dst + j] += updates[src + j];
\t\t\t\telse for (let j = 0; j < inner; j++) output[dst + j] = updates[src + j];
\t\t\t}
\t\t\treturn;
\t\t}
\t}
\tconst updateShape = type.inputShapes[0];
`,
    ],
  ],
};

// After jax-js has placed each intermediate's free after its last use. A jit program allocates every buffer when
// it is called, and its frees only drop references its pending kernels still hold, so without this a program's
// peak is the sum of all its intermediates (a lite pre-training step at 20k rows: 3.2 GiB against a live set of
// 0.8 GiB). Kernels run in program order, so a buffer freed at step k can hold the output of any kernel after k:
// a later malloc takes the smallest freed buffer that fits. Routines (CPU fallbacks such as Scatter) see whole
// buffers as their arrays (a routine step has no kernel expression), so a buffer a routine touches is matched by
// exact size only. Program outputs keep
// their own buffers; frees of buffers never taken again move to the end. RTGS2_JIT_REUSE=0 turns it off.
const REUSE_FN = `/* rtgs2: jit buffer reuse */
function rtgs2ReuseBuffers(builder, outputIds) {
\tif (globalThis.process?.env?.RTGS2_JIT_REUSE === "0") return;
\tconst outputs = new Set(outputIds);
\tconst routineIds = new Set();
\tfor (const s of builder.steps) if (s.type === "execute" && s.source.exp === undefined) for (const id of [...s.inputs, ...s.outputs]) routineIds.add(id);
\tconst sizes = new Map();
\tconst alias = new Map();
\tconst free = [];
\tconst root = (id) => alias.get(id) ?? id;
\tconst steps = [];
\tfor (const s of builder.steps) {
\t\tif (s.type === "malloc") {
\t\t\tlet best = -1;
\t\t\tif (!outputs.has(s.output)) {
\t\t\t\tconst exact = routineIds.has(s.output);
\t\t\t\tfor (let i = 0; i < free.length; i++) {
\t\t\t\t\tconst size = sizes.get(free[i]);
\t\t\t\t\tif (size === s.size || (!exact && size > s.size && (best < 0 || size < sizes.get(free[best])))) {
\t\t\t\t\t\tbest = i;
\t\t\t\t\t\tif (size === s.size) break;
\t\t\t\t\t}
\t\t\t\t}
\t\t\t}
\t\t\tif (best >= 0) {
\t\t\t\talias.set(s.output, free[best]);
\t\t\t\tfree.splice(best, 1);
\t\t\t\tcontinue;
\t\t\t}
\t\t\tsizes.set(s.output, s.size);
\t\t\tsteps.push(s);
\t\t} else if (s.type === "free" && sizes.has(root(s.input)) && !outputs.has(s.input)) free.push(root(s.input));
\t\telse if (s.type === "execute") steps.push({ ...s, inputs: s.inputs.map(root), outputs: s.outputs.map(root) });
\t\telse if (s.type === "free" || s.type === "incref") steps.push({ ...s, input: root(s.input) });
\t\telse steps.push(s);
\t}
\tfor (const r of free) steps.push({ type: "free", input: r });
\tbuilder.steps = steps;
}
`;
const JIT_REUSE = {
  name: "jit buffer reuse",
  marker: "/* rtgs2: jit buffer reuse */",
  edits: [
    ["\nconst jitCompileCache = ", `\n${REUSE_FN}const jitCompileCache = `],
    ["\tbuilder.insertFreeSteps(outputIds);\n", "\tbuilder.insertFreeSteps(outputIds);\n\trtgs2ReuseBuffers(builder, outputIds);\n"],
  ],
};

/** Each patch and how to recognise the files (ESM and CJS builds of the CPU backend) it belongs in. */
const PATCHES = [
  { ...ALLOCATOR, applies: (src) => src.includes("var WasmAllocator = class") },
  { ...SCATTER, applies: (src) => src.includes("function runScatter(") },
  { ...JIT_REUSE, applies: (src) => src.includes("var JitProgramBuilder = class") },
];

if (process.env.RTGS2_SKIP_JAX_PATCH === "1") process.exit(0);
// Resolved like an import, so it also works where npm hoisted jax-js above this package.
let dist;
try {
  dist = dirname(createRequire(import.meta.url).resolve("@jax-js/jax"));
} catch {
  console.error("patch-jax: @jax-js/jax is not installed");
  process.exit(1);
}
if (!existsSync(dist)) {
  console.error(`patch-jax: ${dist} not found`);
  process.exit(1);
}
const applied = new Map(PATCHES.map((p) => [p.name, 0]));
for (const name of readdirSync(dist)) {
  if (!/^(backend-.*|index)\.(c?js)$/.test(name)) continue;
  const file = join(dist, name);
  const before = readFileSync(file, "utf8");
  let src = before;
  for (const p of PATCHES) {
    if (!p.applies(src)) continue;
    applied.set(p.name, applied.get(p.name) + 1);
    if (src.includes(p.marker)) continue;
    for (const [original, patched] of p.edits) {
      if (src.split(original).length !== 2) {
        console.error(`patch-jax: ${file}: the ${p.name} code is not the expected 0.1.25 source; update scripts/patch-jax.mjs`);
        process.exit(1);
      }
      src = src.replace(original, () => patched);
    }
  }
  if (src === before) continue;
  // A new file renamed over the old: never half-written, and a hard link into a shared store (pnpm) is replaced
  // rather than edited for every project that shares it.
  const tmp = `${file}.rtgs2-tmp`;
  writeFileSync(tmp, src);
  renameSync(tmp, file);
}
for (const [name, count] of applied) {
  if (count === 0) {
    console.error(`patch-jax: no file under ${dist} holds the ${name} code`);
    process.exit(1);
  }
}
