import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writePly } from "../../src/splat/io/index.ts";
import { syntheticRoomCloud } from "../../src/splat/synthetic.ts";
import { decodeViewerScene } from "../../src/viewer-server/format.ts";
import { loadViewScene, routeRequest, startViewServer } from "../../src/viewer-server/server.ts";
import { writeSafetensors } from "../../src/nn/safetensors.ts";
import { InvalidFileError } from "../../src/core/errors.ts";

const bin = fileURLToPath(new URL("../../bin/rtgs2.js", import.meta.url));

/** Send one raw HTTP/1.1 request (the target exactly as given, unlike fetch, which normalizes it). */
function rawRequest(port: number, target: string, method = "GET"): Promise<{ status: number; headers: string; body: Buffer }> {
  return new Promise((ok, fail) => {
    const sock = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    sock.on("data", (d) => chunks.push(d));
    sock.on("error", fail);
    sock.on("end", () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf("\r\n\r\n");
      const head = all.subarray(0, split).toString("latin1");
      ok({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), headers: head, body: all.subarray(split + 4) });
    });
    sock.write(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  });
}

function makeScene() {
  const base = mkdtempSync(join(tmpdir(), "rtgs2-view-"));
  const dir = join(base, "scene");
  mkdirSync(join(dir, "sub"), { recursive: true });
  const cloud = syntheticRoomCloud(500, 2);
  cloud.extras.set("label", Uint16Array.from({ length: 500 }, (_, i) => (i % 7 === 0 ? 65535 : i % 5)));
  for (let c = 0; c < 4; c++) cloud.extras.set(`f_pc_${c}`, Float32Array.from({ length: 500 }, (_, i) => Math.sin(i * (c + 1))));
  writePly(join(dir, "point_cloud.ply"), cloud);
  writeFileSync(join(dir, "sub", "notes.txt"), "inside");
  writeFileSync(join(base, "secret.txt"), "SECRET-CONTENT");
  symlinkSync(join(base, "secret.txt"), join(dir, "link.txt"));
  return { base, dir, cloud };
}

test("routeRequest decodes, collapses // and refuses traversal before mapping to a root", () => {
  const forbidden = [
    "/..",
    "/scene/../secret.txt",
    "/scene/%2e%2e/secret.txt",
    "/scene/%2E%2E%2Fsecret.txt",
    "/scene/..%2fsecret.txt",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/scene//..//secret.txt",
    "//etc/passwd",
    "/etc/passwd",
    "/%2Fetc%2Fpasswd",
    "/scene/a%5c..%5csecret.txt",
    "/scene/a%00b",
    "/scene/%zz",
    "http://127.0.0.1/etc/passwd",
    "*",
    "/api/../scene/x",
    "/api/other.json",
    "/scene/",
    "/scene/./point_cloud.ply",
  ];
  for (const url of forbidden) assert.equal(routeRequest(url).kind, "forbidden", url);
  assert.deepEqual(routeRequest("/"), { kind: "asset", name: "index.html" });
  assert.deepEqual(routeRequest("/viewer.js?x=1"), { kind: "asset", name: "viewer.js" });
  assert.deepEqual(routeRequest("//api//scene.bin"), { kind: "asset", name: "scene.bin" });
  assert.deepEqual(routeRequest("/scene/sub%2Fnotes.txt"), { kind: "scene-file", rel: "sub/notes.txt" });
  assert.deepEqual(routeRequest("/scene//sub///notes.txt"), { kind: "scene-file", rel: "sub/notes.txt" });
});

