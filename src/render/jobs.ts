/** Render jobs: projection ranges and tile blending, run by render workers or inline on the calling thread. */
import { projectGaussians, type ProjectCamera, type ProjectSource } from "./project.ts";
import { countTiles } from "./bin.ts";
import { runBlendJob, type WasmBlendJob } from "./wasm-blend.ts";

export interface ProjectJob {
  kind: "project";
  source: ProjectSource;
  camera: ProjectCamera;
  start: number;
  end: number;
  records: Float32Array;
  rects: Int32Array;
  gridW: number;
  /** This thread's own [tiles + 1] tile counts (see countTiles), summed by the caller. */
  counts: Uint32Array;
}

export type BlendJob = WasmBlendJob;
export type RenderJob = ProjectJob | BlendJob;

/** Run a job; returns the Gaussians projected or the splat-pixel blends performed. */
export function runJob(job: RenderJob): number {
  switch (job.kind) {
    case "project":
      projectGaussians(job.source, job.camera, job.start, job.end, job.records, job.rects);
      countTiles(job.rects, job.start, job.end, job.gridW, job.counts);
      return job.end - job.start;
    case "blend":
      return runBlendJob(job);
  }
}
