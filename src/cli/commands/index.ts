/** Every CLI command, registered on the program in the order `rtgs2 --help` lists them. */
import type { Command } from "commander";
import { registerInfo } from "./info.ts";
import { registerConvert } from "./convert.ts";
import { registerRender } from "./render.ts";
import { registerBench } from "./bench.ts";
import { registerDemo } from "./demo.ts";
import { registerBenchNn } from "./bench-nn.ts";
import { registerSynth } from "./synth.ts";
import { registerModelInfo } from "./model-info.ts";
import { registerBenchModel } from "./bench-model.ts";
import { registerBenchEncode } from "./bench-encode.ts";
import { registerBenchPipeline } from "./bench-pipeline.ts";
import { registerTrain } from "./train.ts";
import { registerEval } from "./eval.ts";
import { registerSegment } from "./segment.ts";
import { registerLift } from "./lift.ts";
import { registerPretrain } from "./pretrain.ts";
import { registerExport } from "./export.ts";
import { registerProbe } from "./probe.ts";
import { registerView } from "./view.ts";
import { registerEncode } from "./encode.ts";

export function registerCommands(program: Command): void {
  registerDemo(program);
  registerInfo(program);
  registerConvert(program);
  registerRender(program);
  registerSynth(program);
  registerModelInfo(program);
  registerTrain(program);
  registerEval(program);
  registerSegment(program);
  registerLift(program);
  registerPretrain(program);
  registerEncode(program);
  registerExport(program);
  registerProbe(program);
  registerView(program);
  const bench = registerBench(program);
  registerBenchNn(bench);
  registerBenchModel(bench);
  registerBenchEncode(bench);
  registerBenchPipeline(bench);
}