test("view server: assets, payload round trip, cameras, scene files, 403 for traversal, 405 for writes", async () => {
  const { dir, cloud } = makeScene();
  const srv = await startViewServer({ scene: dir, port: 0, defaultSize: { width: 64, height: 48 } });
  try {
    assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.equal(srv.server.address() && typeof srv.server.address() === "object" ? (srv.server.address() as { address: string }).address : "", "127.0.0.1");
    const index = await rawRequest(srv.port, "/");
    assert.equal(index.status, 200);
    assert.match(index.headers, /Cross-Origin-Opener-Policy: same-origin/i);
    assert.match(index.headers, /Cross-Origin-Embedder-Policy: require-corp/i);
    assert.match(index.body.toString(), /viewer\.js/);
    const js = await rawRequest(srv.port, "/viewer.js");
    assert.equal(js.status, 200);
    assert.match(js.body.toString(), /rtgs2Viewer/);

    const info = JSON.parse((await rawRequest(srv.port, "/api/info.json")).body.toString());
    assert.equal(info.count, 500);
    assert.equal(info.featureChannels, 4);
    assert.equal(info.hasLabels, true);
    assert.equal(info.orbitCameras, true);
    assert.equal(info.model, false);

    const bin = await rawRequest(srv.port, "/api/scene.bin");
    const s = decodeViewerScene(new Uint8Array(bin.body));
    assert.equal(s.count, 500);
    assert.equal(s.shDegree, 3);
    for (const i of [0, 123, 499]) {
      for (let a = 0; a < 3; a++) {
        assert.equal(s.position[i * 3 + a], cloud.positions[i * 3 + a]);
        assert.ok(Math.abs(s.scale[i * 3 + a] - Math.exp(cloud.logScales[i * 3 + a])) < 1e-6 * s.scale[i * 3 + a] + 1e-9);
      }
      assert.ok(Math.abs(s.opacity[i] - 1 / (1 + Math.exp(-cloud.opacityLogits[i]))) < 1e-6);
      assert.equal(s.sh[i * 48 + 1], cloud.shDc[i * 3 + 1]);
      assert.equal(s.sh[i * 48 + 3 + 44], cloud.shRest[i * 45 + 44]);
      assert.equal(s.features![i * 4 + 2], cloud.extras.get("f_pc_2")![i]);
      assert.equal(s.label![i], cloud.extras.get("label")![i]);
    }
    const cams = JSON.parse((await rawRequest(srv.port, "/api/cameras.json")).body.toString());
    assert.equal(cams.length, 8);
    assert.equal(cams[0].width, 64);
    assert.equal(cams[0].viewMatrix.length, 16);

    const ply = await rawRequest(srv.port, "/scene/point_cloud.ply");
    assert.equal(ply.status, 200);
    assert.deepEqual(ply.body, readFileSync(join(dir, "point_cloud.ply")));
    assert.equal((await rawRequest(srv.port, "/scene/sub%2fnotes.txt")).body.toString(), "inside");
    assert.equal((await rawRequest(srv.port, "/scene/missing.txt")).status, 404);
    assert.equal((await rawRequest(srv.port, "/api/model.safetensors")).status, 404);

    for (const target of [
      "/scene/../secret.txt",
      "/scene/%2e%2e/secret.txt",
      "/scene/%2e%2e%2fsecret.txt",
      "//etc/passwd",
      "/etc/passwd",
      "/%2Fetc%2Fpasswd",
      "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
      "/scene/link.txt",
      "http://127.0.0.1/etc/passwd",
    ]) {
      const r = await rawRequest(srv.port, target);
      assert.equal(r.status, 403, target);
      assert.doesNotMatch(r.body.toString(), /SECRET-CONTENT|root:/, target);
    }
    for (const method of ["POST", "PUT", "DELETE"]) assert.equal((await rawRequest(srv.port, "/", method)).status, 405, method);
    const head = await rawRequest(srv.port, "/api/scene.bin", "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
  } finally {
    await srv.close();
  }
});

test("view server: a single-file SCENE serves only that file; --model is served", async () => {
  const { base, dir } = makeScene();
  const model = join(base, "model.safetensors");
  writeFileSync(model, "weights");
  const srv = await startViewServer({ scene: join(dir, "point_cloud.ply"), model, port: 0, defaultSize: { width: 32, height: 24 } });
  try {
    assert.equal((await rawRequest(srv.port, "/scene/point_cloud.ply")).status, 200);
    assert.equal((await rawRequest(srv.port, "/scene/sub/notes.txt")).status, 403);
    assert.equal((await rawRequest(srv.port, "/scene/link.txt")).status, 403);
    assert.equal((await rawRequest(srv.port, "/api/model.safetensors")).body.toString(), "weights");
    assert.equal(JSON.parse((await rawRequest(srv.port, "/api/info.json")).body.toString()).model, true);
  } finally {
    await srv.close();
  }
});

test("rtgs2 view prints the URL as its first stdout line and stops on SIGTERM; a missing scene exits 2", async () => {
  const { dir } = makeScene();
  const child = spawn(process.execPath, [bin, "view", dir, "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  const url = await new Promise<string>((ok, fail) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const nl = out.indexOf("\n");
      if (nl >= 0) ok(out.slice(0, nl));
    });
    child.on("exit", (code) => fail(new Error(`exited ${code} before printing a URL`)));
  });
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const res = await fetch(`${url}api/info.json`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cross-origin-embedder-policy"), "require-corp");
  const code = await new Promise<number | null>((ok) => {
    child.on("exit", (c) => ok(c));
    child.kill("SIGTERM");
  });
  assert.equal(code, 0);

  const bad = spawn(process.execPath, [bin, "view", join(dir, "nope.ply")], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "", stderr = "";
  bad.stdout.on("data", (d) => (stdout += d));
  bad.stderr.on("data", (d) => (stderr += d));
  const badCode = await new Promise<number | null>((ok) => bad.on("exit", (c) => ok(c)));
  assert.equal(badCode, 2);
  assert.equal(stdout, "");
  assert.equal(stderr.trim().split("\n").length, 1);
  assert.match(stderr, /nope\.ply/);
});

test("a scene folder without f_pc_* takes its features from features.safetensors; a mis-shaped sidecar is refused by name", () => {
  const base = mkdtempSync(join(tmpdir(), "rtgs2-view-side-"));
  const cloud = syntheticRoomCloud(50, 4);
  writePly(join(base, "point_cloud.ply"), cloud);
  const values = Float32Array.from({ length: 50 * 3 }, (_, i) => i / 7);
  writeSafetensors(join(base, "features.safetensors"), new Map([["f_pc", { dtype: "F32" as const, shape: [50, 3], data: values }]]));
  const loaded = loadViewScene(base, { width: 32, height: 24 });
  assert.equal(loaded.info.featureChannels, 3);
  const s = decodeViewerScene(loaded.payload);
  assert.deepEqual(Array.from(s.features!), Array.from(values));

  writeSafetensors(join(base, "features.safetensors"), new Map([["f_pc", { dtype: "F32" as const, shape: [49, 3], data: values.subarray(0, 147) }]]));
  assert.throws(() => loadViewScene(base), (e: unknown) => e instanceof InvalidFileError && /features\.safetensors.*\[49, 3\]/.test(e.message));
});
