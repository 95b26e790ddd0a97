import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cameraCenter, lookAtCamera, projectPoint, type Camera } from "../../src/core/camera.ts";
import {
  benchmarkFocal,
  cameraFromOpenCvC2W,
  cameraFromOpenGlC2W,
  cameraToInriaJson,
  cameraToOpenCvC2W,
  cameraToOpenGlC2W,
  intrinsicsFromK,
  orbitCameras,
  parseInriaCameras,
  parseMatrixText,
  parseReplicaTrajectory,
  parseScanNetPose,
  parseTransformsJson,
  percentileBox,
  readInriaCameras,
  readIntrinsicsText,
  readReplicaTrajectory,
  readScanNetPose,
  readTransformsJson,
  REPLICA_INTRINSICS,
  rigidProblem,
  scaleIntrinsics,
  writeInriaCameras,
  type Intrinsics,
} from "../../src/core/camera-convert.ts";
import { ConfigError, InvalidFileError, MissingFileError, UnsupportedFormatError } from "../../src/core/errors.ts";
import { mat3ToQuat, quatToMat3, type Vec3 } from "../../src/core/math.ts";
import { Rng } from "../../src/core/rng.ts";

const dir = mkdtempSync(join(tmpdir(), "rtgs2-cams-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

function near(actual: number, expected: number, tol = 1e-9, what = "") {
  assert.ok(Math.abs(actual - expected) <= tol, `${what} expected ${expected}, got ${actual}`);
}
function nearAll(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-9, what = "") {
  assert.equal(actual.length, expected.length, `${what} length`);
  for (let i = 0; i < expected.length; i++) near(actual[i], expected[i], tol, `${what}[${i}]`);
}
function pixel(cam: Camera, p: Vec3): [number, number, number] {
  const { u, v, depth } = projectPoint(cam, p);
  return [u, v, depth];
}
function write(name: string, content: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, content);
  return path;
}
function expectInvalid(fn: () => unknown, file: string, reason: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InvalidFileError, String(e));
    assert.equal(e.file, file);
    assert.match(e.reason, reason);
    return true;
  });
}

// The fixture camera used throughout, worked out by hand:
//   centre C = (1, 2, 3); it looks along world +x.
//   OpenCV axes in world: x_cam (right) = (0, 0, −1), y_cam (down) = (0, 1, 0), z_cam (forward) = (1, 0, 0).
//   Camera-to-world rotation R = [x_cam y_cam z_cam] as columns = rows [[0,0,1],[0,1,0],[−1,0,0]] (det +1).
//   World point P = C + 2·z_cam + 0.5·x_cam + 0.25·y_cam = (3, 2.25, 2.5) sits at camera (0.5, 0.25, 2).
//   With fx = 100, fy = 200, cx = 320, cy = 240: u = 100·0.5/2 + 320 = 345, v = 200·0.25/2 + 240 = 265.
const C: Vec3 = [1, 2, 3];
const R_ROWS = [
  [0, 0, 1],
  [0, 1, 0],
  [-1, 0, 0],
];
const P: Vec3 = [3, 2.25, 2.5];
const C2W_CV = [0, 0, 1, 1, 0, 1, 0, 2, -1, 0, 0, 3, 0, 0, 0, 1];
const INTR: Intrinsics = { width: 640, height: 480, fx: 100, fy: 200, cx: 320, cy: 240 };
// The same camera in OpenGL axes: x right = x_cam, y up = −y_cam = (0,−1,0), z back = −z_cam = (−1,0,0).
const C2W_GL = [0, 0, -1, 1, 0, -1, 0, 2, -1, 0, 0, 3, 0, 0, 0, 1];
const GL_ROWS = [
  [0, 0, -1, 1],
  [0, -1, 0, 2],
  [-1, 0, 0, 3],
  [0, 0, 0, 1],
];

