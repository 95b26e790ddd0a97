import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/core/rng.ts";
import { cameraCenter } from "../../src/core/camera.ts";
import { SYNTH_CLASSES, SYNTH_CLASS_TABLE_VERSION } from "../../src/scenes/classes.ts";
import { generateLayout, ROOM_TYPES } from "../../src/scenes/layout.ts";
import { cameraWalk, clearance, MIN_CLEARANCE } from "../../src/scenes/trajectory.ts";
import { rasterizeMesh } from "../../src/scenes/mesh-raster.ts";

const layouts = Array.from({ length: 20 }, (_, i) => generateLayout(11, i));

test("the class table is frozen with at least 20 classes, unique names and colours", () => {
  assert.ok(SYNTH_CLASSES.length >= 20);
  assert.ok(Object.isFrozen(SYNTH_CLASSES));
  assert.equal(new Set(SYNTH_CLASSES.map((c) => c.name)).size, SYNTH_CLASSES.length);
  assert.equal(new Set(SYNTH_CLASSES.map((c) => c.color.join())).size, SYNTH_CLASSES.length);
  SYNTH_CLASSES.forEach((c, i) => assert.equal(c.id, i));
  assert.match(SYNTH_CLASS_TABLE_VERSION, /^synth-v\d+$/);
});

test("every class appears across a 20-scene dataset, and every room type", () => {
  const seen = new Set<number>();
  for (const l of layouts) for (const c of l.mesh.triClass) seen.add(c);
  const missing = SYNTH_CLASSES.filter((c) => !seen.has(c.id)).map((c) => c.name);
  assert.deepEqual(missing, []);
  assert.deepEqual(new Set(layouts.map((l) => l.roomType)), new Set(ROOM_TYPES));
});

test("rooms have the specified size, a door and a window, and closed walls", () => {
  for (const l of layouts) {
    for (const s of [l.width, l.depth]) assert.ok(s >= 3 && s <= 8, `room side ${s}`);
    assert.ok(l.height >= 2.4 && l.height <= 3);
    const classes = new Set(l.mesh.triClass);
    for (const name of ["wall", "floor", "ceiling", "door", "window"]) assert.ok(classes.has(SYNTH_CLASSES.find((c) => c.name === name)!.id), name);
    // Nothing sticks out of the room apart from the door and window reveals in the wall thickness.
    for (let v = 0; v < l.mesh.positions.length; v += 3) {
      const [x, y, z] = [l.mesh.positions[v], l.mesh.positions[v + 1], l.mesh.positions[v + 2]];
      assert.ok(x >= -0.13 && x <= l.width + 0.13 && z >= -0.13 && z <= l.depth + 0.13 && y >= -1e-6 && y <= l.height + 1e-6);
    }
    for (const o of l.objects) assert.ok(o.min[1] >= -1e-6 && o.max[1] <= l.height + 1e-6);
  }
});

test("the same seed and index give the same layout; scene i does not depend on other scenes", () => {
  const a = generateLayout(11, 5), b = generateLayout(11, 5);
  assert.deepEqual(a.mesh.positions, b.mesh.positions);
  assert.deepEqual(a.mesh.triClass, b.mesh.triClass);
  assert.deepEqual(a.mesh.positions, layouts[5].mesh.positions);
  assert.notDeepEqual(generateLayout(12, 5).mesh.positions, a.mesh.positions);
});

test("no camera is inside furniture, outside the room or closer than 0.4 m to a surface", () => {
  layouts.forEach((l, i) => {
    const cams = cameraWalk(l, new Rng(11).fork(`walk-${i}`), 48, 320, 240);
    assert.equal(cams.length, 48);
    for (const cam of cams) {
      const c = cameraCenter(cam);
      assert.ok(c[0] > 0 && c[0] < l.width && c[2] > 0 && c[2] < l.depth, `scene ${i}: camera outside the room`);
      assert.ok(c[1] >= 1.2 - 1e-9 && c[1] <= 1.8 + 1e-9, `scene ${i}: eye height ${c[1]}`);
      for (const o of l.objects) {
        const inside = [0, 1, 2].every((a) => c[a] >= o.min[a] && c[a] <= o.max[a]);
        assert.ok(!inside, `scene ${i}: camera inside object ${o.instance}`);
      }
      assert.ok(clearance(l, c) >= MIN_CLEARANCE - 1e-9, `scene ${i}: clearance ${clearance(l, c)}`);
      assert.ok(Math.abs(cam.fx - 160) < 1e-9, "90° horizontal field of view");
    }
  });
});

test("rooms are closed: from every camera of the walks, every ground-truth pixel sees a surface", () => {
  layouts.forEach((l, i) => {
    for (const cam of cameraWalk(l, new Rng(11).fork(`walk-${i}`), 6, 80, 60)) {
      const r = rasterizeMesh(l.mesh, cam);
      assert.equal(r.triangle.indexOf(-1), -1, `scene ${i}: a pixel sees through the room`);
    }
  });
});
