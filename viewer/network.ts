/**
 * The VDVI network in the browser: a checkpoint's bytes (as served at `/api/model.safetensors`) → the network of
 * its stored config with its weights, on a jax-js device, and a jitted eval forward that returns class logits.
 *
 * Everything here is the model code of `src/models/vdvi` and the safetensors parser of `src/nn` unchanged; in the
 * bundle `src/nn/jax.ts` resolves to `viewer/jax.ts` (see `src/viewer-server/bundle.ts`). The module also runs
 * in Node (through the Node jax door), which the tests use to check the loader against `loadVdviCheckpoint`.
 */
import { defaultDevice, init, jit, numpy as np, type Device, type OwnedFunction } from "../src/nn/jax.ts";
import { InvalidFileError } from "../src/core/errors.ts";
import { Rng } from "../src/core/rng.ts";
import type { ClassInfo } from "../src/datasets/class-tables.ts";
import { validateConfig, type VdviConfig } from "../src/models/configs.ts";
import type { BnStates } from "../src/models/vdvi/context.ts";
import { VdviNet, type VdviParams } from "../src/models/vdvi/net.ts";
import { disposeParams, refParams, unflattenParams, type ParamTree } from "../src/nn/params.ts";
import { decodeSafetensors, type SafetensorsFile } from "../src/nn/safetensors-decode.ts";
import { tensorsForTree } from "../src/nn/tensor-tree.ts";

/** jax-js devices the viewer can run the network on (`nn=` picks one). */
export const NETWORK_DEVICES: readonly Device[] = ["webgpu", "webgl", "wasm"];

/**
 * The devices tried when `nn=` is not given, best first. `webgl` is left out: on SwiftShader the jitted VDVI loses
 * the WebGL context (narrowed to MiT's depthwise 3×3 conv → geluFast jitted together; each alone runs), the
 * un-jitted network runs and matches wasm, and no hardware WebGL was available to show that the jitted one works;
 * `nn=webgl` still selects it.
 */
export const DEFAULT_NETWORK_DEVICES: readonly Device[] = ["webgpu", "wasm"];

/**
 * Initialise jax-js and make the first available device of `order` the default one.
 * @throws Error naming the devices tried when none is available.
 */
export async function initNetworkDevice(order: readonly Device[] = DEFAULT_NETWORK_DEVICES): Promise<Device> {
  let available: Device[] = [];
  try {
    available = await init(...order);
  } catch (err) {
    throw new Error(`jax-js init(${order.join(", ")}) failed: ${(err as Error).message}`);
  }
  const device = order.find((d) => available.includes(d));
  if (device === undefined) throw new Error(`jax-js: none of the devices ${order.join(", ")} is available here`);
  defaultDevice(device);
  return device;
}

/** A VDVI checkpoint read from bytes, weights on the current default jax-js device. */
export interface BrowserVdvi {
  net: VdviNet;
  config: VdviConfig;
  params: VdviParams;
  state: BnStates;
  classes: ClassInfo[];
  encoder: string;
}

function metaJson<T>(source: string, meta: Record<string, string>, key: string): T {
  const text = meta[key];
  if (text === undefined) throw new InvalidFileError(source, `no "${key}" in the checkpoint metadata`);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new InvalidFileError(source, `metadata "${key}" is not valid JSON`);
  }
}

/**
 * Build the network a VDVI checkpoint describes and load its weights (float32 or float16 tensors) onto the default
 * device. Names, shapes and dtypes are checked against the network's own parameter and BatchNorm trees, as
 * `loadCheckpoint` does in Node.
 * @throws InvalidFileError naming `source` for a file that is not a semantic VDVI checkpoint or does not fit it.
 */
export function vdviFromSafetensors(bytes: Uint8Array, source: string): BrowserVdvi {
  const st: SafetensorsFile = decodeSafetensors(bytes, source);
  const meta = st.metadata;
  if (meta.kind !== "vdvi") throw new InvalidFileError(source, `not a VDVI checkpoint (kind "${meta.kind ?? ""}")`);
  const config = metaJson<VdviConfig>(source, meta, "config");
  try {
    validateConfig(config);
  } catch (e) {
    throw new InvalidFileError(source, `stored config: ${(e as Error).message}`);
  }
  if (config.task === "depth") throw new InvalidFileError(source, "a depth checkpoint cannot segment (the viewer needs a semantic one)");
  const classes = metaJson<ClassInfo[]>(source, meta, "classes");
  const net = new VdviNet(config);
  const fill = <T extends ParamTree>(template: T): T => {
    const values = tensorsForTree(st, template, source);
    const out = unflattenParams(template, values);
    disposeParams(template);
    return out;
  };
  const params = fill(net.init(new Rng(0)));
  const state = fill(net.initState() as unknown as ParamTree) as unknown as BnStates;
  return { net, config, params, state, classes, encoder: meta.encoder ?? "unrecorded" };
}

/** The eval forward of a loaded network: RGB `[H·W·3]` (0–1) + features `[H·W·C]` → logits `[H·W·K]`. */
export class NetworkRunner {
  readonly #fn: OwnedFunction<(...args: never[]) => unknown>;
  constructor(readonly model: BrowserVdvi) {
    const net = model.net;
    this.#fn = jit((p: VdviParams, s: BnStates, rgb: np.Array, feat: np.Array) => {
      const out = net.apply(p, s, { rgb, features: feat }, { train: false });
      out.z.dispose();
      for (const v of Object.values(out.state)) {
        v.runningMean.dispose();
        v.runningVar.dispose();
      }
      return out.logits;
    });
  }

  get numClasses(): number {
    return this.model.config.numClasses;
  }

  /** Run one image; resolves with the logits on the host (the device read-back included). */
  async run(rgb: Float32Array, features: Float32Array, width: number, height: number): Promise<Float32Array> {
    const C = this.model.config.feat.inChannels;
    if (rgb.length !== width * height * 3) throw new Error(`network input: ${rgb.length} RGB values for ${width}×${height}`);
    if (features.length !== width * height * C) throw new Error(`network input: ${features.length} feature values for ${width}×${height}×${C}`);
    const { params, state } = this.model;
    const refState: BnStates = {};
    for (const [k, v] of Object.entries(state)) refState[k] = { runningMean: v.runningMean.ref, runningVar: v.runningVar.ref };
    const y = (this.#fn as unknown as (p: VdviParams, s: BnStates, r: np.Array, f: np.Array) => np.Array)(
      refParams(params),
      refState,
      np.array(rgb).reshape([1, height, width, 3]),
      np.array(features).reshape([1, height, width, C]),
    );
    return (await y.data()) as Float32Array;
  }

  dispose(): void {
    this.#fn.dispose();
  }
}

/** Per-pixel argmax of `[P·K]` logits (the first maximum on ties). */
export function argmaxClasses(logits: Float32Array, K: number): Uint16Array {
  const P = logits.length / K;
  const out = new Uint16Array(P);
  for (let i = 0; i < P; i++) {
    let best = 0;
    let v = logits[i * K];
    for (let k = 1; k < K; k++) {
      if (logits[i * K + k] > v) {
        v = logits[i * K + k];
        best = k;
      }
    }
    out[i] = best;
  }
  return out;
}
