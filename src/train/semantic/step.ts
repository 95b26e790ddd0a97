/**
 * The compiled pieces of stage-3 training: one jitted loss-and-gradient step whose auxiliary output carries the
 * BatchNorm statistics and the loss terms, and one jitted eval forward (class probabilities or depth).
 */
import { numpy as np, jit, valueAndGrad, nn, type OwnedFunction } from "../../nn/jax.ts";
import { concatLeaves, splitLeaves } from "../../nn/params.ts";
import type { Batch } from "../../nn/train.ts";
import type { BnStates, VdviNet, VdviParams } from "../../models/vdvi/index.ts";
import { maskedDepthMse, semanticLoss, type SemanticLossOptions } from "../losses.ts";

/** Loss terms of one step (host numbers). */
export interface StepLosses {
  loss: number;
  ce: number;
  nc: number;
  depth: number;
}

type Aux = { state: BnStates; ce: np.Array; nc: np.Array };

/** New references to every BatchNorm statistic (to pass a state that must stay alive). */
export function refStates(s: BnStates): BnStates {
  const out: BnStates = {};
  for (const [k, v] of Object.entries(s)) out[k] = { runningMean: v.runningMean.ref, runningVar: v.runningVar.ref };
  return out;
}

/** The same statistics with their keys sorted, so the flat layout does not depend on insertion order. */
function byPath(s: BnStates): BnStates {
  return Object.fromEntries(Object.entries(s).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Release BatchNorm statistics. */
export function disposeStates(s: BnStates): void {
  for (const v of Object.values(s)) {
    v.runningMean.dispose();
    v.runningVar.dispose();
  }
}

/**
 * Loss and gradient of a training-mode forward. Semantic batches hold `rgb, features, labels, labels4, etf,
 * key`; depth batches `rgb, features, depth, key`.
 */
export class TrainStep {
  readonly #fn: OwnedFunction<(...args: never[]) => unknown>;
  constructor(
    readonly net: VdviNet,
    readonly loss: SemanticLossOptions,
  ) {
    const depth = net.config.task === "depth";
    const f = (p: VdviParams, s: BnStates, b: Batch): [np.Array, Aux] => {
      const out = net.apply(p, s, { rgb: b.rgb, features: b.features }, { train: true, key: b.key });
      if (depth) {
        out.z.dispose();
        const l = maskedDepthMse(out.logits, b.depth);
        return [l.ref, { state: out.state, ce: l, nc: np.zeros([]) }];
      }
      const r = semanticLoss(out.logits, b.labels, out.z, b.labels4, b.etf, loss);
      return [r.total, { state: out.state, ce: r.ce, nc: r.nc }];
    };
    const valueGrad = valueAndGrad(f, { hasAux: true });
    // Losses, statistics and gradient leave the jit as three flat vectors (see `Gradients` in nn/train.ts).
    this.#fn = jit((p: VdviParams, s: BnStates, b: Batch) => {
      const [[value, aux], grads] = valueGrad(p, s, b) as unknown as [[np.Array, Aux], VdviParams];
      const losses = np.stack([value, aux.ce, aux.nc]);
      return [losses, concatLeaves(byPath(aux.state)), concatLeaves(grads)];
    });
  }

  /**
   * One step: consumes `params`, `state` and `batch`; returns the gradient (flat, `concatLeaves` order; see
   * `Gradients` in nn/train.ts), the new statistics and the losses.
   */
  async run(params: VdviParams, state: BnStates, batch: Batch): Promise<{ grads: np.Array; state: BnStates; losses: StepLosses }> {
    const [lossVec, stateVec, grads] = (this.#fn as unknown as (p: VdviParams, s: BnStates, b: Batch) => np.Array[])(params, state, batch);
    // Read asynchronously: `dataSync` would run the whole step on the main thread (jax-js's synchronous path).
    const [loss, ce, nc] = await lossVec.data();
    // `state` gives only the layout: its arrays were consumed by the call, their shapes remain.
    const next = splitLeaves(stateVec, byPath(state));
    const isDepth = this.net.config.task === "depth";
    return { grads, state: next, losses: { loss, ce: isDepth ? 0 : ce, nc, depth: isDepth ? ce : 0 } };
  }

  dispose(): void {
    this.#fn.dispose();
  }
}

/**
 * Eval-mode forward: `[N, H, W, K]` softmax probabilities (semantic) or `[N, H, W, 1]` depth in metres. Borrows
 * nothing: callers pass references.
 */
export class EvalForward {
  readonly #fn: OwnedFunction<(...args: never[]) => unknown>;
  constructor(readonly net: VdviNet) {
    const depth = net.config.task === "depth";
    this.#fn = jit((p: VdviParams, s: BnStates, rgb: np.Array, feat: np.Array) => {
      const out = net.apply(p, s, { rgb, features: feat }, { train: false });
      out.z.dispose();
      disposeStates(out.state);
      return depth ? out.logits : nn.softmax(out.logits, -1);
    });
  }

  /** Consumes its arguments (pass `refParams(...)` to keep them). */
  run(params: VdviParams, state: BnStates, rgb: np.Array, features: np.Array): np.Array {
    return (this.#fn as unknown as (p: VdviParams, s: BnStates, r: np.Array, f: np.Array) => np.Array)(params, state, rgb, features);
  }

  dispose(): void {
    this.#fn.dispose();
  }
}
