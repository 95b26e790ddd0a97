/**
 * The viewer's scene payload (`GET /api/scene.bin`): one binary blob the browser turns into GPU buffers with no
 * parsing beyond typed-array views. Shared by the server (encode) and the browser bundle (decode); pure code,
 * no Node imports.
 *
 * Layout, little-endian:
 * - bytes 0..7: the ASCII magic `RTGS2VW1`;
 * - bytes 8..11: u32 J, the byte length of a UTF-8 JSON header ({@link ViewerSceneHeader});
 * - bytes 12..12+J: the header, then zero padding up to a multiple of 16;
 * - the sections the header lists, each at its `offset` (a multiple of 16, from the start of the blob).
 *
 * Sections (N = count), values already activated so shaders read them as they are:
 * - `position` f32 [N·3], metres, the splat file's axes;
 * - `scale` f32 [N·3], linear standard deviations exp(log-scale);
 * - `rotation` f32 [N·4], unit quaternions (w, x, y, z) (a zero quaternion becomes identity);
 * - `opacity` f32 [N], sigmoid(logit);
 * - `sh` f32 [N·(K+1)·3], K = (degree+1)² − 1: DC then the rest coefficients, coefficient-major, colour channel
 *   innermost (the GaussianCloud layout);
 * - `features` f32 [N·C], optional: the `f_pc_0..C−1` channels interleaved;
 * - `label` u16 [N], optional: per-Gaussian class index (65535 = unknown).
 */

export const VIEWER_MAGIC = "RTGS2VW1";

export type SectionName = "position" | "scale" | "rotation" | "opacity" | "sh" | "features" | "label";

export interface SectionInfo {
  name: SectionName;
  type: "f32" | "u16";
  /** Values per Gaussian. */
  components: number;
  offset: number;
  byteLength: number;
}

export interface ViewerSceneHeader {
  count: number;
  shDegree: number;
  /** Feature channels (0 when the scene has no `f_pc_*`). */
  featureChannels: number;
  sections: SectionInfo[];
}

/** The arrays of a decoded payload (views into the blob, no copy). */
export interface ViewerScene {
  header: ViewerSceneHeader;
  count: number;
  shDegree: number;
  position: Float32Array;
  scale: Float32Array;
  rotation: Float32Array;
  opacity: Float32Array;
  sh: Float32Array;
  features?: Float32Array;
  featureChannels: number;
  label?: Uint16Array;
}

/** The raw per-Gaussian arrays the encoder needs (a GaussianCloud provides them). */
export interface ViewerSource {
  count: number;
  shDegree: number;
  positions: Float32Array;
  logScales: Float32Array;
  rotations: Float32Array;
  opacityLogits: Float32Array;
  shDc: Float32Array;
  shRest: Float32Array;
  /** Interleaved [N·C] features, when present. */
  features?: { values: Float32Array; channels: number };
  label?: Uint16Array;
}

const align16 = (n: number) => (n + 15) & ~15;

