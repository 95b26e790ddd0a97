/**
 * Layer speed against the same run's 1024² matmul (`rtgs2 bench nn`). Usage:
 *   RTGS2_THREADS=N node --import tsx bench/nn.ts [--json]
 * See src/nn/bench.ts for what is measured and how.
 */
import { main } from "../src/nn/bench.ts";

await main(process.argv.slice(2));
