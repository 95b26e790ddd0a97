/**
 * VDVI network speed at batch 1 (`rtgs2 bench model`). Usage:
 *   RTGS2_THREADS=N node --import tsx bench/model.ts --config lite|paper [--size WxH] [--no-train] [--json]
 * See src/eval/bench-model.ts for what is measured and how.
 */
import { main } from "../src/eval/bench-model.ts";

await main(process.argv.slice(2));
