/**
 * Stage shapes of the VDVI network: hand-written expectations for paper (640×480), lite (320×240) and tiny,
 * by shape propagation; real forwards (tiny, and lite at a small size) report exactly the propagated shapes at
 * every stage; the ablations build only their branch; bad inputs and configs raise typed errors.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { numpy as np, random } from "../../src/nn/jax.ts";
import { Rng } from "../../src/core/rng.ts";
import { ConfigError, ShapeError } from "../../src/core/errors.ts";
import { disposeParams, flattenParams } from "../../src/nn/params.ts";
import { vdviConfig, type VdviConfig } from "../../src/models/configs.ts";
import { VdviNet, type BnStates } from "../../src/models/vdvi/index.ts";

function disposeState(s: BnStates): void {
  for (const v of Object.values(s)) {
    v.runningMean.dispose();
    v.runningVar.dispose();
  }
}

/** Run a forward and collect the stage shapes it reports. */
function runShapes(cfg: VdviConfig, H: number, W: number, train = false): { shapes: Record<string, number[]>; logits: Float32Array } {
  const net = new VdviNet(cfg);
  const rng = new Rng(3);
  const params = net.init(rng);
  const state = net.initState();
  const shapes: Record<string, number[]> = {};
  const rgb = np.array(new Rng(1).fillUniform(new Float32Array(2 * H * W * 3))).reshape([2, H, W, 3]);
  const features = np.array(new Rng(2).fillNormal(new Float32Array(2 * H * W * 32))).reshape([2, H, W, 32]);
  const out = net.apply(params, state, { rgb, features }, { train, key: train ? random.key(5) : undefined, onStage: (n, s) => (shapes[n] = s) });
  out.z.dispose();
  disposeState(out.state);
  return { shapes, logits: out.logits.dataSync() as Float32Array };
}

test("paper and lite stage shapes at their sizes (shape propagation)", () => {
  const paper = new VdviNet(vdviConfig("paper")).analyze(1, 480, 640).shapes;
  const lite = new VdviNet(vdviConfig("lite")).analyze(1, 240, 320).shapes;
  const expectStages = (s: Record<string, number[]>, grids: number[][], rgb: number[], feat: number[], E: number, H: number, W: number): void => {
    for (let k = 0; k < 4; k++) {
      assert.deepEqual(s[`rgb.${k + 1}`], [1, ...grids[k], rgb[k]], `rgb.${k + 1}`);
      assert.deepEqual(s[`feat.${k + 1}`], [1, ...grids[k], feat[k]], `feat.${k + 1}`);
      if (k > 0) assert.deepEqual(s[`fused.${k + 1}`], [1, ...grids[k], feat[k]], `fused.${k + 1}`);
    }
    assert.deepEqual(s.z, [1, ...grids[0], E]);
    assert.deepEqual(s.logits, [1, H, W, 28]);
  };
  expectStages(paper, [[120, 160], [60, 80], [30, 40], [15, 20]], [96, 192, 384, 768], [32, 64, 160, 256], 256, 480, 640);
  // 240 rows: stage 4 is 7.5 rows high; both branches round up to 8 (METHOD.md §10 row 11).
  expectStages(lite, [[60, 80], [30, 40], [15, 20], [8, 10]], [32, 64, 128, 256], [16, 32, 80, 128], 64, 240, 320);
});

test("tiny forward (eval and train) reports the propagated shape at every stage", () => {
  const cfg = vdviConfig("tiny");
  for (const [H, W] of [
    [48, 64],
    [50, 70],
  ]) {
    const want = new VdviNet(cfg).analyze(2, H, W).shapes;
    for (const train of [false, true]) {
      const { shapes, logits } = runShapes(cfg, H, W, train);
      assert.deepEqual(shapes, want, `${W}×${H} train=${train}`);
      assert.ok(logits.every(Number.isFinite));
    }
  }
});

test("lite forward at 96×64 matches the propagated shapes", () => {
  const cfg = vdviConfig("lite");
  const { shapes, logits } = runShapes(cfg, 64, 96);
  assert.deepEqual(shapes, new VdviNet(cfg).analyze(2, 64, 96).shapes);
  assert.ok(logits.every(Number.isFinite));
});

test("ablations: no-vi and no-rgb remove a branch and SCC from the graph and still run", () => {
  for (const ablation of ["no-vi", "no-rgb"] as const) {
    const cfg = vdviConfig("tiny", { ablation });
    const net = new VdviNet(cfg);
    const params = net.init(new Rng(0));
    const names = flattenParams(params).map(([k]) => k.split(".")[0]);
    disposeParams(params);
    const present = [...new Set(names)].sort();
    assert.deepEqual(present, ablation === "no-vi" ? ["adapt", "decoder", "rgb"] : ["decoder", "feat"]);
    assert.equal(net.scc.length, 0);
    const { shapes, logits } = runShapes(cfg, 48, 64, true);
    assert.deepEqual(shapes, net.analyze(2, 48, 64).shapes);
    assert.equal(Object.keys(shapes).some((k) => k.startsWith("fused")), false);
    assert.equal(logits.length, 2 * 48 * 64 * 4);
  }
  // no-rgb needs no image, no-vi no features.
  const noRgb = new VdviNet(vdviConfig("tiny", { ablation: "no-rgb" }));
  const out = noRgb.apply(noRgb.init(new Rng(0)), noRgb.initState(), { features: np.zeros([1, 16, 16, 32]) }, { train: false });
  assert.deepEqual(out.logits.shape, [1, 16, 16, 4]);
  out.logits.dispose();
  out.z.dispose();
});

test("depth head: one channel, positive (softplus)", () => {
  const cfg = vdviConfig("tiny", { task: "depth" });
  assert.equal(cfg.numClasses, 1);
  const { logits } = runShapes(cfg, 32, 32);
  assert.equal(logits.length, 2 * 32 * 32);
  assert.ok(logits.every((v) => v > 0));
});

test("bad configs and inputs raise typed errors", () => {
  assert.throws(() => vdviConfig("huge"), ConfigError);
  assert.throws(() => vdviConfig("tiny", { ablation: "no-x" as "no-vi" }), ConfigError);
  assert.throws(() => new VdviNet({ ...vdviConfig("tiny"), feat: { ...vdviConfig("tiny").feat, heads: [3, 1, 2, 2] } }), ConfigError);
  const net = new VdviNet(vdviConfig("tiny"));
  const p = net.init(new Rng(0));
  assert.throws(() => net.apply(p, net.initState(), { rgb: np.zeros([1, 32, 32, 3]) }, { train: false }), ConfigError);
  const q = net.init(new Rng(0));
  assert.throws(() => net.apply(q, net.initState(), { rgb: np.zeros([1, 32, 32, 4]), features: np.zeros([1, 32, 32, 32]) }, { train: false }), ShapeError);
});
