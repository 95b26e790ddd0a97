/**
 * VDVI checkpoints (ARCHITECTURE.md §4): parameters, BatchNorm statistics, optionally AdamW moments, and the
 * flat metadata `config`, `step`, `rng`, `classes`, `encoder`, `finetuneScene`, plus the training settings a
 * resume must match (`train`), the epoch and the best validation score so far.
 */
import { existsSync } from "node:fs";
import { ConfigError, InvalidFileError, MissingFileError } from "../../core/errors.ts";
import { Rng, type RngState } from "../../core/rng.ts";
import type { ClassInfo } from "../../datasets/class-tables.ts";
import { loadCheckpoint, saveCheckpoint } from "../../nn/checkpoint.ts";
import type { AdamWState } from "../../nn/optim.ts";
import type { ParamTree } from "../../nn/params.ts";
import { validateConfig, type VdviConfig } from "../../models/configs.ts";
import { VdviNet, type BnStates, type VdviParams } from "../../models/vdvi/index.ts";

/** Metadata key marking a VDVI checkpoint. */
export const VDVI_KIND = "vdvi";

/** What a VDVI checkpoint says about itself. */
export interface VdviCheckpointInfo {
  config: VdviConfig;
  classes: ClassInfo[];
  /** Encoder id of the features it was trained on (`random:<seed>` for the control). */
  encoder: string;
  finetuneScene?: string;
  step: number;
  epoch: number;
  /** Best validation score so far (mIoU percent; for depth, −AbsRel), or null before the first validation. */
  best: number | null;
  /** The training settings (JSON), compared on `--resume`. */
  train?: Record<string, unknown>;
  rng?: RngState;
}

/** A loaded VDVI checkpoint. */
export interface LoadedVdvi extends VdviCheckpointInfo {
  net: VdviNet;
  params: VdviParams;
  state: BnStates;
  optimizer?: AdamWState;
  metadata: Record<string, string>;
  path: string;
}

/** Save a VDVI checkpoint atomically (arrays are read, not consumed). */
export function saveVdviCheckpoint(
  path: string,
  params: VdviParams,
  state: BnStates,
  info: VdviCheckpointInfo,
  optimizer?: AdamWState,
  options: { float16?: boolean } = {},
): void {
  const metadata: Record<string, string> = {
    kind: VDVI_KIND,
    classes: JSON.stringify(info.classes),
    encoder: info.encoder,
    epoch: String(info.epoch),
    best: JSON.stringify(info.best),
  };
  if (info.finetuneScene !== undefined) metadata.finetuneScene = info.finetuneScene;
  if (info.train !== undefined) metadata.train = JSON.stringify(info.train);
  saveCheckpoint(
    path,
    {
      params,
      buffers: state as unknown as ParamTree,
      optimizer,
      config: info.config,
      step: info.step,
      rng: info.rng ?? new Rng(0).getState(),
      metadata,
    },
    options,
  );
}

function parseMeta<T>(file: string, meta: Record<string, string>, key: string): T {
  const text = meta[key];
  if (text === undefined) throw new InvalidFileError(file, `no "${key}" in the checkpoint metadata`);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new InvalidFileError(file, `metadata "${key}" is not valid JSON`);
  }
}

/**
 * Load a VDVI checkpoint, rebuilding the network from its stored config. `optimizer: true` also loads the AdamW
 * moments (training checkpoints only).
 * @throws MissingFileError when the file is absent; InvalidFileError for a file that is not a VDVI checkpoint.
 */
export function loadVdviCheckpoint(path: string, options: { optimizer?: boolean } = {}): LoadedVdvi {
  if (!existsSync(path)) throw new MissingFileError(path, "checkpoint not found");
  const probe = loadCheckpoint(path, {}, { strict: false });
  const meta = probe.metadata;
  if (meta.kind !== VDVI_KIND) throw new InvalidFileError(path, `not a VDVI checkpoint (kind "${meta.kind ?? ""}")`);
  const config = probe.config as VdviConfig | undefined;
  if (config === undefined) throw new InvalidFileError(path, "no config in the checkpoint metadata");
  try {
    validateConfig(config);
  } catch (e) {
    if (e instanceof ConfigError) throw new InvalidFileError(path, `stored config: ${e.message}`);
    throw e;
  }
  const net = new VdviNet(config);
  const loaded = loadCheckpoint<VdviParams, ParamTree>(path, net.init(new Rng(0)), {
    buffers: net.initState() as unknown as ParamTree,
    optimizer: options.optimizer ?? false,
  });
  const classes = parseMeta<ClassInfo[]>(path, meta, "classes");
  const out: LoadedVdvi = {
    net,
    params: loaded.params,
    state: loaded.buffers as unknown as BnStates,
    optimizer: loaded.optimizer,
    metadata: meta,
    path,
    config,
    classes,
    encoder: meta.encoder ?? "unrecorded",
    step: loaded.step ?? 0,
    epoch: Number(meta.epoch ?? 0),
    best: meta.best === undefined ? null : parseMeta<number | null>(path, meta, "best"),
    rng: loaded.rng,
  };
  if (meta.finetuneScene !== undefined) out.finetuneScene = meta.finetuneScene;
  if (meta.train !== undefined) out.train = parseMeta<Record<string, unknown>>(path, meta, "train");
  return out;
}
