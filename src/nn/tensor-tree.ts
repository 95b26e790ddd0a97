/**
 * Parsed safetensors → device arrays in a parameter tree's layout, with the checks every loader needs: each leaf's
 * tensor present, of the leaf's shape and dtype (F16 widened to float32 where allowed). No Node imports: the Node
 * checkpoint loader and the browser viewer's loader share it.
 */
import { numpy as np } from "./jax.ts";
import { InvalidFileError } from "../core/errors.ts";
import { flattenParams, type ParamTree } from "./params.ts";
import { float16BitsToFloat32, type SafetensorsDType, type SafetensorsFile } from "./safetensors-decode.ts";

/** The safetensors dtype of an array (checkpoints hold float32/64 and int32/uint32 only). */
export function dtypeOf(a: np.Array): SafetensorsDType {
  switch (a.dtype) {
    case "float32":
      return "F32";
    case "float64":
      return "F64";
    case "int32":
      return "I32";
    case "uint32":
      return "U32";
    default:
      throw new TypeError(`cannot checkpoint a ${a.dtype} array`);
  }
}

/**
 * For every leaf of `template` (read for paths, shapes and dtypes; not consumed), the tensor named `prefix + path`
 * as a device array, keyed by the leaf's path. Names taken are added to `used` (for strict loaders).
 * @throws InvalidFileError naming `source` and the first missing tensor, shape mismatch or dtype mismatch.
 */
export function tensorsForTree(
  st: SafetensorsFile,
  template: ParamTree,
  source: string,
  options: { prefix?: string; allowFloat16?: boolean; used?: Set<string> } = {},
): Map<string, np.Array> {
  const prefix = options.prefix ?? "";
  const values = new Map<string, np.Array>();
  for (const [path, a] of flattenParams(template)) {
    const name = prefix + path;
    const t = st.tensors.get(name);
    if (t === undefined) throw new InvalidFileError(source, `missing tensor "${name}" (expected ${a.dtype} [${a.shape.join(", ")}])`);
    if (t.shape.length !== a.shape.length || t.shape.some((d, i) => d !== a.shape[i])) {
      throw new InvalidFileError(source, `tensor "${name}": expected shape [${a.shape.join(", ")}], file has [${t.shape.join(", ")}]`);
    }
    const want = dtypeOf(a);
    let data = t.data;
    if (t.dtype !== want) {
      if (!(t.dtype === "F16" && want === "F32" && (options.allowFloat16 ?? true))) {
        throw new InvalidFileError(source, `tensor "${name}": expected dtype ${want}, file has ${t.dtype}`);
      }
      data = float16BitsToFloat32(t.data as Uint16Array);
    }
    options.used?.add(name);
    values.set(path, np.array(data as Float32Array).reshape(a.shape));
  }
  return values;
}
