// Finding an event and signing up: an event is posted through the API, a supporter finds
// it on the events map by postcode, opens it and RSVPs without an account, and the
// confirmation mail arrives at the test SMTP server. Map tiles are switched off
// (BARNSTORM_TILE_URL=""), and every request that would leave the machine is refused and
// reported, so the test also proves the map works with no tiles.

import assert from "node:assert/strict";

import { ADMIN, browserTest, expectText, uniqueSuffix, useBarnstorm } from "./harness.js";

// Read by `barnstorm serve` (the harness passes the environment on): no tile server.
process.env.BARNSTORM_TILE_URL = "";

const app = useBarnstorm();

/** `YYYY-MM-DD` in London, `days` from today. */
function londonDate(days) {
  const when = new Date(Date.now() + days * 24 * 3600 * 1000);
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/London", year: "numeric", month: "2-digit", day: "2-digit" }).format(when);
}

const api = (method, path, options) => app.api(method, path, options);

/** Refuses (and remembers) every request to anywhere but the test server. */
async function keepLocal(page) {
  const escaped = [];
  await page.context().route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1" || url.protocol === "data:" || url.protocol === "blob:") return route.continue();
    escaped.push(url.href);
    return route.abort();
  });
  return escaped;
}

browserTest(app, "a supporter finds an event by postcode on the map and RSVPs; the confirmation mail arrives", async ({ newPage }) => {
  const suffix = uniqueSuffix();
  const title = `Headingley doorstep canvass ${suffix}`;
  const email = `rosa+${suffix}@example.org`;

  // An organiser posts the event through the API.
  const token = await api("POST", "/api/v1/tokens", { body: { email: ADMIN.email, password: ADMIN.password } });
  assert.equal(token.status, 201, JSON.stringify(token.json));
  const groups = await api("GET", "/api/v1/groups");
  const leeds = groups.json.find((group) => group.slug === "leeds");
  assert.ok(leeds, `the demo has a Leeds group; groups were ${groups.json.map((g) => g.slug).join(", ")}`);
  const created = await api("POST", "/api/v1/events", {
    token: token.json.token,
    body: {
      group_id: leeds.id,
      kind: "canvass",
      title,
      description: "Meet outside the library. Bring comfy shoes.",
      date: londonDate(2),
      start_time: "10:00",
      end_time: "12:00",
      postcode: "LS6",
      address: "Headingley Library, North Lane",
      address_after_rsvp: true,
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  assert.equal(created.json.status, "live");

  // A supporter, signed out, opens the events map and searches by postcode.
  const page = await newPage();
  const escaped = await keepLocal(page);
  await page.goto(app.url("/events"));
  await page.getByRole("heading", { level: 1, name: "Events" }).waitFor();
  await page.getByRole("link", { name: "Host an event" }).waitFor();
  await expectText(page.getByRole("main"), "Contains OS data");
  await page.locator("#event-map.leaflet-container").waitFor();
  await page.getByLabel("Postcode or town").fill("LS6 3HN");
  await page.getByLabel("Within").selectOption("5");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  const result = page.locator("#event-list").getByRole("link", { name: title });
  await result.waitFor();
  await expectText(page.locator("#event-list"), "km");
  assert.equal(await page.locator(".leaflet-tile").count(), 0, "no map tiles are requested");

  // The list's link opens the event page; the hidden address is not shown yet.
  await result.click();
  await page.waitForURL(app.url(`/events/${created.json.id}`));
  await page.getByRole("heading", { level: 1, name: title }).waitFor();
  assert.ok(!(await page.getByRole("main").innerText()).includes("North Lane"), "the address waits for the RSVP");

  // RSVP without an account.
  await page.getByLabel("Your name").fill("Rosa Reader");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Postcode").fill("LS6 1AB");
  await page.getByLabel(/Email me about other events/).check();
  await page.getByRole("button", { name: "RSVP" }).click();
  // The form redirects after the POST; the event page says so but keeps the address hidden:
  // typing an address into the form proves nothing, so the address is shown only through
  // the manage link mailed to it.
  await expectText(page.getByRole("main"), "You're going");
  assert.ok(!(await page.getByRole("main").innerText()).includes("North Lane"), "the address waits for the mailed link");

  // The confirmation arrives by email with the manage link, which shows the address.
  const mail = await app.waitForMail((m) => m.to.includes(email), 20_000);
  assert.ok(mail.subject.includes(title), `the confirmation names the event; it was ${JSON.stringify(mail.subject)}`);
  const manage = mail.text.match(new RegExp(`${app.baseUrl.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/rsvp/[A-Za-z0-9_-]+`));
  assert.ok(manage, `the confirmation links to its manage page; it was:\n${mail.text}`);
  await page.goto(manage[0]);
  await expectText(page.getByRole("main"), "North Lane");

  // No-JavaScript search finds it too, and the calendar feed hides the address.
  const near = await fetch(app.url("/events/near?q=LS6&radius_km=5")).then((r) => r.text());
  assert.ok(near.includes(title), "the server-rendered search lists the event");
  const ics = await fetch(app.url(`/events/${created.json.id}/calendar.ics`));
  assert.equal(ics.headers.get("content-type"), "text/calendar; charset=utf-8");
  const icsText = await ics.text();
  assert.ok(icsText.includes("LOCATION:Near LS6") && !icsText.includes("North Lane"), icsText);

  assert.deepEqual(escaped, [], "no request left the machine");
});

browserTest(app, "the embeddable events widget shows its map and list under the Content-Security-Policy", async ({ newPage }) => {
  const page = await newPage();
  await page.goto(app.url("/embed/groups/leeds"));
  await expectText(page.locator("h1"), "Events of Leeds");
  // map.js ran under `script-src 'self'`: Leaflet took over the map container.
  await page.locator("#event-map.leaflet-container").waitFor();
});
