#!/usr/bin/env node
/**
 * postinstall: coarser size classes for @jax-js/jax's wasm allocator.
 *
 * jax-js 0.1.25 rounds every allocation above 64 KiB to whole 64 KiB pages and keeps freed buffers in one free
 * list per exact rounded size, never returning memory. A workload whose tensor sizes drift (an encoder pass per
 * scene, a training pair per step) therefore allocates fresh memory for nearly every tensor and reaches the 4 GiB
 * wasm32 limit after a few iterations, even though its live set is far smaller. Rounding sizes up to four classes
 * per octave (at most 25 % slack) lets freed buffers serve any later tensor of a similar size.
 *
 * The edit is a literal replacement checked against the expected source (package.json pins jax-js exactly), idempotent,
 * atomic, and it fails loudly (exit 1) if jax-js changed, so an upgrade cannot silently drop it; `src/nn/engine`
 * warns at start-up when the patch is missing (e.g. `npm ci --ignore-scripts`). `RTGS2_SKIP_JAX_PATCH=1` skips it.
 */
import { readFileSync, readdirSync, renameSync, writeFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const MARKER = "/* rtgs2: geometric size classes */";
const ORIGINAL = "\t\treturn alignTo(size, WASM_PAGE_SIZE);\n\t}\n\tgetStats() {";
const PATCHED = `\t\t${MARKER} const step = 2 ** (Math.floor(Math.log2(size)) - 2);\n\t\treturn alignTo(alignTo(size, step), WASM_PAGE_SIZE);\n\t}\n\tgetStats() {`;

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
let patched = 0;
for (const name of readdirSync(dist)) {
  if (!/^backend-.*\.(c?js)$/.test(name)) continue;
  const file = join(dist, name);
  const src = readFileSync(file, "utf8");
  if (!src.includes("var WasmAllocator = class")) continue;
  if (src.includes(MARKER)) {
    patched++;
    continue;
  }
  if (src.split(ORIGINAL).length !== 2) {
    console.error(`patch-jax: ${file}: the wasm allocator's size-class code is not the expected 0.1.25 source; update scripts/patch-jax.mjs`);
    process.exit(1);
  }
  // A new file renamed over the old: never half-written, and a hard link into a shared store (pnpm) is replaced
  // rather than edited for every project that shares it.
  const tmp = `${file}.rtgs2-tmp`;
  writeFileSync(tmp, src.replace(ORIGINAL, PATCHED));
  renameSync(tmp, file);
  patched++;
}
if (patched === 0) {
  console.error(`patch-jax: no wasm allocator found under ${dist}`);
  process.exit(1);
}