test("lookAtCamera: hand-computed pixel (camera at origin looking along +z, up = −y)", () => {
  const cam = lookAtCamera([0, 0, 0], [0, 0, 5], [0, -1, 0], { width: 100, height: 80, fx: 50 });
  nearAll(cam.viewMatrix, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  // (1, −0.5, 2): u = 50·1/2 + 50 = 75, v = 50·(−0.5)/2 + 40 = 27.5 (above centre, since −y is up).
  nearAll(pixel(cam, [1, -0.5, 2]), [75, 27.5, 2]);
  // The fixture camera built by look-at gives the fixture pixel.
  const cam2 = lookAtCamera(C, [5, 2, 3], [0, -1, 0], INTR);
  nearAll(cam2.viewMatrix, cameraFromOpenCvC2W(C2W_CV, INTR).viewMatrix, 1e-12);
  nearAll(pixel(cam2, P), [345, 265, 2]);
});

test("OpenCV camera-to-world: hand-computed pixel, centre, and round trip", () => {
  const cam = cameraFromOpenCvC2W(C2W_CV, INTR, "f0");
  nearAll(pixel(cam, P), [345, 265, 2]);
  nearAll(cameraCenter(cam), C);
  assert.equal(cam.name, "f0");
  nearAll(cameraToOpenCvC2W(cam), C2W_CV, 1e-12);
  // A world point straight ahead lands on the principal point.
  nearAll(pixel(cam, [4, 2, 3]), [320, 240, 3]);
});

test("OpenGL camera-to-world: hand-computed pixel and round trip", () => {
  const cam = cameraFromOpenGlC2W(C2W_GL, INTR);
  nearAll(pixel(cam, P), [345, 265, 2]);
  nearAll(cam.viewMatrix, cameraFromOpenCvC2W(C2W_CV, INTR).viewMatrix, 1e-12);
  nearAll(cameraToOpenGlC2W(cam), C2W_GL, 1e-12);
  // Random rigid poses survive both round trips.
  const r = new Rng(5);
  for (let i = 0; i < 20; i++) {
    const rot = quatToMat3(r.normal(), r.normal(), r.normal(), r.normal());
    const m = [rot[0], rot[1], rot[2], r.normal(), rot[3], rot[4], rot[5], r.normal(), rot[6], rot[7], rot[8], r.normal(), 0, 0, 0, 1];
    nearAll(cameraToOpenGlC2W(cameraFromOpenGlC2W(m, INTR)), m, 1e-12);
    nearAll(cameraToOpenCvC2W(cameraFromOpenCvC2W(m, INTR)), m, 1e-12);
  }
});

test("non-rigid camera-to-world matrices are refused with the reason", () => {
  assert.throws(() => cameraFromOpenCvC2W(C2W_CV.slice(0, 12), INTR), ConfigError);
  const scaled = [...C2W_CV];
  scaled[0] = 2;
  assert.throws(() => cameraFromOpenGlC2W(scaled, INTR), /not orthonormal/);
  const mirrored = [...C2W_CV];
  mirrored[2] = -1; // flips one column: determinant −1
  assert.throws(() => cameraFromOpenCvC2W(mirrored, INTR), /reflection/);
  const badRow = [...C2W_CV];
  badRow[14] = 1;
  assert.throws(() => cameraFromOpenCvC2W(badRow, INTR), /bottom row/);
  const nan = [...C2W_CV];
  nan[3] = NaN;
  assert.match(rigidProblem(nan) ?? "", /not a finite number/);
  assert.equal(rigidProblem(C2W_CV), null);
});

test("Inria cameras.json: hand-computed pixel, principal point at the image centre", () => {
  const json = [
    {
      id: 0,
      img_name: "frame_0000",
      width: 640,
      height: 480,
      position: C,
      rotation: R_ROWS,
      fx: 100,
      fy: 200,
    },
  ];
  const [cam] = parseInriaCameras(json, "cameras.json");
  assert.equal(cam.id, 0);
  assert.equal(cam.name, "frame_0000");
  assert.deepEqual([cam.cx, cam.cy], [320, 240]);
  nearAll(pixel(cam, P), [345, 265, 2]);
  nearAll(cameraCenter(cam), C);
});

test("Inria cameras.json matches what the reference writes from a COLMAP world-to-camera pose", () => {
  // The reference stores R = (COLMAP w2c rotation)ᵀ and T = tvec, and camera_to_JSON writes
  // inv([Rᵀ | T]): position = −Rwᵀ·t, rotation = Rwᵀ. Rebuild that from a random w2c and check we get it back.
  const r = new Rng(17);
  for (let k = 0; k < 10; k++) {
    const q = [r.normal(), r.normal(), r.normal(), r.normal()] as const;
    const rw = quatToMat3(...q); // world-to-camera rotation
    const t: Vec3 = [r.normal(), r.normal(), r.normal()];
    const position = [0, 1, 2].map((c) => -(rw[c] * t[0] + rw[3 + c] * t[1] + rw[6 + c] * t[2]));
    const rotation = [0, 1, 2].map((row) => [rw[row], rw[3 + row], rw[6 + row]]);
    const [cam] = parseInriaCameras(
      [{ id: k, img_name: `${k}`, width: 320, height: 240, position, rotation, fx: 250, fy: 260 }],
      "cameras.json",
    );
    const expected = [rw[0], rw[1], rw[2], t[0], rw[3], rw[4], rw[5], t[1], rw[6], rw[7], rw[8], t[2], 0, 0, 0, 1];
    nearAll(cam.viewMatrix, expected, 1e-12, `pose ${k}`);
    // Quaternion agrees with COLMAP's qvec up to sign.
    const back = mat3ToQuat(rw);
    const n = Math.hypot(...q);
    const s = Math.sign(q[0]) || 1;
    nearAll(back, q.map((v) => (s * v) / n), 1e-9);
  }
});

test("Inria cameras.json: sorted by id, round trip through writeInriaCameras, cx/cy kept", () => {
  const a = cameraFromOpenCvC2W(C2W_CV, { ...INTR, cx: 300.5, cy: 250.25 }, "a.png");
  const b = lookAtCamera([0, 0, -4], [0, 0, 0], [0, -1, 0], { width: 64, height: 48, fx: 40 });
  b.name = "b.png";
  const path = join(dir, "model", "cameras.json");
  writeInriaCameras(path, [a, b]);
  const back = readInriaCameras(path);
  assert.deepEqual(
    back.map((c) => [c.id, c.name, c.width, c.height, c.fx, c.fy, c.cx, c.cy]),
    [
      [0, "a.png", 640, 480, 100, 200, 300.5, 250.25],
      [1, "b.png", 64, 48, 40, 40, 32, 24],
    ],
  );
  nearAll(back[0].viewMatrix, a.viewMatrix, 1e-12);
  nearAll(back[1].viewMatrix, b.viewMatrix, 1e-12);
  const entry = cameraToInriaJson(a, 7);
  nearAll(entry.position, C, 1e-12);
  nearAll(entry.rotation.flat(), R_ROWS.flat(), 1e-12);

  const json = [3, 1, 2, 1].map((id, i) => ({ ...cameraToInriaJson(a, id), img_name: `n${i}` }));
  const sorted = parseInriaCameras(json, "x");
  assert.deepEqual(
    sorted.map((c) => [c.id, c.name]),
    [
      [1, "n1"],
      [1, "n3"],
      [2, "n2"],
      [3, "n0"],
    ],
  );
});

test("Inria cameras.json: bad input gives typed errors naming the file", () => {
  assert.throws(() => readInriaCameras(join(dir, "missing.json")), MissingFileError);
  const good = { id: 0, img_name: "x", width: 640, height: 480, position: C, rotation: R_ROWS, fx: 100, fy: 200 };
  const cases: [string, string, RegExp][] = [
    ["empty.json", "", /empty file/],
    ["broken.json", "[{", /not valid JSON/],
    ["python-nan.json", JSON.stringify([good]).replace('"fx":100', '"fx":NaN'), /not valid JSON/],
    ["object.json", "{}", /JSON array/],
    ["nofx.json", JSON.stringify([{ ...good, fx: undefined }]), /camera 0: missing field "fx"/],
    ["noposition.json", JSON.stringify([good, { ...good, position: undefined }]), /camera 1: missing field "position"/],
    ["norot.json", JSON.stringify([{ ...good, rotation: undefined }]), /missing field "rotation"/],
    ["nullfx.json", JSON.stringify([{ ...good, fx: null }]), /"fx" must be a finite number/],
    ["strfy.json", JSON.stringify([{ ...good, fy: "200" }]), /"fy" must be a finite number/],
    ["pos2.json", JSON.stringify([{ ...good, position: [1, 2] }]), /"position" must be 3 finite numbers/],
    ["posnull.json", JSON.stringify([{ ...good, position: [1, null, 2] }]), /"position" must be 3 finite numbers/],
    ["rot2.json", JSON.stringify([{ ...good, rotation: [[1, 0, 0], [0, 1, 0]] }]), /"rotation" must be a 3×3/],
    ["rotscale.json", JSON.stringify([{ ...good, rotation: [[2, 0, 0], [0, 1, 0], [0, 0, 1]] }]), /not orthonormal/],
    ["width0.json", JSON.stringify([{ ...good, width: 0 }]), /width/],
    ["widthfrac.json", JSON.stringify([{ ...good, width: 10.5 }]), /width/],
    ["negfocal.json", JSON.stringify([{ ...good, fx: -1 }]), /focal lengths must be positive/],
    ["notobj.json", JSON.stringify([good, 5]), /camera 1: is not an object/],
    ["name.json", JSON.stringify([{ ...good, img_name: 3 }]), /img_name/],
  ];
  for (const [name, content, why] of cases) {
    const path = write(name, content);
    expectInvalid(() => readInriaCameras(path), path, why);
  }
  assert.deepEqual(parseInriaCameras([], "x"), []);
});

test("transforms.json (nerfstudio): top-level intrinsics, OpenGL poses, hand-computed pixel", () => {
  const json = {
    camera_model: "OPENCV",
    fl_x: 100,
    fl_y: 200,
    cx: 320,
    cy: 240,
    w: 640,
    h: 480,
    k1: 0,
    k2: 0,
    p1: 0,
    p2: 0,
    frames: [
      { file_path: "images/frame_00001.png", transform_matrix: GL_ROWS },
      // Per-frame intrinsics override the shared ones.
      { file_path: "images/frame_00002.png", transform_matrix: GL_ROWS, fl_x: 50, cx: 300 },
      // 3×4 matrices (bottom row implied) are accepted.
      { file_path: "images/frame_00003.png", transform_matrix: GL_ROWS.slice(0, 3) },
    ],
  };
  const path = write("ns/transforms.json", JSON.stringify(json));
  const cams = readTransformsJson(path);
  assert.equal(cams.length, 3);
  assert.equal(cams[0].name, "images/frame_00001.png");
  nearAll(pixel(cams[0], P), [345, 265, 2]);
  // fx = 50, cx = 300: u = 50·0.5/2 + 300 = 312.5; v unchanged.
  nearAll(pixel(cams[1], P), [312.5, 265, 2]);
  nearAll(pixel(cams[2], P), [345, 265, 2]);
  nearAll(cameraToOpenGlC2W(cams[0]), C2W_GL, 1e-12);
});

test("transforms.json (instant-ngp / NeRF synthetic): camera_angle_x, size from the caller", () => {
  // camera_angle_x = 90° on an 800-pixel-wide image: fx = 400/tan(45°) = 400 = fy; principal point (400, 400).
  // P at camera (0.5, 0.25, 2): u = 400·0.25 + 400 = 500, v = 400·0.125 + 400 = 450.
  const json = { camera_angle_x: Math.PI / 2, frames: [{ file_path: "./train/r_0", transform_matrix: GL_ROWS }] };
  const [cam] = parseTransformsJson(json, "transforms_train.json", { width: 800, height: 800 });
  nearAll([cam.fx, cam.fy, cam.cx, cam.cy], [400, 400, 400, 400], 1e-9);
  nearAll(pixel(cam, P), [500, 450, 2], 1e-9);
  // camera_angle_y sets fy independently; w/h in the file win over nothing else being given.
  const [cam2] = parseTransformsJson(
    { camera_angle_x: Math.PI / 2, camera_angle_y: 2 * Math.atan(0.5), w: 800, h: 600, frames: [{ transform_matrix: GL_ROWS }] },
    "t.json",
  );
  nearAll([cam2.fx, cam2.fy, cam2.cx, cam2.cy], [400, 600, 400, 300], 1e-9);
  // A frame-level fl_x beats a top-level camera_angle_x.
  const [cam3] = parseTransformsJson(
    { camera_angle_x: Math.PI / 2, w: 800, h: 600, frames: [{ transform_matrix: GL_ROWS, fl_x: 123 }] },
    "t.json",
  );
  assert.equal(cam3.fx, 123);
  assert.equal(cam3.fy, 123);
});

test("transforms.json: fisheye, distortion and malformed files give typed errors", () => {
  const base = { fl_x: 100, w: 640, h: 480, frames: [{ transform_matrix: GL_ROWS }] };
  assert.throws(
    () => parseTransformsJson({ ...base, camera_model: "OPENCV_FISHEYE" }, "dslr/transforms.json"),
    (e: unknown) => e instanceof UnsupportedFormatError && /OPENCV_FISHEYE.*transforms_undistorted/.test(e.message),
  );
  assert.throws(() => parseTransformsJson({ ...base, camera_model: "EQUIRECTANGULAR" }, "t"), UnsupportedFormatError);
  assert.throws(() => parseTransformsJson({ ...base, k1: 0.1 }, "t"), (e: unknown) => e instanceof UnsupportedFormatError && /k1 = 0\.1/.test(e.message));
  assert.throws(
    () => parseTransformsJson({ ...base, frames: [{ transform_matrix: GL_ROWS, p2: -0.01 }] }, "t"),
    UnsupportedFormatError,
  );
  const ignored = parseTransformsJson({ ...base, k1: 0.1 }, "t", { distortion: "ignore" });
  nearAll(pixel(ignored[0], P), [345, 252.5, 2]); // fl_y defaults to fl_x = 100

  const cases: [unknown, RegExp][] = [
    [[], /JSON object/],
    [{ fl_x: 1 }, /missing "frames"/],
    [{ ...base, w: undefined }, /no image size/],
    [{ ...base, fl_x: undefined }, /no focal length/],
    [{ ...base, fl_x: "100" }, /top level: "fl_x" must be a finite number/],
    [{ ...base, frames: [{ transform_matrix: GL_ROWS, cx: null, cy: "x" }] }, /frame 0: "cy" must be a finite number/],
    [{ ...base, frames: [{}] }, /frame 0: missing "transform_matrix"/],
    [{ ...base, frames: [{ transform_matrix: GL_ROWS }, { transform_matrix: [[1, 2], GL_ROWS[1], GL_ROWS[2], GL_ROWS[3]] }] }, /frame 1: "transform_matrix" rows must hold 4/],
    [{ ...base, frames: [{ transform_matrix: [1, 2, 3] }] }, /must be a 4×4/],
    [{ ...base, frames: [{ transform_matrix: GL_ROWS.map((r) => r.map((v) => v * 2)) }] }, /not orthonormal|bottom row/],
    [{ ...base, frames: [{ transform_matrix: [GL_ROWS[0], GL_ROWS[1], [-1, 0, 0, "3"], GL_ROWS[3]] }] }, /not a number/],
    [{ ...base, frames: [5] }, /frame 0: is not an object/],
    [{ ...base, w: 0 }, /width/],
  ];
  for (const [json, why] of cases) {
    const path = write("bad-transforms.json", JSON.stringify(json));
    expectInvalid(() => readTransformsJson(path), path, why);
  }
  assert.throws(() => readTransformsJson(join(dir, "none.json")), MissingFileError);
});

test("Replica traj_w_c.txt: one OpenCV camera-to-world per line, integer-centre intrinsics shifted", () => {
  assert.deepEqual({ ...REPLICA_INTRINSICS }, { width: 640, height: 480, fx: 320, fy: 320, cx: 320, cy: 240 });
  const identity = "1 0 0 0 0 1 0 0 0 0 1 0 0 0 0 1";
  const text = `${C2W_CV.join(" ")}\n${identity}\n`;
  const path = write("replica/room0/Sequence_1/traj_w_c.txt", text);
  const cams = readReplicaTrajectory(path);
  assert.deepEqual(
    cams.map((c) => c.name),
    ["0", "1"],
  );
  // P at camera (0.5, 0.25, 2): u = 320·0.25 + 320 = 400, v = 320·0.125 + 240 = 280.
  nearAll(pixel(cams[0], P), [400, 280, 2]);
  // Identity pose: the world point (0.2, −0.1, 1) is at u = 320·0.2 + 320 = 384, v = −32 + 240 = 208.
  nearAll(pixel(cams[1], [0.2, -0.1, 1]), [384, 208, 1]);
  nearAll(cameraToOpenCvC2W(cams[0]), C2W_CV, 1e-12);
  // Scientific notation and CRLF line ends, as numpy.savetxt writes them.
  const sci = C2W_CV.map((v) => v.toExponential(18)).join(" ") + "\r\n";
  nearAll(parseReplicaTrajectory(sci, "t")[0].viewMatrix, cams[0].viewMatrix, 1e-15);
});

test("Replica traj_w_c.txt: malformed files name the line", () => {
  const row = C2W_CV.join(" ");
  expectInvalid(() => readReplicaTrajectory(write("t1.txt", `${row}\n${row.replace("3", "x")}\n`)), join(dir, "t1.txt"), /line 2: "x" is not a number/);
  expectInvalid(() => readReplicaTrajectory(write("t2.txt", `${row}\n1 2 3\n`)), join(dir, "t2.txt"), /19 numbers, not a multiple of 16.*line 2/);
  expectInvalid(() => readReplicaTrajectory(write("t3.txt", "")), join(dir, "t3.txt"), /no numbers/);
  expectInvalid(() => readReplicaTrajectory(write("t4.txt", `${row}\n${row.replace(/^0/, "inf")}\n`)), join(dir, "t4.txt"), /pose 1 \(line 2\): entry 0 is Infinity/);
  expectInvalid(() => readReplicaTrajectory(write("t5.txt", "2 0 0 0 0 1 0 0 0 0 1 0 0 0 0 1")), join(dir, "t5.txt"), /pose 0.*orthonormal/);
  expectInvalid(() => readReplicaTrajectory(write("t6.txt", row.replace("1", "0x1"))), join(dir, "t6.txt"), /"0x1" is not a number/);
  assert.throws(() => readReplicaTrajectory(join(dir, "nope.txt")), MissingFileError);
});

test("ScanNet pose/*.txt: 4×4 on four lines, hand-computed pixel with intrinsics from intrinsic_color.txt", () => {
  const lines = [0, 1, 2, 3].map((r) => C2W_CV.slice(r * 4, r * 4 + 4).map((v) => v.toFixed(6)).join(" ")).join("\n");
  const posePath = write("scannet/scene0000_00/pose/0.txt", lines + "\n");
  const kPath = write(
    "scannet/scene0000_00/intrinsic/intrinsic_color.txt",
    "1170.187988 0.000000 647.750000 0.000000\n0.000000 1170.187988 483.750000 0.000000\n0.000000 0.000000 1.000000 0.000000\n0.000000 0.000000 0.000000 1.000000\n",
  );
  const intr = readIntrinsicsText(kPath, 1296, 968);
  assert.deepEqual(intr, { width: 1296, height: 968, fx: 1170.187988, fy: 1170.187988, cx: 648.25, cy: 484.25 });
  const cam = readScanNetPose(posePath, intr, { name: "0" });
  assert.ok(cam);
  assert.equal(cam.name, "0");
  // P at camera (0.5, 0.25, 2): u = 1170.187988·0.25 + 648.25, v = 1170.187988·0.125 + 484.25.
  nearAll(pixel(cam, P), [1170.187988 * 0.25 + 648.25, 1170.187988 * 0.125 + 484.25, 2], 1e-9);
  // The same camera at the 640×480 evaluation size.
  const small = scaleIntrinsics(intr, 640, 480);
  near(small.cx, 648.25 * (640 / 1296), 1e-12);
  near(small.fy, 1170.187988 * (480 / 968), 1e-12);
  // Integer-centre shift can be turned off for files already in the half-pixel convention.
  assert.equal(readIntrinsicsText(kPath, 1296, 968, { integerCentre: false }).cx, 647.75);
});

test("ScanNet invalid (-inf) poses: an error by default, null with skipInvalid; NaN is always an error", () => {
  const inf = Array.from({ length: 4 }, () => "-inf -inf -inf -inf").join("\n");
  const path = write("scannet/pose/17.txt", inf);
  expectInvalid(() => readScanNetPose(path, INTR), path, /invalid pose.*lost tracking/);
  assert.equal(readScanNetPose(path, INTR, { skipInvalid: true }), null);
  assert.equal(parseScanNetPose(inf.toUpperCase().replace(/-INF/g, "-Infinity"), "p", INTR, { skipInvalid: true }), null);
  const nan = C2W_CV.join(" ").replace(/^0/, "nan");
  expectInvalid(() => parseScanNetPose(nan, "p.txt", INTR, { skipInvalid: true }), "p.txt", /entry 0 is NaN/);
  expectInvalid(() => parseScanNetPose(`${C2W_CV.join(" ")} ${C2W_CV.join(" ")}`, "p.txt", INTR), "p.txt", /expected one 4×4 pose, got 2/);
  expectInvalid(() => readIntrinsicsText(write("k.txt", "1 0 2\n0 1"), 10, 10), join(dir, "k.txt"), /3×3 or 4×4/);
  expectInvalid(() => readIntrinsicsText(write("k2.txt", "-5 0 2 0 -5 2 0 0 1"), 10, 10), join(dir, "k2.txt"), /positive/);
});

test("intrinsicsFromK accepts 3×3 and 4×4 and applies the half-pixel shift", () => {
  assert.deepEqual(intrinsicsFromK([320, 0, 319.5, 0, 320, 239.5, 0, 0, 1], 640, 480), { ...REPLICA_INTRINSICS });
  assert.deepEqual(
    intrinsicsFromK([500, 0, 320, 0, 0, 510, 240, 0, 0, 0, 1, 0, 0, 0, 0, 1], 640, 480, { integerCentre: false }),
    { width: 640, height: 480, fx: 500, fy: 510, cx: 320, cy: 240 },
  );
  assert.throws(() => intrinsicsFromK([1, 2, 3], 640, 480), ConfigError);
});

test("parseMatrixText handles one matrix per line and four lines per matrix alike", () => {
  const a = parseMatrixText(`${C2W_CV.join(" ")}\n# comment\n\n${C2W_CV.join(",")}`, "x");
  assert.equal(a.matrices.length, 2);
  assert.deepEqual(a.firstLines, [1, 4]);
  const b = parseMatrixText(GL_ROWS.map((r) => r.join("\t")).join("\n"), "x");
  assert.deepEqual(Array.from(b.matrices[0]), C2W_GL);
});

test("percentileBox: linear-interpolated quantiles per axis, floaters ignored, NaN skipped", () => {
  // x = 0..100: the 2 % quantile is exactly 2 and the 98 % one 98 (numpy's default interpolation).
  const n = 101;
  const pos = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) pos.set([i, -i * 2, 5], i * 3);
  const box = percentileBox(pos);
  nearAll(box.min, [2, -196, 5], 1e-6);
  nearAll(box.max, [98, -4, 5], 1e-6);
  nearAll(percentileBox(pos, 0, 1).min, [0, -200, 5]);
  nearAll(percentileBox(pos, 0.5, 0.5).max, [50, -100, 5]);

  // Uniform cloud in [0, 1]³ plus far floaters: the box stays near [0.02, 0.98].
  const r = new Rng(1);
  const m = 20000;
  const cloud = new Float32Array((m + 50) * 3);
  r.fillUniform(cloud.subarray(0, m * 3));
  for (let i = m; i < m + 50; i++) cloud.set([1e6, -1e6, 1e5], i * 3);
  cloud[5] = NaN;
  const b2 = percentileBox(cloud);
  for (let a = 0; a < 3; a++) {
    near(b2.min[a], 0.02, 0.01, "min");
    near(b2.max[a], 0.98, 0.01, "max");
  }
  assert.throws(() => percentileBox(new Float32Array([NaN, 0, 0])), ConfigError);
  assert.throws(() => percentileBox(new Float32Array(4)), ConfigError);
  assert.throws(() => percentileBox(pos, 0.9, 0.1), ConfigError);
});

