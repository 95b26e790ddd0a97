/**
 * Converters between rtgs2's `Camera` (world-to-camera, OpenCV axes: x right, y down, z forward; pixel centres
 * at +0.5) and the camera conventions of the files we read. Every foreign convention is converted here, once,
 * and nowhere else (ARCHITECTURE.md §4).
 *
 * | source | pose stored as | axes | principal point |
 * |---|---|---|---|
 * | Inria 3DGS `cameras.json` | `position` = centre, `rotation` = camera-to-world 3×3 (rows as written) | OpenCV | not stored: W/2, H/2 (ours may add cx, cy, half-pixel) |
 * | nerfstudio / instant-ngp `transforms.json` | `transform_matrix` camera-to-world 4×4 | OpenGL (x right, y up, z back) | cx, cy as stored (half-pixel convention) |
 * | Replica `traj_w_c.txt` | one camera-to-world 4×4 per line, row-major | OpenCV | separate; integer-centre → +0.5 |
 * | ScanNet `pose/*.txt` | camera-to-world 4×4, 4 lines; all −inf = tracking lost | OpenCV | `intrinsic/*.txt`, integer-centre → +0.5 |
 */
import { lookAtCamera, validateCamera, cameraCenter, type Camera, type Intrinsics } from "./camera.ts";
import { ConfigError, InvalidFileError, UnsupportedFormatError } from "./errors.ts";
import { readJsonChecked, readTextChecked, writeFileAtomic } from "./fs.ts";
import { invertRigid4, normalize3, cross3, scale3, sub3, type Mat4, type Vec3 } from "./math.ts";

export type { Intrinsics } from "./camera.ts";

/** Largest deviation of RᵀR from I (and of the bottom row from [0 0 0 1]) accepted in a pose. */
const RIGID_TOLERANCE = 1e-3;

// ---------------------------------------------------------------------------------------------------------------
// Matrices

/**
 * Why `m` (row-major 4×4) is not a rigid transform, or null if it is one: finite, bottom row [0 0 0 1],
 * orthonormal rotation with determinant +1 (a reflection would mirror the image).
 */
export function rigidProblem(m: ArrayLike<number>): string | null {
  if (m.length !== 16) return `expected 16 numbers, got ${m.length}`;
  for (let i = 0; i < 16; i++) if (!Number.isFinite(m[i])) return `entry ${i} is ${m[i]}, not a finite number`;
  if (Math.abs(m[12]) + Math.abs(m[13]) + Math.abs(m[14]) + Math.abs(m[15] - 1) > RIGID_TOLERANCE) {
    return `bottom row is [${m[12]} ${m[13]} ${m[14]} ${m[15]}], expected [0 0 0 1]`;
  }
  let worst = 0;
  for (let a = 0; a < 3; a++)
    for (let b = 0; b < 3; b++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += m[k * 4 + a] * m[k * 4 + b];
      worst = Math.max(worst, Math.abs(s - (a === b ? 1 : 0)));
    }
  if (worst > RIGID_TOLERANCE) return `rotation is not orthonormal (|RᵀR − I| = ${worst.toExponential(2)})`;
  const det =
    m[0] * (m[5] * m[10] - m[6] * m[9]) - m[1] * (m[4] * m[10] - m[6] * m[8]) + m[2] * (m[4] * m[9] - m[5] * m[8]);
  if (det < 0) return "rotation has determinant −1 (a reflection, not a rotation)";
  return null;
}

/**
 * A row-major 4×4 from JSON-like data: 4 rows of 4, 3 rows of 4 (bottom row [0 0 0 1] implied), or 16 flat
 * numbers. Returns a reason string instead of throwing, so each caller can raise its own error type.
 */
function matrixFromJson(value: unknown): Mat4 | string {
  let flat: unknown[];
  if (Array.isArray(value) && value.length === 16) flat = value;
  else if (Array.isArray(value) && (value.length === 4 || value.length === 3) && value.every(Array.isArray)) {
    if (!value.every((row: unknown[]) => row.length === 4)) return "rows must hold 4 numbers each";
    flat = (value as unknown[][]).flat();
    if (value.length === 3) flat.push(0, 0, 0, 1);
  } else return "must be a 4×4 (or 3×4) array of numbers";
  const m = new Float64Array(16);
  for (let i = 0; i < 16; i++) {
    const v = flat[i];
    if (typeof v !== "number") return `entry ${i} is ${JSON.stringify(v)}, not a number`;
    m[i] = v;
  }
  return m;
}

