/** Render worker entry: runs the jobs the main thread posts, on memory shared with it. */
import { serveWorker } from "../core/worker-pool.ts";
import { runJob, type RenderJob } from "./jobs.ts";

await serveWorker((payload) => runJob(payload as RenderJob));
