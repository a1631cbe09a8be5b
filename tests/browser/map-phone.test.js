// The events map on a phone, with tiles switched off (`--tile-url none`): the results list
// comes first and the map is one tap away; two events at the same place share a stacked
// marker that lists both; markers are reached and opened with the keyboard; distances
// from a postcode district's centre say "about"; and with no map tiles the map draws its
// built-in outline, credited to Natural Earth, and names no tile provider.

import assert from "node:assert/strict";

import { ADMIN, browserTest, eventually, expectAccessible, expectText, uniqueSuffix, useBarnstorm } from "./harness.js";

// Read by `barnstorm serve` (the harness passes the environment on): no tile server.
process.env.BARNSTORM_TILE_URL = "none";

const app = useBarnstorm();

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

/** `YYYY-MM-DD` in London, `days` from today. */
function londonDate(days) {
  const when = new Date(Date.now() + days * 24 * 3600 * 1000);
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/London", year: "numeric", month: "2-digit", day: "2-digit" }).format(when);
}

async function postEvent(token, groupId, title, postcode, days) {
  const created = await app.api("POST", "/api/v1/events", {
    token,
    body: { group_id: groupId, kind: "canvass", title, date: londonDate(days), start_time: "10:00", end_time: "12:00", postcode, address: "The library" },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  return created.json;
}

/** Presses Tab until a map marker has the focus; returns its accessible name. */
async function tabToMarker(page, name) {
  for (let i = 0; i < 60; i += 1) {
    await page.keyboard.press("Tab");
    const label = await page.evaluate(() => {
      const focused = document.activeElement;
      return focused?.classList.contains("event-pin") ? focused.getAttribute("aria-label") : null;
    });
    if (label && name.test(label)) return label;
  }
  throw new Error(`no marker named ${name} was reached with Tab`);
}

browserTest(app, "on a phone the list comes first, the map is a tap away, stacked and single markers open by keyboard, district distances say about", async ({ newPage }) => {
  const suffix = uniqueSuffix();
  const token = (await app.api("POST", "/api/v1/tokens", { body: { email: ADMIN.email, password: ADMIN.password } })).json.token;
  const leeds = (await app.api("GET", "/api/v1/groups")).json.find((group) => group.slug === "leeds");
  // Two events placed only by their district share its centre; a third stands alone.
  const first = `Stacked canvass A ${suffix}`;
  const second = `Stacked canvass B ${suffix}`;
  const single = `Lone street stall ${suffix}`;
  await postEvent(token, leeds.id, first, "LS6", 3);
  await postEvent(token, leeds.id, second, "LS6", 4);
  await postEvent(token, leeds.id, single, "LS7", 5);
  const centre = async (q) => (await fetch(app.url(`/events/search.json?q=${q}&radius_km=5`)).then((r) => r.json())).place;
  const ls6 = await centre("LS6");
  const ls7 = await centre("LS7");

  const page = await newPage(PHONE);
  // Zoom 15, where the map shows every event on its own (or stacked) marker.
  await page.goto(app.url(`/events?lat=${ls6.lat}&lon=${ls6.lon}&zoom=15`));
  await page.locator("#event-map.leaflet-container").waitFor({ state: "attached" });
  const list = page.locator("#event-list");
  await expectText(list, first);

  // The list first; the map waits behind "Show map".
  const toggle = page.getByRole("button", { name: "Show map" });
  assert.equal(await toggle.getAttribute("aria-expanded"), "false");
  assert.equal(await page.locator("#event-map").isVisible(), false, "the map is a tap away, not in the way");
  const listBox = await list.boundingBox();
  const toggleBox = await toggle.boundingBox();
  assert.ok(listBox && toggleBox && listBox.y < 844, "the results list is on the first screen");
  assert.equal(await page.getByText(/OpenStreetMap/).count(), 0, "no tile attribution without tiles");
  await expectAccessible(page, "events on a phone, list first");

  await toggle.click();
  const hide = page.getByRole("button", { name: "Hide map" });
  await expectText(page.locator(".leaflet-control-attribution"), "Natural Earth");
  assert.ok((await page.locator("#event-map .outline-isles").count()) > 0, "the outline of the UK and Ireland is drawn");
  assert.equal(await hide.getAttribute("aria-expanded"), "true");
  await eventually(async () => assert.equal(await page.locator("#event-map").isVisible(), true, "the map opens"));
  const mapBox = await page.locator("#event-map").boundingBox();
  assert.ok(mapBox && mapBox.width > 300 && mapBox.height > 200, `the map has room: ${JSON.stringify(mapBox)}`);
  await expectAccessible(page, "events on a phone, map open");

  // The stacked marker, reached with Tab and opened with Enter, lists both events.
  await hide.focus();
  const stacked = await tabToMarker(page, /^\d+ events near LS6: list them$/);
  assert.match(stacked, /events near LS6/);
  await page.keyboard.press("Enter");
  const popup = page.locator(".leaflet-popup-content");
  await expectText(popup, first);
  await expectText(popup, second);
  await page.keyboard.press("Escape");

  // A single marker is named by its event and opens with Space.
  await page.evaluate(([lat, lon]) => window.barnstormMap.map.setView([lat, lon], 15), [ls7.lat, ls7.lon]);
  const lone = page.getByRole("button", { name: new RegExp(`^${single}, `) });
  await lone.focus();
  await page.keyboard.press("Space");
  await expectText(popup, single);

  // A search by district measures from its centre: "about".
  await page.getByLabel("Postcode or town").fill("LS6");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await expectText(list.locator("li", { hasText: first }), "about 0.0 km");
  const distances = await list.locator(".event-distance").allInnerTexts();
  assert.ok(distances.length > 0 && distances.every((text) => text.startsWith("about ")), `district distances say about: ${distances}`);
  assert.equal(await page.getByText(/OpenStreetMap/).count(), 0, "still no tile attribution");
});

browserTest(app, "a cluster of events at one place opens as their list in one tap", async ({ newPage }) => {
  const suffix = uniqueSuffix();
  const token = (await app.api("POST", "/api/v1/tokens", { body: { email: ADMIN.email, password: ADMIN.password } })).json.token;
  const group = (await app.api("GET", "/api/v1/groups")).json.find((g) => g.slug === "leeds");
  // Shetland's ZE2 district, where the demo has no events: two events at its centre.
  const first = `Shetland stall A ${suffix}`;
  const second = `Shetland stall B ${suffix}`;
  await postEvent(token, group.id, first, "ZE2", 3);
  await postEvent(token, group.id, second, "ZE2", 4);
  const ze2 = (await fetch(app.url("/events/search.json?q=ZE2&radius_km=5")).then((r) => r.json())).place;

  const page = await newPage(PHONE);
  await page.goto(app.url(`/events?lat=${ze2.lat}&lon=${ze2.lon}&zoom=9`));
  await page.getByRole("button", { name: "Show map" }).click();
  const cluster = page.getByRole("button", { name: "2 events here. Zoom in" });
  await cluster.click();
  const popup = page.locator(".leaflet-popup-content");
  await expectText(popup, first);
  await expectText(popup, second);
  assert.equal(await page.evaluate(() => window.barnstormMap.map.getZoom()), 15, "straight to where they stand");
});
