import { test, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { readSplatSync } from "../../src/splat/io/index.ts";
import { orbitCameras } from "../../src/core/camera-convert.ts";
import { render, closeRenderWorkers } from "../../src/render/render.ts";

after(closeRenderWorkers);

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

for (const name of ["guitar.compressed.ply", "playcanvas-test-sh3.compressed.ply"]) {
  test(`real sample ${name} renders non-empty and centred where the orbit cameras look`, async () => {
    const { cloud } = readSplatSync(fixture(name));
    for (const cam of orbitCameras(cloud.positions, 3, { width: 160, height: 120 })) {
      const out = await render(cloud, cam, { threads: 2 });
      let mass = 0, mx = 0, my = 0;
      for (let p = 0; p < out.alpha.length; p++) {
        const a = out.alpha[p];
        mass += a;
        mx += a * (p % 160);
        my += a * Math.floor(p / 160);
      }
      assert.ok(mass > 160 * 120 * 0.01, `covers at least 1% of the image (mass ${mass.toFixed(0)})`);
      // The orbit looks at the centre of the splats' percentile box, so coverage is centred on the image.
      assert.ok(Math.abs(mx / mass - 80) < 24 && Math.abs(my / mass - 60) < 24, `centroid (${(mx / mass).toFixed(1)}, ${(my / mass).toFixed(1)})`);
      assert.ok(out.rgb.every(Number.isFinite));
      let bright = 0;
      for (let p = 0; p < out.alpha.length; p++) if (out.rgb[p * 3] + out.rgb[p * 3 + 1] + out.rgb[p * 3 + 2] > 0.1) bright++;
      assert.ok(bright > 0.5 * out.alpha.filter((a) => a > 0.5).length, "covered pixels carry colour");
    }
  });
}