function toMat4(m: ArrayLike<number>, field: string): Mat4 {
  const problem = rigidProblem(m);
  if (problem) throw new ConfigError(field, problem);
  return Float64Array.from(m);
}

/** Right-multiply by diag(1, −1, −1, 1): flips the camera's y and z axes (OpenCV ⇄ OpenGL); its own inverse. */
function flipYZ(c2w: Mat4): Mat4 {
  const out = Float64Array.from(c2w);
  for (let r = 0; r < 4; r++) {
    out[r * 4 + 1] = -out[r * 4 + 1];
    out[r * 4 + 2] = -out[r * 4 + 2];
  }
  return out;
}

/** Copy intrinsics out of anything that has them (a Camera, say), dropping other fields. */
export function intrinsicsOf(c: Intrinsics): Intrinsics {
  return { width: c.width, height: c.height, fx: c.fx, fy: c.fy, cx: c.cx, cy: c.cy };
}

function makeCamera(view: Mat4, intr: Intrinsics, name?: string): Camera {
  const cam: Camera = { ...intrinsicsOf(intr), viewMatrix: view };
  if (name !== undefined) cam.name = name;
  return cam;
}

// ---------------------------------------------------------------------------------------------------------------
// Generic camera-to-world converters

/**
 * A Camera from a camera-to-world 4×4 (row-major) in the OpenCV convention (x right, y down, z forward): the
 * convention of COLMAP, Replica and ScanNet. Throws ConfigError("c2w") on a non-rigid matrix.
 */
export function cameraFromOpenCvC2W(c2w: ArrayLike<number>, intr: Intrinsics, name?: string): Camera {
  return makeCamera(invertRigid4(toMat4(c2w, "c2w")), intr, name);
}

/** The camera-to-world 4×4 (row-major, OpenCV axes) of a camera; inverse of `cameraFromOpenCvC2W`. */
export function cameraToOpenCvC2W(cam: Camera): Mat4 {
  return invertRigid4(cam.viewMatrix);
}

/**
 * A Camera from a camera-to-world 4×4 (row-major) in the OpenGL convention (x right, y up, z backward): the
 * convention of nerfstudio, instant-ngp and NeRF `transforms.json`. Throws ConfigError("c2w") on a non-rigid matrix.
 */
export function cameraFromOpenGlC2W(c2w: ArrayLike<number>, intr: Intrinsics, name?: string): Camera {
  return makeCamera(invertRigid4(flipYZ(toMat4(c2w, "c2w"))), intr, name);
}

/** The OpenGL camera-to-world 4×4 of a camera; inverse of `cameraFromOpenGlC2W`. */
export function cameraToOpenGlC2W(cam: Camera): Mat4 {
  return flipYZ(invertRigid4(cam.viewMatrix));
}

// ---------------------------------------------------------------------------------------------------------------
// Intrinsics

/**
 * Intrinsics from a 3×3 (9 numbers) or 4×4 (16 numbers) row-major K matrix. `integerCentre` (default true)
 * says K puts pixel centres at integers, as OpenCV calibrations do (ScanNet, Replica's cx = 319.5); then
 * cx and cy get +0.5 to match rtgs2's half-pixel convention.
 */
export function intrinsicsFromK(
  k: ArrayLike<number>,
  width: number,
  height: number,
  options: { integerCentre?: boolean } = {},
): Intrinsics {
  const stride = k.length === 9 ? 3 : k.length === 16 ? 4 : 0;
  if (stride === 0) throw new ConfigError("K", `must hold 9 or 16 numbers, got ${k.length}`);
  const shift = options.integerCentre ?? true ? 0.5 : 0;
  const intr = { width, height, fx: k[0], fy: k[stride + 1], cx: k[2] + shift, cy: k[stride + 2] + shift };
  checkIntrinsics(intr, "K");
  return intr;
}

/**
 * The same camera at another image size (a resized image): focal lengths and principal point scale with the
 * axis. Exact in the half-pixel convention, which is why rtgs2 uses it.
 */
