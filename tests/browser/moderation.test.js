// A supporter hosts an event in a group whose organisers approve events first: it is not
// on the map until an organiser approves it, then people searching nearby find it.

import assert from "node:assert/strict";

import { ADMIN, browserTest, expectText, uniqueSuffix, useBarnstorm } from "./harness.js";

process.env.BARNSTORM_TILE_URL = "";

const app = useBarnstorm();

async function signIn(page, email, password) {
  await page.goto(app.url("/login"));
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(app.url("/"));
}

/** Titles of the events the map's place search finds within 5 km of `q`. */
async function foundNear(q) {
  const response = await fetch(app.url(`/events/search.json?q=${encodeURIComponent(q)}&radius_km=5`));
  assert.equal(response.status, 200);
  return (await response.json()).results.map((event) => event.title);
}

browserTest(app, "a supporter's event waits for approval and then appears on the map", async ({ newPage }) => {
  const title = `City centre street stall ${uniqueSuffix()}`;
  const date = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/London" }).format(new Date(Date.now() + 3 * 86_400_000));

  // An organiser makes the Leeds group approve supporters' events first.
  const organiser = await newPage();
  await signIn(organiser, ADMIN.email, ADMIN.password);
  await organiser.goto(app.url("/groups/leeds"));
  const approval = organiser.getByLabel("When a supporter who is not a host here creates an event");
  await approval.selectOption("approval");
  await organiser.locator("form", { has: approval }).getByRole("button", { name: "Save" }).click();
  await expectText(organiser.getByRole("main"), "Leeds");

  // A supporter who is not a host in Leeds creates an event there.
  const supporter = await newPage();
  await signIn(supporter, "caller@example.org", "barnstorm-demo");
  await supporter.goto(app.url("/events/new?group=leeds"));
  await supporter.getByLabel("Type of event").selectOption("street_stall");
  await supporter.getByLabel("Title", { exact: true }).fill(title);
  await supporter.getByLabel("Date", { exact: true }).fill(date);
  await supporter.getByLabel("Starts at").fill("11:00");
  await supporter.getByLabel("Ends at").fill("13:00");
  await supporter.getByLabel("Postcode", { exact: true }).fill("LS1 4AP");
  await supporter.getByLabel("Address", { exact: true }).fill("Briggate, by the Victoria Quarter");
  await supporter.getByRole("button", { name: "Create event" }).click();
  await expectText(supporter.getByRole("main"), "for approval");
  assert.ok(!(await foundNear("LS1 4AP")).includes(title), "a pending event is not on the map");

  // The organiser approves it from the group's queue.
  await organiser.goto(app.url("/groups/leeds/events/pending"));
  const card = organiser.locator("section.card", { has: organiser.getByRole("heading", { name: title }) });
  await card.getByRole("button", { name: "Approve", exact: true }).click();
  await organiser.waitForLoadState("load");

  // Anyone searching the map near it now finds it.
  const visitor = await newPage();
  await visitor.goto(app.url("/events"));
  await visitor.locator("#event-map.leaflet-container").waitFor();
  await visitor.getByLabel("Postcode or town").fill("LS1 4AP");
  await visitor.getByLabel("Within").selectOption("5");
  await visitor.getByRole("button", { name: "Search", exact: true }).click();
  await visitor.locator("#event-list").getByRole("link", { name: title }).waitFor();
  assert.ok((await foundNear("LS1 4AP")).includes(title));
});
