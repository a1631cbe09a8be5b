// The events map on the operator's own basemap (`--basemap FILE.pmtiles`): PMTiles
// archives made in the test with PyPI's pmtiles (basemap/make_archive.py), one of vector
// tiles and one of PNG tiles, each served by its own Barnstorm. The browser reads the
// archive from Barnstorm in byte ranges (Range requests answered 206) and asks no other
// host, though a tile server is configured too; the colours of the archive's tiles show on
// the map, credited as configured, and the page's Content-Security-Policy allows images
// from this site only (and, for PNG tiles, the page's own blobs).
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

/** Each kind of archive, the tiles it becomes on the map and the two colours they show. */
const KINDS = {
  // The Protomaps "light" colours of the archive's two layers, earth and water.
  vector: { tiles: "canvas.leaflet-tile", colours: [[0xe2, 0xdf, 0xda], [0x80, 0xde, 0xea]], images: "img-src 'self' data:;" },
  // RASTER_TOP and RASTER_BOTTOM of make_archive.py; the page makes images of them as blobs.
  raster: { tiles: "img.leaflet-tile", colours: [[200, 60, 60], [60, 60, 200]], images: "img-src 'self' data: blob:;" },
};

const dir = mkdtempSync(path.join(os.tmpdir(), "barnstorm-basemap-"));
after(() => rmSync(dir, { recursive: true, force: true }));

// Set as well, to show that the basemap replaces it: nothing may be asked of this host.
process.env.BARNSTORM_TILE_URL = "https://tiles.example.org/{z}/{x}/{y}.png";
process.env.BARNSTORM_TILE_ATTRIBUTION = "© OpenStreetMap contributors";

/** How many pixels of the map's tiles are near each of `colours` (tiles read through a canvas). */
function countColours({ selector, colours }) {
  const counts = colours.map(() => 0);
  let tiles = 0;
  for (const tile of document.querySelectorAll(`#event-map ${selector}`)) {
    const width = tile.naturalWidth ?? tile.width;
    const height = tile.naturalHeight ?? tile.height;
    if (!width || !height || (tile.complete === false)) continue;
    tiles += 1;
    let canvas = tile;
    if (tile.tagName === "IMG") {
      canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      canvas.getContext("2d").drawImage(tile, 0, 0);
    }
    const { data } = canvas.getContext("2d").getImageData(0, 0, width, height);
    for (let i = 0; i < data.length; i += 4) {
      const at = colours.findIndex((rgb) => rgb.every((value, k) => Math.abs(data[i + k] - value) <= 3));
      if (at >= 0) counts[at] += 1;
    }
  }
  return { tiles, counts };
}

for (const [kind, { tiles, colours, images }] of Object.entries(KINDS)) {
  const name = `the events map draws the operator's ${kind} basemap from byte ranges of this server only`;
  const archive = path.join(dir, `uk-${kind}.pmtiles`);
  const made = spawnSync("python3", [path.join(HERE, "basemap/make_archive.py"), kind, archive], { encoding: "utf8" });
  if (made.status !== 0) {
    const why = made.error ? `python3 could not run: ${made.error.message}` : made.stderr.trim() || `exit ${made.status}`;
    if (REQUIRED) {
      test(name, () => assert.fail(`no test basemap could be made (${why}); pip install pmtiles`));
    } else {
      console.warn(`\n!!! SKIPPED ${name}: ${why}\n`);
      test(name, { skip: why }, () => {});
    }
    continue;
  }
  const app = useBarnstorm({ serveArgs: () => ["--basemap", archive] });

  browserTest(app, name, async ({ newPage }) => {
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
    page.on("response", (response) => {
      if (new URL(response.url()).pathname !== "/basemap.pmtiles") return;
      ranges.push({
        status: response.status(),
        range: response.request().headers().range,
        contentRange: response.headers()["content-range"],
      });
    });

    const answer = await page.goto(app.url("/events"));
    const policy = answer.headers()["content-security-policy"];
    assert.ok(policy.includes(images), `images from this site only: ${policy}`);
    await page.locator(`#event-map ${tiles}`).first().waitFor({ state: "attached" });

    // Both colours of the archive's tiles are on the map.
    await eventually(
      async () => {
        const found = await page.evaluate(countColours, { selector: tiles, colours });
        assert.ok(found.tiles >= 4 && found.counts.every((count) => count > 1000), `the archive's tiles are drawn: ${JSON.stringify(found)}`);
      },
      { timeoutMs: 20_000 },
    );

    // The archive came from this server, in byte ranges.
    assert.ok(ranges.length >= 2, `the header and the tiles were fetched: ${JSON.stringify(ranges)}`);
    for (const { status, range, contentRange } of ranges) {
      assert.match(range ?? "", /^bytes=\d+-\d+$/, `a byte range was asked for: ${JSON.stringify(ranges)}`);
      assert.equal(status, 206, `answered with part of the file: ${JSON.stringify(ranges)}`);
      assert.match(contentRange ?? "", /^bytes \d+-\d+\/\d+$/);
    }
    const starts = ranges.map(({ range }) => Number(/^bytes=(\d+)-/.exec(range ?? "")?.[1]));
    assert.ok(starts.some((start) => start >= 16_384), `the tiles were read in a range of their own: ${JSON.stringify(ranges)}`);
    assert.deepEqual(foreign, [], "no request left for another host");
    await expectText(page.locator(".leaflet-control-attribution"), "© OpenStreetMap contributors");
    assert.equal(await page.locator("#event-map .outline-isles").count(), 0, "no outline under a basemap");
  });
}