export function scaleIntrinsics(intr: Intrinsics, width: number, height: number): Intrinsics {
  const sx = width / intr.width;
  const sy = height / intr.height;
  const out = { width, height, fx: intr.fx * sx, fy: intr.fy * sy, cx: intr.cx * sx, cy: intr.cy * sy };
  checkIntrinsics(out, "scaleIntrinsics");
  return out;
}

function checkIntrinsics(intr: Intrinsics, where: string): void {
  validateCamera({ ...intr, viewMatrix: new Float64Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]) }, where);
}

/**
 * Replica (Semantic-NeRF renders) intrinsics: 640×480, fx = fy = 320, principal point (319.5, 239.5) in the
 * integer-centre convention, i.e. (320, 240) here.
 */
export const REPLICA_INTRINSICS: Readonly<Intrinsics> = Object.freeze({
  width: 640,
  height: 480,
  fx: 320,
  fy: 320,
  cx: 320,
  cy: 240,
});

// ---------------------------------------------------------------------------------------------------------------
// File helpers

const readText = readTextChecked;
const readJson = readJsonChecked;

/** Turn validateCamera's ConfigError into an error about the file the camera came from. */
function checkCameraFrom(cam: Camera, source: string, where: string): void {
  try {
    validateCamera(cam, where);
  } catch (err) {
    if (err instanceof ConfigError) throw new InvalidFileError(source, err.message);
    throw err;
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------------------------------------------------------
// Inria 3DGS cameras.json

/** One entry of an Inria 3DGS `cameras.json` (graphdeco-inria/gaussian-splatting `camera_to_JSON`). */
export interface InriaCameraJson {
  id: number;
  img_name: string;
  width: number;
  height: number;
  /** Camera centre in world coordinates. */
  position: [number, number, number];
  /** Camera-to-world rotation, rows as written: column j is camera axis j (OpenCV x, y, z) in world coordinates. */
  rotation: [[number, number, number], [number, number, number], [number, number, number]];
  fx: number;
  fy: number;
  /** Written by rtgs2 (half-pixel convention); absent in Inria output, where the principal point is the centre. */
  cx?: number;
  cy?: number;
}

/** A camera from `cameras.json`, with its `id`. */
export interface InriaCamera extends Camera {
  id: number;
}

/**
 * Parse the content of an Inria `cameras.json`: an array of { id, img_name, width, height, position,
 * rotation, fx, fy, cx?, cy? }. `rotation` is camera-to-world (the reference writes the inverse of its
 * world-to-camera [Rᵀ | T] and keeps its upper-left block) and `position` is the camera centre. The principal
 * point is the image centre unless cx, cy are given. Returns the cameras sorted by `id` (stable), which is the
 * frame order of DATA.md. `source` names the file in errors.
 */
export function parseInriaCameras(json: unknown, source: string): InriaCamera[] {
  if (!Array.isArray(json)) throw new InvalidFileError(source, "expected a JSON array of cameras");
  const cams = json.map((entry: unknown, i): InriaCamera => {
    const where = `camera ${i}`;
    const fail = (why: string): never => {
      throw new InvalidFileError(source, `${where}: ${why}`);
    };
    if (!isObject(entry)) return fail("is not an object");
    const num = (key: string, optional = false): number | undefined => {
      const v = entry[key];
      if (v === undefined && optional) return undefined;
      if (v === undefined) return fail(`missing field "${key}"`);
      if (typeof v !== "number" || !Number.isFinite(v)) return fail(`"${key}" must be a finite number, got ${JSON.stringify(v)}`);
      return v;
    };
    const id = num("id") as number;
    const width = num("width") as number;
    const height = num("height") as number;
    const fx = num("fx") as number;
    const fy = num("fy") as number;
    const cx = num("cx", true) ?? width / 2;
    const cy = num("cy", true) ?? height / 2;
    const name = entry.img_name;
    if (name !== undefined && typeof name !== "string") fail(`"img_name" must be a string`);
    const pos = entry.position;
    if (pos === undefined) fail(`missing field "position"`);
    if (!Array.isArray(pos) || pos.length !== 3 || !pos.every((v) => typeof v === "number" && Number.isFinite(v))) {
      fail(`"position" must be 3 finite numbers, got ${JSON.stringify(pos)}`);
    }
    const rot = entry.rotation;
    if (rot === undefined) fail(`missing field "rotation"`);
    if (
      !Array.isArray(rot) ||
      rot.length !== 3 ||
      !rot.every((row) => Array.isArray(row) && row.length === 3 && row.every((v) => typeof v === "number" && Number.isFinite(v)))
    ) {
      fail(`"rotation" must be a 3×3 array of finite numbers`);
    }
    const r = rot as number[][];
    const p = pos as number[];
    const c2w = new Float64Array([...r[0], p[0], ...r[1], p[1], ...r[2], p[2], 0, 0, 0, 1]);
    const problem = rigidProblem(c2w);
    if (problem) fail(`"rotation": ${problem}`);
    const cam = makeCamera(invertRigid4(c2w), { width, height, fx, fy, cx, cy }, name as string | undefined) as InriaCamera;
    cam.id = id;
    checkCameraFrom(cam, source, where);
    return cam;
  });
  // Array.prototype.sort is stable, so equal ids keep file order.
  return cams.sort((a, b) => a.id - b.id);
}

/** Read an Inria `cameras.json` (see `parseInriaCameras`). */
export function readInriaCameras(path: string): InriaCamera[] {
  return parseInriaCameras(readJson(path), path);
}

/**
 * The `cameras.json` entry of a camera; the inverse of `parseInriaCameras`. cx and cy are always written
 * (other readers ignore them) so an off-centre principal point survives a round trip.
 */
export function cameraToInriaJson(cam: Camera, id: number): InriaCameraJson {
  const v = cam.viewMatrix;
  // c2w rotation = transpose of the world-to-camera rotation.
  const row = (i: number): [number, number, number] => [v[i], v[4 + i], v[8 + i]];
  return {
    id,
    img_name: cam.name ?? `${id}`,
    width: cam.width,
    height: cam.height,
    position: cameraCenter(cam),
    rotation: [row(0), row(1), row(2)],
    fx: cam.fx,
    fy: cam.fy,
    cx: cam.cx,
    cy: cam.cy,
  };
}

/** Write cameras as an Inria-style `cameras.json` (ids = array index), atomically. */
export function writeInriaCameras(path: string, cams: readonly Camera[]): void {
  writeFileAtomic(path, JSON.stringify(cams.map((c, i) => cameraToInriaJson(c, i)), null, 1) + "\n");
}

// ---------------------------------------------------------------------------------------------------------------
// nerfstudio / instant-ngp transforms.json

export interface TransformsOptions {
  /** Image width for files that do not store `w` (NeRF-synthetic style, which relies on the image files). */
  width?: number;
  /** Image height for files that do not store `h`. */
  height?: number;
  /**
   * What to do with non-zero distortion coefficients (k1–k4, p1, p2): "reject" (default) raises
   * UnsupportedFormatError, since a pinhole camera would misplace every pixel; "ignore" drops them.
   */
  distortion?: "reject" | "ignore";
}

const DISTORTION_KEYS = ["k1", "k2", "k3", "k4", "p1", "p2"] as const;

/**
 * Parse a nerfstudio or instant-ngp `transforms.json`. Each frame's `transform_matrix` is an OpenGL
 * camera-to-world 4×4. Intrinsics (`fl_x`, `fl_y`, `cx`, `cy`, `w`, `h`, or `camera_angle_x`/`camera_angle_y`
 * in radians) are read per frame first, then from the top level; fl_y defaults to fl_x and cx, cy to the image
 * centre. cx and cy are used as stored (these tools already use the half-pixel convention). Fisheye and
 * equirectangular models are refused. Frames keep file order; `name` is `file_path`. Any `scale`/`offset`
 * fields instant-ngp applies at load time are ignored: cameras stay in the file's world frame.
 */
export function parseTransformsJson(json: unknown, source: string, options: TransformsOptions = {}): Camera[] {
  if (!isObject(json)) throw new InvalidFileError(source, "expected a JSON object with a \"frames\" array");
  const frames = json.frames;
  if (!Array.isArray(frames)) throw new InvalidFileError(source, 'missing "frames" array');
  return frames.map((frame: unknown, i): Camera => {
    const where = `frame ${i}`;
    const fail = (why: string): never => {
      throw new InvalidFileError(source, `${where}: ${why}`);
    };
    if (!isObject(frame)) return fail("is not an object");
    const num = (obj: Json, key: string, label: string): number | undefined => {
      const v = obj[key];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new InvalidFileError(source, `${label}: "${key}" must be a finite number, got ${JSON.stringify(v)}`);
      }
      return v;
    };
    // Per-frame values override the shared ones (nerfstudio allows both).
    const pick = (key: string): number | undefined => num(frame, key, where) ?? num(json, key, "top level");
    const model = frame.camera_model ?? json.camera_model;
    if (model !== undefined && typeof model !== "string") fail(`"camera_model" must be a string`);
    if (typeof model === "string" && /FISHEYE|EQUIRECTANGULAR/i.test(model)) {
      throw new UnsupportedFormatError(
        source,
        `${where}: camera model ${model} is not a pinhole camera; undistort the images first (ScanNet++: use transforms_undistorted.json)`,
      );
    }
    if ((options.distortion ?? "reject") === "reject") {
      for (const k of DISTORTION_KEYS) {
        const v = pick(k);
        if (v !== undefined && v !== 0) {
          throw new UnsupportedFormatError(
            source,
            `${where}: lens distortion ${k} = ${v} cannot be represented by a pinhole camera; undistort the images or pass distortion: "ignore"`,
          );
        }
      }
    }
    const width = pick("w") ?? options.width;
    const height = pick("h") ?? options.height;
    if (width === undefined || height === undefined) {
      return fail('no image size: the file has no "w"/"h"; pass the width and height of its images');
    }
    // A focal length beats a field of view at the same level; a frame's value beats the top level's.
    const focal = (flKey: string, angleKey: string, pixels: number): number | undefined => {
      for (const [obj, label] of [
        [frame, where],
        [json, "top level"],
      ] as const) {
        const fl = num(obj, flKey, label);
        if (fl !== undefined) return fl;
        const angle = num(obj, angleKey, label);
        if (angle !== undefined) return (0.5 * pixels) / Math.tan(0.5 * angle);
      }
      return undefined;
    };
    const fx = focal("fl_x", "camera_angle_x", width);
    if (fx === undefined) return fail('no focal length: expected "fl_x" or "camera_angle_x"');
    const fy = focal("fl_y", "camera_angle_y", height) ?? fx;
    const cx = pick("cx") ?? width / 2;
    const cy = pick("cy") ?? height / 2;
    if (frame.transform_matrix === undefined) return fail('missing "transform_matrix"');
    const m = matrixFromJson(frame.transform_matrix);
    if (typeof m === "string") return fail(`"transform_matrix" ${m}`);
    const problem = rigidProblem(m);
    if (problem) fail(`"transform_matrix": ${problem}`);
    const name = typeof frame.file_path === "string" ? frame.file_path : undefined;
    const cam = makeCamera(invertRigid4(flipYZ(m)), { width, height, fx, fy, cx, cy }, name);
    checkCameraFrom(cam, source, where);
    return cam;
  });
}

/** Read a nerfstudio / instant-ngp `transforms.json` (see `parseTransformsJson`). */
export function readTransformsJson(path: string, options: TransformsOptions = {}): Camera[] {
  return parseTransformsJson(readJson(path), path, options);
}

// ---------------------------------------------------------------------------------------------------------------
// 4×4 text files (Replica traj_w_c.txt, ScanNet pose/*.txt, ScanNet intrinsic/*.txt)

/** Parse one number as C/Python/numpy print it, including inf, -inf and nan in any case. */
function parseNumberToken(tok: string): number {
  const lower = tok.toLowerCase();
  if (lower === "inf" || lower === "+inf" || lower === "infinity" || lower === "+infinity") return Infinity;
  if (lower === "-inf" || lower === "-infinity") return -Infinity;
  if (lower === "nan" || lower === "-nan" || lower === "+nan") return NaN;
  // Number() accepts "", "0x10" and "  "; demand a decimal literal.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(tok)) return NaN;
  return Number(tok);
}

/**
 * All numbers of a whitespace-separated text, in order, with the 1-based line of each. A token that is not
 * a number (inf and nan spellings are numbers) is an InvalidFileError naming its line.
 */
function parseNumbers(text: string, source: string): { values: number[]; lines: number[] } {
  const values: number[] = [];
  const lines: number[] = [];
  const rows = text.split(/\r?\n/);
  for (let l = 0; l < rows.length; l++) {
    const row = rows[l].trim();
    if (row === "" || row.startsWith("#")) continue;
    for (const tok of row.split(/[\s,]+/)) {
      const v = parseNumberToken(tok);
      if (Number.isNaN(v) && !/^[+-]?nan$/i.test(tok)) {
        throw new InvalidFileError(source, `line ${l + 1}: "${tok}" is not a number`);
      }
      values.push(v);
      lines.push(l + 1);
    }
  }
  return { values, lines };
}

/**
 * The row-major 4×4 matrices of a text file, 16 numbers each, however they are split over lines: one per line
 * (Replica `traj_w_c.txt`) or four lines of four (ScanNet `pose/*.txt`). Values are returned as read,
 * infinities included; callers decide what a non-finite pose means. `source` names the file in errors.
 */
export function parseMatrixText(text: string, source: string): { matrices: Mat4[]; firstLines: number[] } {
  const { values, lines } = parseNumbers(text, source);
  if (values.length === 0) throw new InvalidFileError(source, "no numbers: expected 4×4 matrices");
  if (values.length % 16 !== 0) {
    throw new InvalidFileError(
      source,
      `holds ${values.length} numbers, not a multiple of 16 (4×4 matrices); the last matrix starts on line ${lines[values.length - (values.length % 16)]}`,
    );
  }
  const matrices: Mat4[] = [];
  const firstLines: number[] = [];
  for (let i = 0; i < values.length; i += 16) {
    matrices.push(Float64Array.from(values.slice(i, i + 16)));
    firstLines.push(lines[i]);
  }
  return { matrices, firstLines };
}

/**
 * Cameras from a Replica `traj_w_c.txt` (one OpenCV camera-to-world 4×4 per line, row-major). Every pose must
 * be a finite rigid transform. Camera i is named `String(i)`, matching `rgb_<i>.png`.
 */
export function parseReplicaTrajectory(text: string, source: string, intr: Intrinsics = REPLICA_INTRINSICS): Camera[] {
  const { matrices, firstLines } = parseMatrixText(text, source);
  return matrices.map((m, i) => {
    const problem = rigidProblem(m);
    if (problem) throw new InvalidFileError(source, `pose ${i} (line ${firstLines[i]}): ${problem}`);
    const cam = makeCamera(invertRigid4(m), intr, String(i));
    checkCameraFrom(cam, source, `pose ${i}`);
    return cam;
  });
}

/** Read a Replica `traj_w_c.txt` (see `parseReplicaTrajectory`); intrinsics default to `REPLICA_INTRINSICS`. */
export function readReplicaTrajectory(path: string, intr: Intrinsics = REPLICA_INTRINSICS): Camera[] {
  return parseReplicaTrajectory(readText(path), path, intr);
}

export interface ScanNetPoseOptions {
  /**
   * ScanNet writes a pose of −inf values where tracking was lost. false (default): such a pose is an
   * InvalidFileError. true: it gives `null`, so a dataset reader can skip the frame (DATA.md: invalid poses
   * are skipped). NaN or a non-rigid matrix is an error either way.
   */
  skipInvalid?: boolean;
  /** Camera name; default none. */
  name?: string;
}

/** A camera from the text of one ScanNet `pose/<i>.txt` (OpenCV camera-to-world, 4 lines of 4 numbers). */
export function parseScanNetPose(text: string, source: string, intr: Intrinsics, options: ScanNetPoseOptions = {}): Camera | null {
  const { matrices } = parseMatrixText(text, source);
  if (matrices.length !== 1) throw new InvalidFileError(source, `expected one 4×4 pose, got ${matrices.length}`);
  const m = matrices[0];
  if (m.some((v) => v === Infinity || v === -Infinity)) {
    if (options.skipInvalid) return null;
    throw new InvalidFileError(source, "invalid pose (infinite values: ScanNet marks frames with lost tracking this way)");
  }
  const problem = rigidProblem(m);
  if (problem) throw new InvalidFileError(source, `pose: ${problem}`);
  const cam = makeCamera(invertRigid4(m), intr, options.name);
  checkCameraFrom(cam, source, "pose");
  return cam;
}

/** Read one ScanNet `pose/<i>.txt` (see `parseScanNetPose`); `null` only for an invalid pose with `skipInvalid`. */
export function readScanNetPose(path: string, intr: Intrinsics, options: ScanNetPoseOptions = {}): Camera | null {
  return parseScanNetPose(readText(path), path, intr, options);
}

/**
 * Intrinsics from a K-matrix text file (ScanNet `intrinsic/intrinsic_color.txt`: a 4×4; a plain 3×3 also
 * works). `width`/`height` are the size of the images K belongs to (ScanNet colour: 1296×968). The file's
 * integer-centre principal point gets +0.5 unless `integerCentre` is false.
 */
export function readIntrinsicsText(
  path: string,
  width: number,
  height: number,
  options: { integerCentre?: boolean } = {},
): Intrinsics {
  const { values } = parseNumbers(readText(path), path);
  if (values.length !== 9 && values.length !== 16) {
    throw new InvalidFileError(path, `expected a 3×3 or 4×4 matrix, got ${values.length} numbers`);
  }
  if (!values.every(Number.isFinite)) throw new InvalidFileError(path, "intrinsics contain a non-finite number");
  try {
    return intrinsicsFromK(values, width, height, options);
  } catch (err) {
    if (err instanceof ConfigError) throw new InvalidFileError(path, err.message);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Orbit cameras for scenes without cameras

/** Axis-aligned box. */
export interface Box3 {
  min: Vec3;
  max: Vec3;
}

/**
 * The box between the `lo` and `hi` quantiles of the positions on each axis (default 2 % and 98 %), so a few
 * floaters far from the scene do not inflate it. `positions` is [N·3]. Points with a non-finite coordinate
 * are left out. Above `maxSamples` points (default 2^18) an evenly strided subset is used: the result is
 * deterministic and within sampling error of the exact quantiles. Quantiles interpolate linearly between
 * order statistics (numpy's default).
 */
export function percentileBox(
  positions: Float32Array,
  lo = 0.02,
  hi = 0.98,
  options: { maxSamples?: number } = {},
): Box3 {
  if (!(lo >= 0 && hi <= 1 && lo <= hi)) throw new ConfigError("percentile", `need 0 ≤ lo ≤ hi ≤ 1, got ${lo}, ${hi}`);
  if (positions.length % 3 !== 0) throw new ConfigError("positions", `length ${positions.length} is not a multiple of 3`);
  const n = positions.length / 3;
  const maxSamples = Math.max(1, Math.floor(options.maxSamples ?? 1 << 18));
  const s = Math.min(n, maxSamples);
  const axes = [new Float32Array(s), new Float32Array(s), new Float32Array(s)];
  let count = 0;
  for (let j = 0; j < s; j++) {
    const i = s === n ? j : Math.floor((j * n) / s);
    const x = positions[i * 3],
      y = positions[i * 3 + 1],
      z = positions[i * 3 + 2];
    if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z)) continue;
    axes[0][count] = x;
    axes[1][count] = y;
    axes[2][count] = z;
    count++;
  }
  if (count === 0) throw new ConfigError("positions", "no finite positions");
  const quantile = (sorted: Float32Array, q: number): number => {
    const t = q * (sorted.length - 1);
    const a = Math.floor(t);
    const b = Math.min(a + 1, sorted.length - 1);
    return sorted[a] + (sorted[b] - sorted[a]) * (t - a);
  };
  const min: Vec3 = [0, 0, 0];
  const max: Vec3 = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    const sorted = axes[a].subarray(0, count).sort();
    min[a] = quantile(sorted, lo);
    max[a] = quantile(sorted, hi);
  }
  return { min, max };
}

