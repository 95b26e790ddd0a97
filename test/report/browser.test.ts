/**
 * The report in a real headless browser: Debian's Chromium driven by playwright-core. The page must load from
 * file:// with no console errors, no page errors and no request outside its own folder; every <img> must
 * decode; every plot section must hold a non-empty SVG. CI installs the `chromium` package (.ci/run); when the
 * executable is missing this test fails and names it, rather than skipping.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Page } from "playwright-core";
import { expectedPlots, writeReport } from "../../src/report/index.ts";
import { fullReport, NASTY } from "./fixture.ts";

/** The Chromium executable; RTGS2_CHROMIUM overrides Debian's path. */
const CHROMIUM = process.env.RTGS2_CHROMIUM ?? "/usr/bin/chromium";

interface PageFacts {
  images: { src: string; ok: boolean }[];
  plots: { name: string; width: number; height: number; marks: number }[];
  scripts: number;
  text: string;
  sections: string[];
}

async function facts(page: Page): Promise<PageFacts> {
  return page.evaluate(() => {
    const images = Array.from(document.images).map((img) => ({
      src: img.getAttribute("src") ?? "",
      ok: img.complete && img.naturalWidth > 0 && img.naturalHeight > 0,
    }));
    const plots = Array.from(document.querySelectorAll("figure.plot")).map((fig) => {
      const svg = fig.querySelector("svg");
      const box = svg?.getBoundingClientRect();
      return {
        name: fig.getAttribute("data-plot") ?? "",
        width: box?.width ?? 0,
        height: box?.height ?? 0,
        marks: svg ? svg.querySelectorAll("path, rect, line, text").length : 0,
      };
    });
    return {
      images,
      plots,
      scripts: document.querySelectorAll("script").length,
      text: document.body.innerText,
      sections: Array.from(document.querySelectorAll("section[id]")).map((s) => s.id),
    };
  });
}

test("report loads in headless Chromium: no errors, every image decodes, every plot is drawn", async () => {
  assert.ok(
    existsSync(CHROMIUM),
    `Chromium executable not found at ${CHROMIUM}: install the Debian package \`chromium\` (apt-get install -y chromium; .ci/run does this) or set RTGS2_CHROMIUM`,
  );
  const dir = mkdtempSync(join(tmpdir(), "rtgs2-report-browser-"));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  try {
    const data = fullReport();
    const { html } = await writeReport(dir, data);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("request", (r) => requests.push(r.url()));
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
    const url = pathToFileURL(html).href;
    await page.goto(url, { waitUntil: "load" });

    const f = await facts(page);
    assert.deepEqual(problems, []);
    const folder = pathToFileURL(dir).href + "/";
    for (const r of requests) assert.ok(r === url || r.startsWith(folder), `request outside the report folder: ${r}`);
    assert.equal(f.images.length, 9);
    for (const img of f.images) assert.ok(img.ok, `image did not load: ${img.src}`);
    assert.deepEqual(f.plots.map((p) => p.name), expectedPlots(data));
    for (const p of f.plots) {
      assert.ok(p.width > 50 && p.height > 50, `plot ${p.name} is ${p.width}×${p.height}`);
      assert.ok(p.marks > 5, `plot ${p.name} has ${p.marks} marks`);
    }
    assert.deepEqual(f.sections, ["headline", "samples", "classes", "consistency", "training", "fps", "comparison"]);
    assert.equal(f.scripts, 0);
    assert.ok(f.text.includes(NASTY), "the escaped class name is shown as text");
    assert.ok(f.text.includes("different dataset (paper: Replica/ScanNet/ScanNet++; ours: tiny <rooms>)"));

    // The checks can fail: with one PNG removed, the browser reports that image as broken.
    rmSync(join(dir, "img/view0-depth.png"));
    await page.reload({ waitUntil: "load" });
    const broken = (await facts(page)).images.filter((i) => !i.ok).map((i) => i.src);
    assert.deepEqual(broken, ["img/view0-depth.png"]);
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
