/** Render jobs: projection ranges and tile blending, run by render workers or inline on one thread. */
import { projectGaussians, type ProjectCamera, type ProjectSource } from "./project.ts";
import { blendScratch, blendTile, type BlendTarget } from "./blend.ts";

export interface ProjectJob {
  kind: "project";
  source: ProjectSource;
  camera: ProjectCamera;
  start: number;
  end: number;
  records: Float32Array;
  rects: Int32Array;
}

export interface BlendJob {
  kind: "blend";
  gridW: number;
  tileCount: number;
  tileStart: Uint32Array;
  list: Uint32Array;
  records: Float32Array;
  target: BlendTarget;
  /** Shared tile counter: each worker claims the next tile with an atomic add, so load balances itself. */
  counter: Int32Array;
}

export type RenderJob = ProjectJob | BlendJob;

let scratch = blendScratch(0);

/** Run a job; returns the Gaussians projected or the splat-pixel blends performed. */
export function runJob(job: RenderJob): number {
  if (job.kind === "project") {
    projectGaussians(job.source, job.camera, job.start, job.end, job.records, job.rects);
    return job.end - job.start;
  }
  if (scratch.feat.length !== job.target.channels * 256) scratch = blendScratch(job.target.channels);
  let blends = 0;
  for (;;) {
    const t = Atomics.add(job.counter, 0, 1);
    if (t >= job.tileCount) return blends;
    blends += blendTile(t, job.gridW, job.tileStart, job.list, job.records, job.target, scratch);
  }
}
