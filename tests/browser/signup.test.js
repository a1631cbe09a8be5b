// A newcomer's first steps, in Chromium: signing up on the way to hosting an event (on a
// phone), confirming the address from the mail and proposing the event, which waits for the
// group's organisers; and an attendee who cancels their place, which asks first and is
// confirmed by mail, with the calendar entries the mails carry. axe checks every page.

import assert from "node:assert/strict";

import { browserTest, expectAccessible, expectText, uniqueSuffix, useBarnstorm } from "./harness.js";

process.env.BARNSTORM_TILE_URL = "";

const app = useBarnstorm();

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

/** `YYYY-MM-DD` in London, `days` from today. */
function londonDate(days) {
  const when = new Date(Date.now() + days * 24 * 3600 * 1000);
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/London", year: "numeric", month: "2-digit", day: "2-digit" }).format(when);
}

/** The first link in `text` to this server under `path`. */
function linkIn(text, path) {
  const base = app.baseUrl.replace(/\/$/, "").replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const found = text.match(new RegExp(`${base}${path}[A-Za-z0-9_%?=&/-]+`));
  assert.ok(found, `a ${path} link in:\n${text}`);
  return found[0];
}

browserTest(app, "a newcomer signs up on the way to hosting, confirms by mail and proposes an event", async ({ newPage }) => {
  const suffix = uniqueSuffix();
  const email = `nadia+${suffix}@example.org`;
  const title = `Chapeltown street stall ${suffix}`;
  const page = await newPage(PHONE);

  await page.goto(app.url("/events"));
  await page.getByRole("link", { name: "Host an event" }).first().click();
  await page.getByRole("heading", { level: 1, name: "Make an account" }).waitFor();
  await expectText(page.getByRole("main"), "To host an event, make an account first");
  await expectAccessible(page, "the sign-up form");

  // A mistake is named against its field and nothing is made.
  await page.getByLabel("Your name").fill("Nadia Newcomer");
  await page.getByLabel("Email address").fill("not an address");
  await page.getByRole("button", { name: "Make my account" }).click();
  await expectText(page.locator("#email-error"), "address");
  assert.equal(await page.getByLabel("Email address").getAttribute("aria-invalid"), "true");
  assert.equal(await page.getByLabel("Your name").inputValue(), "Nadia Newcomer", "what was typed is kept");

  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Make my account" }).click();
  await page.getByRole("heading", { level: 1, name: "Check your email" }).waitFor();
  await expectAccessible(page, "the check-your-email page");

  // The confirmation mail's link confirms the address, signs in and returns to the form.
  const mail = await app.waitForMail((m) => m.to.includes(email), 20_000);
  assert.equal(mail.subject, "Confirm your Barnstorm address");
  await page.goto(linkIn(mail.text, "/login/link/"));
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname === "/events/new");
  await expectAccessible(page, "the event form");

  await page.getByLabel("Group").selectOption("leeds");
  await page.getByLabel("Type of event").selectOption({ label: "Street stall" });
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Description").fill("Leaflets and a table outside the community centre.");
  await page.getByLabel("Date").fill(londonDate(5));
  await page.getByLabel("Starts at").fill("11:00");
  await page.getByLabel("Ends at").fill("13:00");
  await page.getByLabel("Postcode").fill("LS7 3EX");
  await page.getByLabel("Address", { exact: true }).fill("Chapeltown Road");
  await page.getByRole("button", { name: "Create event" }).click();
  await page.getByRole("heading", { level: 1, name: title }).waitFor();
  // A newcomer is not a trusted host: the event waits for Leeds' organisers.
  await expectText(page.getByRole("main"), "approv");
  await expectAccessible(page, "the new event's page");

  const pending = await fetch(app.url("/events/near?q=LS7&radius_km=5")).then((r) => r.text());
  assert.ok(!pending.includes(title), "an event awaiting approval is not on the map");
});

browserTest(app, "an attendee's mails come from the group with a calendar entry, and cancelling asks first", async ({ newPage }) => {
  const suffix = uniqueSuffix();
  const email = `omar+${suffix}@example.org`;
  const title = `Roundhay phonebank ${suffix}`;
  const token = await app.api("POST", "/api/v1/tokens", { body: { email: "organiser@example.org", password: "barnstorm-demo" } });
  assert.equal(token.status, 201, JSON.stringify(token.json));
  const groups = await app.api("GET", "/api/v1/groups");
  const leeds = groups.json.find((group) => group.slug === "leeds");
  const created = await app.api("POST", "/api/v1/events", {
    token: token.json.token,
    body: {
      group_id: leeds.id,
      kind: "phonebank",
      title,
      description: "Bring a charged phone.",
      date: londonDate(3),
      start_time: "18:30",
      end_time: "20:30",
      postcode: "LS8 2JU",
      address: "Roundhay Park Lodge",
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));

  const page = await newPage();
  await page.goto(app.url(`/events/${created.json.id}`));
  await page.getByLabel("Your name").fill("Omar Attendee");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Postcode").fill("LS8 1AA");
  await page.getByRole("button", { name: "RSVP" }).click();
  await expectText(page.getByRole("main"), "You're going");

  const confirmation = await app.waitForMail((m) => m.to.includes(email) && m.subject.startsWith("You're going"), 20_000);
  assert.equal(confirmation.fromName, leeds.name, "the mail comes in the group's name");
  const calendar = confirmation.attachments.find((file) => file.filename === `event-${created.json.id}.ics`);
  assert.ok(calendar, `a calendar entry is attached: ${JSON.stringify(confirmation.attachments.map((f) => f.filename))}`);
  assert.match(calendar.contentType, /^text\/calendar/);
  assert.ok(calendar.content.includes(`SUMMARY:${title}`) && calendar.content.includes("Roundhay Park Lodge"), calendar.content);

  // The manage page's cancel button asks first; "keep my place" keeps it.
  await page.goto(linkIn(confirmation.text, "/rsvp/"));
  await page.getByRole("link", { name: "I can't come: cancel my place" }).click();
  await page.getByRole("heading", { level: 1, name: "Cancel your place?" }).waitFor();
  await expectAccessible(page, "the cancel question");
  await page.getByRole("link", { name: "No, keep my place" }).click();
  await expectText(page.getByRole("main"), "You're going.");
  await page.getByRole("link", { name: "I can't come: cancel my place" }).click();
  await page.getByRole("button", { name: "Yes, cancel my place" }).click();
  await expectText(page.getByRole("main"), "You cancelled.");

  const cancelled = await app.waitForMail((m) => m.to.includes(email) && m.subject.startsWith("You cancelled your place"), 20_000);
  assert.equal(cancelled.fromName, leeds.name);
  assert.ok(cancelled.text.includes(`/events/${created.json.id}`), cancelled.text);
});
