/**
 * ImageNet initialization of the RGB branch (METHOD.md §10 row 9): read a user-supplied timm `convnext_tiny`
 * safetensors file and map timm's parameter names and layouts onto ours. timm keeps conv weights OIHW and
 * depthwise weights `[C, 1, k, k]`; ours are OHWI and `[C, k, k]`; linear and norm tensors are the same.
 * timm's classifier head (`head.*`) is not part of the branch and is ignored.
 */
import { numpy as np } from "../../nn/jax.ts";
import { ConfigError, InvalidFileError } from "../../core/errors.ts";
import { float16BitsToFloat32, readSafetensors, type HostTensor, type SafetensorsFile } from "../../nn/safetensors.ts";
import type { ConvNextConfig } from "../configs.ts";
import type { ConvNextStageParams } from "./convnext.ts";

/** Float32 host values of a tensor, whatever float type it was stored in. */
function toFloat32(t: HostTensor, name: string, source: string): Float32Array {
  if (t.dtype === "F32") return t.data as Float32Array;
  if (t.dtype === "F16") return float16BitsToFloat32(t.data as Uint16Array);
  if (t.dtype === "F64") return Float32Array.from(t.data as Float64Array);
  throw new InvalidFileError(source, `tensor ${name} has dtype ${t.dtype}, expected a float type`);
}

/**
 * The ConvNeXt-branch parameters from a timm file already in memory. Throws an InvalidFileError naming the
 * first tensor that is missing or has the wrong shape.
 */
export function convNextFromTimm(file: SafetensorsFile, cfg: ConvNextConfig, source: string): ConvNextStageParams[] {
  const take = (name: string, shape: number[]): Float32Array => {
    const t = file.tensors.get(name);
    if (t === undefined) throw new InvalidFileError(source, `tensor ${name} is missing`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new InvalidFileError(source, `tensor ${name} has shape [${t.shape.join(", ")}], expected [${shape.join(", ")}]`);
    }
    return toFloat32(t, name, source);
  };
  const vec = (name: string, n: number): np.Array => np.array(take(name, [n]));
  const mat = (name: string, o: number, i: number): np.Array => np.array(take(name, [o, i])).reshape([o, i]);
  // OIHW → OHWI.
  const conv = (name: string, o: number, i: number, k: number): np.Array =>
    np.array(take(name, [o, i, k, k])).reshape([o, i, k, k]).transpose([0, 2, 3, 1]);
  const stages: ConvNextStageParams[] = [];
  for (let s = 0; s < 4; s++) {
    const C = cfg.dims[s];
    const down =
      s === 0
        ? { conv: { weight: conv("stem.0.weight", C, 3, 4), bias: vec("stem.0.bias", C) }, norm: { weight: vec("stem.1.weight", C), bias: vec("stem.1.bias", C) } }
        : {
            norm: { weight: vec(`stages.${s}.downsample.0.weight`, cfg.dims[s - 1]), bias: vec(`stages.${s}.downsample.0.bias`, cfg.dims[s - 1]) },
            conv: { weight: conv(`stages.${s}.downsample.1.weight`, C, cfg.dims[s - 1], 2), bias: vec(`stages.${s}.downsample.1.bias`, C) },
          };
    const blocks = [];
    for (let b = 0; b < cfg.depths[s]; b++) {
      const p = `stages.${s}.blocks.${b}`;
      blocks.push({
        dw: { weight: np.array(take(`${p}.conv_dw.weight`, [C, 1, 7, 7])).reshape([C, 7, 7]), bias: vec(`${p}.conv_dw.bias`, C) },
        norm: { weight: vec(`${p}.norm.weight`, C), bias: vec(`${p}.norm.bias`, C) },
        pw1: { weight: mat(`${p}.mlp.fc1.weight`, 4 * C, C), bias: vec(`${p}.mlp.fc1.bias`, 4 * C) },
        pw2: { weight: mat(`${p}.mlp.fc2.weight`, C, 4 * C), bias: vec(`${p}.mlp.fc2.bias`, C) },
        gamma: vec(`${p}.gamma`, C),
      });
    }
    // Key order as `ConvNext.init` builds it, so flattened paths match a freshly initialized tree.
    stages.push({ down: { norm: down.norm, conv: down.conv }, blocks });
  }
  return stages;
}

/** Load a timm `convnext_tiny` safetensors file for the RGB branch of `cfg` (the `paper` config's ConvNeXt-T). */
export function loadTimmConvNext(path: string, cfg: ConvNextConfig): ConvNextStageParams[] {
  if (cfg.dims[0] !== 96 || cfg.dims[3] !== 768) {
    throw new ConfigError("rgb.dims", `timm convnext_tiny weights fit ConvNeXt-T (96…768), not [${cfg.dims.join(", ")}]`);
  }
  return convNextFromTimm(readSafetensors(path), cfg, path);
}