/** fx = fy = W / (2·tan 30°): the benchmark camera's 60° horizontal field of view (FORMATS.md §2). */
export function benchmarkFocal(width: number): number {
  return width / (2 * Math.tan(Math.PI / 6));
}

export interface OrbitOptions {
  width: number;
  height: number;
  /** Focal length in pixels (fx = fy). Default: `benchmarkFocal(width)`, unless `fovYDeg` is given. */
  focal?: number;
  /** Vertical field of view in degrees; sets fx = fy = H / (2·tan(fovY/2)). Ignored when `focal` is given. */
  fovYDeg?: number;
  /** Camera height above the centre, as an angle in degrees, in (−90, 90). Default 15. */
  elevationDeg?: number;
  /** World direction that appears up in the images. Default [0, −1, 0]: 3DGS scenes are usually RDF (y down). */
  up?: Vec3;
  /** Azimuth of the first camera in degrees (default 0: the camera on the −z side, looking along +z). */
  azimuthOffsetDeg?: number;
  /** Quantiles for the box when positions are given; default [0.02, 0.98]. */
  percentiles?: [number, number];
}

/**
 * `k` cameras evenly spaced in azimuth around a scene, for files that come without cameras; the benchmark
 * camera rule of FORMATS.md §2. The look-at centre is the centre of the 2–98 % percentile box of the positions
 * (or of the given box); the distance makes the box's bounding sphere exactly fill the narrower field of view
 * (the vertical one for landscape images), so the whole box is in every image; the camera sits `elevationDeg`
 * above the centre's horizontal plane, with `up` (default −y) pointing up in the image. Cameras are named
 * `orbit-000`, `orbit-001`, ….
 */