test("percentileBox subsamples millions of points deterministically and near the exact quantiles", () => {
  const n = 3_000_000;
  const pos = new Float32Array(n * 3);
  const r = new Rng(8);
  for (let i = 0; i < pos.length; i++) pos[i] = r.uniform(-1, 1);
  const a = percentileBox(pos);
  assert.deepEqual(percentileBox(pos), a);
  for (let k = 0; k < 3; k++) {
    near(a.min[k], -0.96, 0.01);
    near(a.max[k], 0.96, 0.01);
  }
  // An explicit small sample is still close.
  const coarse = percentileBox(pos, 0.02, 0.98, { maxSamples: 5000 });
  near(coarse.min[0], -0.96, 0.03);
});

/** Points of the box (corners, face centres, centre). */
function boxPoints(min: Vec3, max: Vec3): Vec3[] {
  const pts: Vec3[] = [];
  for (const fx of [0, 0.5, 1])
    for (const fy of [0, 0.5, 1])
      for (const fz of [0, 0.5, 1])
        pts.push([min[0] + fx * (max[0] - min[0]), min[1] + fy * (max[1] - min[1]), min[2] + fz * (max[2] - min[2])]);
  return pts;
}

test("orbitCameras: look at the percentile-box centre, keep the whole box in view, follow the benchmark rule", () => {
  const r = new Rng(2);
  const n = 5000;
  const pos = new Float32Array((n + 20) * 3);
  for (let i = 0; i < n; i++) pos.set([r.uniform(-2, 4), r.uniform(-1, 0.5), r.uniform(3, 9)], i * 3);
  for (let i = n; i < n + 20; i++) pos.set([500, 500, -500], i * 3); // floaters
  const box = percentileBox(pos);
  const centre: Vec3 = [0, 1, 2].map((a) => (box.min[a] + box.max[a]) / 2) as Vec3;
  const radius = Math.hypot(box.max[0] - box.min[0], box.max[1] - box.min[1], box.max[2] - box.min[2]) / 2;
  const W = 640,
    H = 480;
  const cams = orbitCameras(pos, 8, { width: W, height: H });
  assert.equal(cams.length, 8);
  assert.equal(cams[3].name, "orbit-003");
  const f = W / (2 * Math.tan(Math.PI / 6));
  near(benchmarkFocal(W), f, 1e-9);
  const halfFovY = Math.atan(H / 2 / f);
  const up: Vec3 = [0, -1, 0];
  const dirs: Vec3[] = [];
  for (const cam of cams) {
    assert.deepEqual([cam.width, cam.height, cam.cx, cam.cy], [W, H, W / 2, H / 2]);
    near(cam.fx, f, 1e-9);
    near(cam.fy, f, 1e-9);
    // The centre projects to the image centre.
    const [u, v, d] = pixel(cam, centre);
    near(u, W / 2, 1e-6);
    near(v, H / 2, 1e-6);
    // The bounding sphere exactly fills the vertical field of view.
    near(Math.asin(radius / d), halfFovY, 1e-9);
    // Every point of the box is in front of the camera and inside the image.
    for (const p of boxPoints(box.min, box.max)) {
      const [pu, pv, pd] = pixel(cam, p);
      assert.ok(pd > 0 && pu >= 0 && pu <= W && pv >= 0 && pv <= H, `box point ${p} → ${pu}, ${pv}`);
    }
    // 15° above the centre, "above" meaning along −y.
    const eye = cameraCenter(cam);
    const rel: Vec3 = [eye[0] - centre[0], eye[1] - centre[1], eye[2] - centre[2]];
    near(Math.asin((rel[0] * up[0] + rel[1] * up[1] + rel[2] * up[2]) / Math.hypot(...rel)), Math.PI / 12, 1e-9);
    dirs.push(rel);
    // World up (−y) appears upward in the image.
    assert.ok(pixel(cam, [centre[0], centre[1] - 0.1, centre[2]])[1] < H / 2);
  }
  // Evenly spaced in azimuth: consecutive horizontal directions are 45° apart.
  for (let i = 0; i < 8; i++) {
    const a = dirs[i],
      b = dirs[(i + 1) % 8];
    const cos = (a[0] * b[0] + a[2] * b[2]) / (Math.hypot(a[0], a[2]) * Math.hypot(b[0], b[2]));
    near(Math.acos(Math.min(1, cos)), Math.PI / 4, 1e-9);
  }
  // Deterministic.
  assert.deepEqual(orbitCameras(pos, 8, { width: W, height: H }), cams);
});