/** Encode a scene as the payload above. */
export function encodeViewerScene(src: ViewerSource): Uint8Array {
  const N = src.count;
  const K = (src.shDegree + 1) * (src.shDegree + 1) - 1;
  const specs: { name: SectionName; type: "f32" | "u16"; components: number }[] = [
    { name: "position", type: "f32", components: 3 },
    { name: "scale", type: "f32", components: 3 },
    { name: "rotation", type: "f32", components: 4 },
    { name: "opacity", type: "f32", components: 1 },
    { name: "sh", type: "f32", components: (K + 1) * 3 },
  ];
  if (src.features) specs.push({ name: "features", type: "f32", components: src.features.channels });
  if (src.label) specs.push({ name: "label", type: "u16", components: 1 });
  // The header's length depends on the offsets, which depend on the header's length: lay out with a generous
  // fixed header budget, then shrink to the real size.
  const layout = (headerBytes: number): ViewerSceneHeader => {
    let at = align16(12 + headerBytes);
    const sections = specs.map((s) => {
      const byteLength = N * s.components * (s.type === "f32" ? 4 : 2);
      const info: SectionInfo = { ...s, offset: at, byteLength };
      at = align16(at + byteLength);
      return info;
    });
    return { count: N, shDegree: src.shDegree, featureChannels: src.features?.channels ?? 0, sections };
  };
  let headerBytes = 0;
  let header = layout(0);
  for (let i = 0; i < 4; i++) {
    const len = new TextEncoder().encode(JSON.stringify(header)).length;
    if (len === headerBytes) break;
    headerBytes = len;
    header = layout(headerBytes);
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  if (json.length !== headerBytes) throw new Error("viewer payload header did not settle");
  const last = header.sections[header.sections.length - 1];
  const out = new Uint8Array(align16(last.offset + last.byteLength));
  const dv = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = VIEWER_MAGIC.charCodeAt(i);
  dv.setUint32(8, json.length, true);
  out.set(json, 12);
  const f32 = (name: SectionName) => {
    const s = header.sections.find((x) => x.name === name)!;
    return new Float32Array(out.buffer, s.offset, s.byteLength / 4);
  };
  f32("position").set(src.positions.subarray(0, N * 3));
  const scale = f32("scale");
  for (let i = 0; i < N * 3; i++) scale[i] = Math.exp(src.logScales[i]);
  const rot = f32("rotation");
  for (let i = 0; i < N; i++) {
    const q = src.rotations.subarray(i * 4, i * 4 + 4);
    const n = Math.hypot(q[0], q[1], q[2], q[3]);
    if (n > 0) for (let c = 0; c < 4; c++) rot[i * 4 + c] = q[c] / n;
    else rot[i * 4] = 1;
  }
  const op = f32("opacity");
  for (let i = 0; i < N; i++) op[i] = 1 / (1 + Math.exp(-src.opacityLogits[i]));
  const sh = f32("sh");
  const stride = (K + 1) * 3;
  for (let i = 0; i < N; i++) {
    sh.set(src.shDc.subarray(i * 3, i * 3 + 3), i * stride);
    if (K > 0) sh.set(src.shRest.subarray(i * K * 3, (i + 1) * K * 3), i * stride + 3);
  }
  if (src.features) f32("features").set(src.features.values.subarray(0, N * src.features.channels));
  if (src.label) {
    const s = header.sections.find((x) => x.name === "label")!;
    new Uint16Array(out.buffer, s.offset, N).set(src.label.subarray(0, N));
  }
  return out;
}

/**
 * Decode a payload; `source` names it in errors.
 * @throws Error naming `source` for a wrong magic, a truncated blob or an inconsistent header.
 */
export function decodeViewerScene(bytes: Uint8Array, source = "scene.bin"): ViewerScene {
  const fail = (why: string): never => {
    throw new Error(`${source}: ${why}`);
  };
  if (bytes.length < 12) fail(`truncated (${bytes.length} B)`);
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (magic !== VIEWER_MAGIC) fail(`wrong magic "${magic}", expected ${VIEWER_MAGIC}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const jsonLen = dv.getUint32(8, true);
  if (12 + jsonLen > bytes.length) fail(`header length ${jsonLen} runs past the end`);
  let header: ViewerSceneHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + jsonLen))) as ViewerSceneHeader;
  } catch (err) {
    return fail(`bad header JSON (${(err as Error).message})`);
  }
  const N = header.count;
  if (!Number.isInteger(N) || N < 0) fail(`bad count ${N}`);
  const view = (name: SectionName, required: boolean) => {
    const s = header.sections.find((x) => x.name === name);
    if (!s) return required ? fail(`missing section ${name}`) : undefined;
    const size = s.type === "f32" ? 4 : 2;
    if (s.byteLength !== N * s.components * size) fail(`section ${name}: ${s.byteLength} B for ${N}×${s.components}`);
    if (s.offset % 16 !== 0 || s.offset + s.byteLength > bytes.length) fail(`section ${name} out of bounds`);
    const at = bytes.byteOffset + s.offset;
    if (at % size !== 0) {
      const copy = bytes.slice(s.offset, s.offset + s.byteLength);
      return s.type === "f32" ? new Float32Array(copy.buffer) : new Uint16Array(copy.buffer);
    }
    return s.type === "f32" ? new Float32Array(bytes.buffer, at, s.byteLength / 4) : new Uint16Array(bytes.buffer, at, N);
  };
  return {
    header,
    count: N,
    shDegree: header.shDegree,
    position: view("position", true) as Float32Array,
    scale: view("scale", true) as Float32Array,
    rotation: view("rotation", true) as Float32Array,
    opacity: view("opacity", true) as Float32Array,
    sh: view("sh", true) as Float32Array,
    features: view("features", false) as Float32Array | undefined,
    featureChannels: header.featureChannels,
    label: view("label", false) as Uint16Array | undefined,
  };
}
