// The events map on the operator's own basemap (`--basemap FILE.pmtiles`): a PMTiles
// archive of vector tiles made in the test with PyPI's pmtiles (basemap/make_archive.py).
// The browser reads it from Barnstorm in byte ranges (Range requests answered 206) and
// asks no other host, though a tile server is configured too; the land and water drawn
// from the archive's tiles show on the map, credited as configured, and the page's
// Content-Security-Policy allows images from this site only.
// Without pmtiles this file is skipped, loudly; under CI or BARNSTORM_REQUIRE_ALL_SUITES=1
// it fails instead.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { after, test } from "node:test";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { browserTest, eventually, expectText, useBarnstorm } from "./harness.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REQUIRED = process.env.CI === "true" || process.env.BARNSTORM_REQUIRE_ALL_SUITES === "1";
const NAME = "the events map draws the operator's basemap from byte ranges of this server only";

const dir = mkdtempSync(path.join(os.tmpdir(), "barnstorm-basemap-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const archive = path.join(dir, "uk.pmtiles");
const made = spawnSync("python3", [path.join(HERE, "basemap/make_archive.py"), archive], { encoding: "utf8" });

/** The Protomaps "light" colours of the archive's two layers, as RGB. */
const EARTH = [0xe2, 0xdf, 0xda];
const WATER = [0x80, 0xde, 0xea];

if (made.status !== 0) {
  const why = made.error ? `python3 could not run: ${made.error.message}` : made.stderr.trim() || `exit ${made.status}`;
  if (REQUIRED) {
    test(NAME, () => assert.fail(`no test basemap could be made (${why}); pip install pmtiles`));
  } else {
    console.warn(`\n!!! SKIPPED ${path.basename(fileURLToPath(import.meta.url))}: ${why}\n`);
    test(NAME, { skip: why }, () => {});
  }
} else {
  // Set as well, to show that the basemap replaces it: nothing may be asked of this host.
  process.env.BARNSTORM_TILE_URL = "https://tiles.example.org/{z}/{x}/{y}.png";
  process.env.BARNSTORM_TILE_ATTRIBUTION = "© OpenStreetMap contributors";
  const app = useBarnstorm({ serveArgs: () => ["--basemap", archive] });

  browserTest(app, NAME, async ({ newPage }) => {
    const page = await newPage();
    const own = new URL(app.baseUrl).host;
    const foreign = [];
    // Every request is recorded; one for anywhere but this server is refused and reported.
    await page.context().route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (url.host === own || url.protocol === "data:" || url.protocol === "blob:") return route.continue();
      foreign.push(url.href);
      return route.abort();
    });
    const ranges = [];
    page.on("response", async (response) => {
      if (new URL(response.url()).pathname !== "/basemap.pmtiles") return;
      ranges.push({
        status: response.status(),
        range: await response.request().headerValue("range"),
        contentRange: response.headers()["content-range"],
      });
    });

    const answer = await page.goto(app.url("/events"));
    const policy = answer.headers()["content-security-policy"];
    assert.match(policy, /img-src 'self' data:;/, `images from this site only: ${policy}`);
    await page.locator("#event-map canvas.leaflet-tile").first().waitFor({ state: "attached" });

    // Both layers of the archive are painted: its land and its water, side by side.
    const painted = await eventually(
      async () => {
        const counts = await page.evaluate(
          ([earth, water]) => {
            const near = (data, i, rgb) => rgb.every((value, k) => Math.abs(data[i + k] - value) <= 3);
            const found = { earth: 0, water: 0, tiles: 0 };
            for (const canvas of document.querySelectorAll("#event-map canvas.leaflet-tile")) {
              if (!canvas.width) continue;
              found.tiles += 1;
              const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
              for (let i = 0; i < data.length; i += 4) {
                if (near(data, i, earth)) found.earth += 1;
                else if (near(data, i, water)) found.water += 1;
              }
            }
            return found;
          },
          [EARTH, WATER],
        );
        assert.ok(counts.earth > 1000 && counts.water > 1000, `land and water drawn from the archive: ${JSON.stringify(counts)}`);
        return counts;
      },
      { timeoutMs: 20_000 },
    );
    assert.ok(painted.tiles >= 4, `several tiles drawn: ${JSON.stringify(painted)}`);

    // The archive came from this server, in byte ranges.
    assert.ok(ranges.length >= 2, `the header and the tiles were fetched: ${JSON.stringify(ranges)}`);
    for (const { status, range, contentRange } of ranges) {
      assert.match(range ?? "", /^bytes=\d+-\d+$/, `a byte range was asked for: ${JSON.stringify(ranges)}`);
      assert.equal(status, 206, `answered with part of the file: ${JSON.stringify(ranges)}`);
      assert.match(contentRange ?? "", /^bytes \d+-\d+\/\d+$/);
    }
    assert.deepEqual(foreign, [], "no request left for another host");
    await expectText(page.locator(".leaflet-control-attribution"), "© OpenStreetMap contributors");
    assert.equal(await page.locator("#event-map .outline-isles").count(), 0, "no outline under a basemap");
  });
}