test("orbitCameras: azimuth 0 at 0° elevation is the identity-rotation camera of an RDF scene", () => {
  const box = { min: [-1, -1, -1] as Vec3, max: [1, 1, 1] as Vec3 };
  const [cam] = orbitCameras(box, 1, { width: 100, height: 100, elevationDeg: 0 });
  const v = cam.viewMatrix;
  nearAll([v[0], v[1], v[2], v[4], v[5], v[6], v[8], v[9], v[10]], [1, 0, 0, 0, 1, 0, 0, 0, 1], 1e-12);
  // Distance = radius / sin(30°) = √3 / 0.5.
  nearAll(cameraCenter(cam), [0, 0, -2 * Math.sqrt(3)], 1e-12);
});

test("orbitCameras: fovYDeg, focal, portrait images, custom up, degenerate boxes and bad options", () => {
  const box = { min: [0, 0, 0] as Vec3, max: [2, 1, 4] as Vec3 };
  const [a] = orbitCameras(box, 1, { width: 320, height: 240, fovYDeg: 90 });
  near(a.fy, 120, 1e-9);
  near(a.fx, 120, 1e-9);
  assert.equal(orbitCameras(box, 1, { width: 320, height: 240, focal: 77, fovYDeg: 90 })[0].fx, 77);
  // Portrait: the narrower horizontal field of view decides the distance, so the box still fits.
  for (const cam of orbitCameras(box, 5, { width: 200, height: 400 })) {
    for (const p of boxPoints(box.min, box.max)) {
      const [u, v] = pixel(cam, p);
      assert.ok(u >= 0 && u <= 200 && v >= 0 && v <= 400);
    }
  }
  // z-up worlds (OpenGL/Blender style).
  for (const cam of orbitCameras(box, 4, { width: 64, height: 64, up: [0, 0, 1] })) {
    const [u, v] = pixel(cam, [1, 0.5, 2]);
    near(u, 32, 1e-9);
    near(v, 32, 1e-9);
    assert.ok(pixel(cam, [1, 0.5, 2.1])[1] < 32, "+z appears up");
  }
  // A single point still gives usable cameras.
  const [p] = orbitCameras(new Float32Array([1, 2, 3]), 1, { width: 10, height: 10 });
  nearAll(pixel(p, [1, 2, 3]).slice(0, 2), [5, 5], 1e-9);
  assert.throws(() => orbitCameras(box, 0, { width: 10, height: 10 }), ConfigError);
  assert.throws(() => orbitCameras(box, 2.5, { width: 10, height: 10 }), ConfigError);
  assert.throws(() => orbitCameras(box, 1, { width: 0, height: 10 }), ConfigError);
  assert.throws(() => orbitCameras(box, 1, { width: 10, height: 10, elevationDeg: 90 }), ConfigError);
  assert.throws(() => orbitCameras(box, 1, { width: 10, height: 10, fovYDeg: 0 }), ConfigError);
  assert.throws(() => orbitCameras(box, 1, { width: 10, height: 10, up: [0, 0, 0] }), ConfigError);
});
