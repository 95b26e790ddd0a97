/**
 * Which way is up for the encoder. An encoder pre-trained with `--rotation-axis x|y|z` saw every view rotated
 * about that world axis only, so its features know gravity along +axis (the committed one: +y, the synthetic
 * rooms' up). A scene whose up is another direction (Replica and ScanNet are z-up, a COLMAP capture is tilted
 * anyhow) is rotated so its up meets the encoder's before encoding; only positions change, since the input's
 * log-scales, colour and opacity do not depend on the frame. An encoder pre-trained with random-axis rotation
 * (the paper's) has no up and sees every scene as it is.
 */
import { parseChoice } from "../../core/errors.ts";
import { meanImageUp, type Camera } from "../../core/camera.ts";
import { dot3, rotationBetween, unitAxis, type Mat3, type Vec3 } from "../../core/math.ts";
import type { EncoderInputSource } from "./input.ts";

/** Values of `rtgs2 encode --up`: from the cameras, not at all, or a signed world axis. */
export const UP_CHOICES = ["auto", "none", "+x", "-x", "+y", "-y", "+z", "-z"] as const;
export type UpChoice = (typeof UP_CHOICES)[number];

/** An up estimated from the cameras within this angle of a world axis is taken to be that axis exactly. */
export const SNAP_DEGREES = 15;

/** Parse an `--up` value. */
export function parseUpChoice(value: string): UpChoice {
  return parseChoice(UP_CHOICES, value, "--up");
}

/**
 * The encoder's up direction, from its checkpoint metadata (`pretrain`, the settings `rtgs2 pretrain` stores):
 * +axis for `rotationAxis` x, y or z; undefined for random-axis rotation, an untrained encoder, or a checkpoint
 * that does not say.
 */
export function encoderUp(metadata: Readonly<Record<string, string>>): Vec3 | undefined {
  const raw = metadata.pretrain;
  if (raw === undefined) return undefined;
  let axis: unknown;
  try {
    axis = (JSON.parse(raw) as { rotationAxis?: unknown }).rotationAxis;
  } catch {
    return undefined;
  }
  return axis === "x" || axis === "y" || axis === "z" ? unitAxis(axis) : undefined;
}

/** `direction` replaced by the nearest signed world axis when it lies within `SNAP_DEGREES` of it. */
export function snapToAxis(direction: Vec3): Vec3 {
  const k = [0, 1, 2].reduce((m, a) => (Math.abs(direction[a]) > Math.abs(direction[m]) ? a : m), 0);
  const len = Math.hypot(...direction);
  if (Math.abs(direction[k]) / len < Math.cos((SNAP_DEGREES * Math.PI) / 180)) return [direction[0] / len, direction[1] / len, direction[2] / len];
  const axis: Vec3 = [0, 0, 0];
  axis[k] = Math.sign(direction[k]);
  return axis;
}

/**
 * The scene's up for `choice`: the signed axis given, nothing for `none`, or for `auto` the cameras' mean image
 * up (level cameras see gravity as image up), snapped to a world axis when close to one; undefined when `auto`
 * has no cameras to ask.
 */
export function sceneUp(choice: UpChoice, cameras: readonly Camera[] | undefined): Vec3 | undefined {
  if (choice === "none") return undefined;
  if (choice === "auto") return cameras !== undefined && cameras.length > 0 ? snapToAxis(meanImageUp(cameras)) : undefined;
  const sign = choice[0] === "-" ? -1 : 1;
  return unitAxis(choice[1] as "x" | "y" | "z").map((v) => (v === 0 ? 0 : sign * v)) as Vec3;
}

/** The rotation taking the scene's up to the encoder's, or undefined when none is needed or either is unknown. */
export function alignmentRotation(scene: Vec3 | undefined, encoder: Vec3 | undefined): Mat3 | undefined {
  if (scene === undefined || encoder === undefined) return undefined;
  if (dot3(scene, encoder) / (Math.hypot(...scene) * Math.hypot(...encoder)) > 1 - 1e-12) return undefined;
  return rotationBetween(scene, encoder);
}

/** The encoder's view of `cloud` with positions rotated by `rotation` (row-major 3×3); other channels shared. */
export function rotatePositions(cloud: EncoderInputSource, rotation: Mat3): EncoderInputSource {
  const p = cloud.positions;
  const out = new Float32Array(p.length);
  const r = rotation;
  for (let i = 0; i < p.length; i += 3) {
    const [x, y, z] = [p[i], p[i + 1], p[i + 2]];
    out[i] = r[0] * x + r[1] * y + r[2] * z;
    out[i + 1] = r[3] * x + r[4] * y + r[5] * z;
    out[i + 2] = r[6] * x + r[7] * y + r[8] * z;
  }
  const { count, shDc, opacityLogits, logScales } = cloud;
  return { count, positions: out, shDc, opacityLogits, logScales };
}

/** What `alignToEncoder` did: the encoder's input, the scene's up it used, and whether positions were turned. */
export interface AlignedInput {
  input: EncoderInputSource;
  /** The scene's up, matched to the encoder's; undefined when the encoder has no up or the scene's is unknown. */
  up: Vec3 | undefined;
  turned: boolean;
}

/**
 * The encoder's input for a scene: `cloud` as it is, or turned so the scene's up (`choice`, from `cameras` for
 * `auto`) meets the up of the encoder whose checkpoint metadata is `encoderMetadata`.
 */
export function alignToEncoder(
  cloud: EncoderInputSource,
  encoderMetadata: Readonly<Record<string, string>>,
  cameras: readonly Camera[] | undefined,
  choice: UpChoice = "auto",
): AlignedInput {
  const modelUp = encoderUp(encoderMetadata);
  const up = modelUp === undefined ? undefined : sceneUp(choice, cameras);
  const rotation = alignmentRotation(up, modelUp);
  return { input: rotation === undefined ? cloud : rotatePositions(cloud, rotation), up, turned: rotation !== undefined };
}