export function orbitCameras(scene: Float32Array | Box3, k: number, options: OrbitOptions): Camera[] {
  const { width, height } = options;
  if (!Number.isInteger(k) || k < 1) throw new ConfigError("k", `must be a positive integer, got ${k}`);
  for (const [key, v] of [
    ["width", width],
    ["height", height],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new ConfigError(key, `must be a positive integer, got ${v}`);
  }
  const elevation = ((options.elevationDeg ?? 15) * Math.PI) / 180;
  if (!(Math.abs(elevation) < Math.PI / 2)) {
    throw new ConfigError("elevationDeg", `must lie in (−90, 90), got ${options.elevationDeg}`);
  }
  let focal = options.focal;
  if (focal === undefined && options.fovYDeg !== undefined) {
    const f = options.fovYDeg;
    if (!(f > 0 && f < 180)) throw new ConfigError("fovYDeg", `must lie in (0, 180), got ${f}`);
    focal = height / (2 * Math.tan((f * Math.PI) / 360));
  }
  focal ??= benchmarkFocal(width);
  if (!(focal > 0 && Number.isFinite(focal))) throw new ConfigError("focal", `must be a positive number, got ${focal}`);

  const [plo, phi] = options.percentiles ?? [0.02, 0.98];
  const box = scene instanceof Float32Array ? percentileBox(scene, plo, phi) : scene;
  const centre: Vec3 = [
    (box.min[0] + box.max[0]) / 2,
    (box.min[1] + box.max[1]) / 2,
    (box.min[2] + box.max[2]) / 2,
  ];
  if (!centre.every(Number.isFinite)) throw new ConfigError("box", "has non-finite bounds");
  let radius = Math.hypot(box.max[0] - box.min[0], box.max[1] - box.min[1], box.max[2] - box.min[2]) / 2;
  // A single point has no size to fill the view with; a unit sphere keeps the camera well defined.
  if (!(radius > 0)) radius = 1;
  const halfFov = Math.min(Math.atan(height / 2 / focal), Math.atan(width / 2 / focal));
  // The sphere touches the frustum's nearest planes when sin(half fov) = radius / distance.
  const distance = radius / Math.sin(halfFov);

  let up: Vec3;
  try {
    up = normalize3(options.up ?? [0, -1, 0]);
  } catch {
    throw new ConfigError("up", "must be a non-zero vector");
  }
  // Azimuth 0 looks along world +z (projected onto the ground plane), like the typical capture camera of an
  // RDF scene; fall back to +x when up is parallel to z.
  let fwd = sub3([0, 0, 1], scale3(up, up[2]));
  if (Math.hypot(...fwd) < 1e-6) fwd = sub3([1, 0, 0], scale3(up, up[0]));
  fwd = normalize3(fwd);
  const side = normalize3(cross3(fwd, up));

  const cams: Camera[] = [];
  const offset = ((options.azimuthOffsetDeg ?? 0) * Math.PI) / 180;
  for (let i = 0; i < k; i++) {
    const az = offset + (2 * Math.PI * i) / k;
    const ce = Math.cos(elevation),
      se = Math.sin(elevation);
    // Unit vector from the centre to the camera.
    const dir: Vec3 = [0, 1, 2].map(
      (a) => ce * (-Math.cos(az) * fwd[a] + Math.sin(az) * side[a]) + se * up[a],
    ) as Vec3;
    const eye: Vec3 = [centre[0] + distance * dir[0], centre[1] + distance * dir[1], centre[2] + distance * dir[2]];
    const cam = lookAtCamera(eye, centre, up, { width, height, fx: focal, fy: focal });
    cam.name = `orbit-${String(i).padStart(3, "0")}`;
    cams.push(cam);
  }
  return cams;
}
