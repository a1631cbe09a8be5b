// The events map when its tile server cannot be reached (here a port on this machine
// where nothing listens): the tiles give way to the built-in outline of the UK and
// Ireland with major towns, credited to Natural Earth, with a note saying why, and the
// events still show. No request goes anywhere but Barnstorm and that tile server.

import assert from "node:assert/strict";

import { browserTest, eventually, expectText, useBarnstorm } from "./harness.js";

// Port 9 (discard) on loopback: nothing listens there, so every tile fails at once.
const TILES = "http://127.0.0.1:9";
process.env.BARNSTORM_TILE_URL = `${TILES}/{z}/{x}/{y}.png`;
process.env.BARNSTORM_TILE_ATTRIBUTION = "© Unreachable Tiles Ltd";

const app = useBarnstorm();

browserTest(app, "with its tile server unreachable the events map draws the outline of the UK and Ireland", async ({ newPage }) => {
  const page = await newPage();
  const own = new URL(app.baseUrl).host;
  const elsewhere = [];
  await page.context().route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.host === own || url.origin === TILES || url.protocol === "data:") return route.continue();
    elsewhere.push(url.href);
    return route.abort();
  });
  const tileRequests = [];
  page.on("request", (request) => {
    if (request.url().startsWith(TILES)) tileRequests.push(request.url());
  });

  await page.goto(app.url("/events"));
  await page.locator("#event-map.leaflet-container").waitFor();
  await expectText(page.locator("#event-map .map-note"), "Map tiles could not be loaded");
  assert.ok(tileRequests.length > 0, "the tile server was tried first");

  // The outline: land drawn as SVG paths, town names, the credit.
  await eventually(async () => {
    const paths = await page.locator("#event-map .outline-isles").count();
    assert.ok(paths > 0, "the coast of the British Isles is drawn");
  });
  const coast = await page.locator("#event-map path.outline-isles").first().getAttribute("d");
  assert.ok(coast && coast.length > 1000, "the coast is a detailed outline, not a box");
  const drawing = await page.locator("#event-map .leaflet-outlineLand-pane svg").boundingBox();
  assert.ok(drawing && drawing.width > 300 && drawing.height > 200, `the outline has room on the map: ${JSON.stringify(drawing)}`);
  await page.locator("#event-map .outline-town-name", { hasText: "Manchester" }).waitFor();
  await page.locator("#event-map .outline-town-name", { hasText: "Dublin" }).waitFor();
  await expectText(page.locator(".leaflet-control-attribution"), "Natural Earth");
  const attribution = await page.locator(".leaflet-control-attribution").innerText();
  assert.ok(!attribution.includes("Unreachable Tiles"), `the failed tiles are not credited: ${attribution}`);
  assert.equal(await page.locator("#event-map img.leaflet-tile").count(), 0, "the broken tiles are gone");

  // The events are still on the map.
  await eventually(async () => {
    const markers = await page.locator("#event-map .leaflet-marker-icon:not(.outline-town)").count();
    assert.ok(markers > 0, "event markers are drawn over the outline");
  });
  assert.deepEqual(elsewhere, [], "no request for any other host");
});
