/**
 * Benchmarks run in a child process so RTGS2_THREADS can size jax-js's worker pool before jax-js loads (it reads
 * the variable once, at import). Shared by `bench model`, `bench encode` and `bench pipeline`.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * Run the benchmark entry `entry` (a file URL; a `.ts` entry loads through tsx) with `args` on `threads` threads;
 * resolves to its exit code.
 */
export function runBenchChild(entry: URL, args: readonly string[], threads: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const path = fileURLToPath(entry);
    const loader = path.endsWith(".ts") ? ["--import", import.meta.resolve("tsx")] : [];
    const child = spawn(process.execPath, [...loader, path, ...args], {
      env: { ...process.env, RTGS2_THREADS: String(threads) },
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.on("error", reject);
    child.on("exit", (c, signal) => resolve(c ?? (signal !== null ? 1 : 0)));
  });
}
