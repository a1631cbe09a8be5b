// The caller's page on a phone and on a desktop: the outcome buttons, grouped under
// "Reached", "Not reached" and "Opt-out", are on screen without scrolling next to a long
// script; "Do not call again" asks first (with the page script as a dialog, without it as
// a page of its own); "Edit my last call" changes what was saved for a minute; numbers
// read as people write them; keyboard hints stay off touch screens; a break takes the
// caller off the dashboard's "callers online"; and the join page says when calling opens
// outside calling hours. Numbers are Ofcom drama numbers that can never reach anyone.

import assert from "node:assert/strict";

import { ADMIN, browserTest, eventually, expectAccessible, expectText, signIn, uniqueSuffix, useBarnstorm } from "./harness.js";

const app = useBarnstorm();

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const DESKTOP = { viewport: { width: 1280, height: 800 } };
/** The demo's caller, a caller of the Manchester group. */
const CALLER = { email: "caller@example.org", password: "barnstorm-demo", name: "Cal Caller" };
const DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const ALL_WEEK = {
  time_zone: "Europe/London",
  days: Object.fromEntries(DAYS.map((day) => [day, { start: "00:00", end: "24:00" }])),
};
const SCRIPT = [
  "Hello {first_name|there}, I'm calling from the Manchester branch about the council elections.",
  "We are asking everyone in the ward what matters most to them this year: housing, buses, the",
  "high street or something else entirely. It only takes a minute, and every answer is read by",
  "the people planning the campaign. Could I ask you a couple of quick questions?",
  "If they say yes: thank them, ask the questions below and note anything else they mention.",
  "If they are busy: ask when would be a better time and choose Call back later.",
].join("\n");

async function adminToken() {
  const token = await app.api("POST", "/api/v1/tokens", { body: { email: ADMIN.email, password: ADMIN.password } });
  assert.equal(token.status, 201, JSON.stringify(token.json));
  return token.json.token;
}

/** A Manchester campaign of ten contacts ("Shown<n> Hidden<n>"), made through the API. */
async function campaign(name, { hours = ALL_WEEK, live = true } = {}) {
  const token = await adminToken();
  const groups = await app.api("GET", "/api/v1/groups");
  const manchester = groups.json.find((group) => group.slug === "manchester");
  const created = await app.api("POST", "/api/v1/campaigns", {
    token,
    body: { group_id: manchester.id, name, calling_hours: hours, script: SCRIPT },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const id = created.json.id;
  const rows = ["First name,Last name,Phone"];
  for (let i = 1; i <= 10; i += 1) rows.push(`Shown${i},Hidden${i},0161 496 0${String(i).padStart(3, "0")}`);
  const imported = await app.api("POST", `/api/v1/campaigns/${id}/contacts`, { token, body: `${rows.join("\n")}\n`, contentType: "text/csv" });
  assert.equal(imported.status, 200, JSON.stringify(imported.json));
  if (live) {
    const status = await app.api("PATCH", `/api/v1/campaigns/${id}`, { token, body: { status: "live" } });
    assert.equal(status.status, 200, JSON.stringify(status.json));
  }
  return { id, token };
}

/** The outcomes counted so far, by key. */
async function outcomes(id, token) {
  const stats = await app.api("GET", `/api/v1/campaigns/${id}/stats`, { token });
  assert.equal(stats.status, 200, JSON.stringify(stats.json));
  return stats.json.outcomes;
}

/** Every outcome button is inside the first screen, with the page not scrolled. */
async function assertOutcomesOnFirstScreen(page, label) {
  const { scrollY, height } = await page.evaluate(() => ({ scrollY: window.scrollY, height: window.innerHeight }));
  assert.equal(scrollY, 0, `${label}: the page is not scrolled`);
  const buttons = page.locator("[data-outcome-bar] button");
  assert.equal(await buttons.count(), 8, `${label}: eight outcome buttons`);
  for (const button of await buttons.all()) {
    const box = await button.boundingBox();
    const name = await button.innerText();
    assert.ok(box && box.y >= 0 && box.y + box.height <= height, `${label}: "${name}" is within the first ${height}px (at ${box?.y}–${box && box.y + box.height})`);
  }
  const script = await page.locator("[data-script]").boundingBox();
  assert.ok(script && script.y < height, `${label}: the script starts on the first screen too`);
}

async function assertGrouped(page) {
  const groups = { Reached: ["Spoke to them", "Call back later", "Refused to talk"], "Not reached": ["No answer", "Busy / engaged", "Voicemail", "Wrong number"], "Opt-out": ["Do not call again"] };
  for (const [heading, labels] of Object.entries(groups)) {
    const group = page.getByRole("group", { name: heading, exact: true });
    const names = (await group.getByRole("button").allInnerTexts()).map((text) => text.replace(/^\d\s*/, "").trim());
    assert.deepEqual(names, labels, `the "${heading}" group`);
  }
}

browserTest(app, "on a phone the outcomes are grouped and on screen, numbers read nationally, no keyboard hints, and a do-not-call asks first", async ({ newPage }) => {
  const { id, token } = await campaign(`Phone calls ${uniqueSuffix()}`);
  const phone = await newPage(PHONE);
  await signIn(app, phone, CALLER);
  await phone.goto(app.url(`/call/${id}`));
  const callLink = phone.getByRole("link", { name: /^Call / });
  await callLink.waitFor();

  assert.match(await callLink.getAttribute("href"), /^tel:\+441614960\d{3}$/, "the call link keeps E.164");
  assert.match(await phone.locator("[data-phone-number]").innerText(), /^0161 496 0\d{3}$/, "the number reads as people write it");
  await assertOutcomesOnFirstScreen(phone, "phone");
  await assertGrouped(phone);
  assert.equal(await phone.locator(".shortcut-help").isVisible(), false, "no keyboard help on a touch screen");
  assert.equal(await phone.locator("[data-outcome-bar] kbd").first().isVisible(), false, "no digit hints on the buttons");
  await expectAccessible(phone, "caller page on a phone");

  // "Do not call again": cancelling keeps the contact, confirming records it.
  const name = await phone.locator("#contact-name").innerText();
  await phone.getByRole("button", { name: "Do not call again", exact: true }).click();
  const dialog = phone.getByRole("dialog", { name: /^Never call Shown\d+ again\?$/ });
  await dialog.waitFor();
  await expectText(dialog, "goes on the do-not-call list");
  await expectAccessible(phone, "do-not-call confirmation");
  await dialog.getByRole("link", { name: "No, go back" }).click();
  await eventually(async () => assert.equal(await dialog.isVisible(), false, "the dialog closes"));
  assert.equal(await phone.locator("#contact-name").innerText(), name, "cancelling keeps the same contact");
  assert.equal((await outcomes(id, token)).do_not_call ?? 0, 0, "nothing recorded on cancel");

  await phone.getByRole("button", { name: "Do not call again", exact: true }).click();
  await dialog.getByRole("button", { name: "Yes, do not call again" }).click();
  await expectText(phone.getByRole("status"), "Saved: Do not call again.");
  assert.notEqual(await phone.locator("#contact-name").innerText(), name, "the next contact is shown");
  assert.equal((await outcomes(id, token)).do_not_call, 1, "the do-not-call is recorded");

  // A break takes the caller off "callers online"; resuming brings them back.
  const organiser = await newPage(DESKTOP);
  await signIn(app, organiser, ADMIN);
  await organiser.goto(app.url(`/campaigns/${id}/dashboard`));
  const online = organiser.locator('[data-stat="online"]');
  await expectText(online, "1");
  await phone.getByRole("button", { name: "Take a break" }).click();
  await expectText(phone.getByRole("heading", { level: 1 }), "You are on a break");
  await expectAccessible(phone, "break page");
  await eventually(async () => assert.equal(await online.innerText(), "0", "a caller on a break is not online"), { timeoutMs: 15_000 });
  await phone.getByRole("button", { name: "Resume calling" }).click();
  await callLink.waitFor();
  await eventually(async () => assert.equal(await online.innerText(), "1", "back from the break, online again"), { timeoutMs: 15_000 });
});

browserTest(app, "on a desktop the outcomes are on screen too, and the last call can be changed for a minute", async ({ newPage }) => {
  const { id, token } = await campaign(`Desktop calls ${uniqueSuffix()}`);
  const page = await newPage(DESKTOP);
  await page.clock.install();
  await signIn(app, page, CALLER);
  await page.goto(app.url(`/call/${id}`));
  await page.getByRole("link", { name: /^Call / }).waitFor();
  await assertOutcomesOnFirstScreen(page, "desktop");
  assert.equal(await page.locator(".shortcut-help").isVisible(), true, "keyboard help with a mouse and keyboard");

  const called = await page.locator("#contact-name").innerText();
  await page.getByRole("button", { name: "No answer", exact: true }).click();
  await expectText(page.getByRole("status"), "Saved: No answer.");
  const offer = page.locator("[data-last-call]");
  await expectText(offer, `Last call: ${called}, No answer.`);
  await expectAccessible(page, "caller page with the last call offer");

  await offer.getByRole("link", { name: "Edit my last call" }).click();
  await expectText(page.locator("#contact-name"), called);
  await expectText(page.locator("main"), "You saved “No answer”.");
  await expectAccessible(page, "changing the last call");
  await page.getByRole("button", { name: "Spoke to them", exact: true }).click();
  await expectText(page.getByRole("status"), "Changed your last call to: Spoke to them.");
  const counted = await outcomes(id, token);
  assert.equal(counted.spoke, 1, "the dashboard counts the changed outcome");
  assert.equal(counted.no_answer ?? 0, 0, "and not the one it replaced");

  // The offer goes when the minute is up.
  await expectText(page.locator("[data-last-call]"), `Last call: ${called}, Spoke to them.`);
  await page.clock.fastForward(61_000);
  await eventually(async () => assert.equal(await page.locator("[data-last-call]").count(), 0, "no offer after a minute"));
});

browserTest(app, "without the page script, a do-not-call asks on a page of its own", async ({ newPage }) => {
  const { id, token } = await campaign(`Plain calls ${uniqueSuffix()}`);
  const page = await newPage({ ...PHONE, javaScriptEnabled: false });
  await signIn(app, page, CALLER);
  await page.goto(app.url(`/call/${id}`));
  const name = await page.locator("#contact-name").innerText();
  await page.getByRole("button", { name: "Do not call again", exact: true }).click();
  await expectText(page.locator("[data-confirm-dialog]"), "goes on the do-not-call list");
  assert.equal(await page.locator("#contact-name").innerText(), name, "the same contact, nothing saved yet");
  assert.equal((await outcomes(id, token)).do_not_call ?? 0, 0);
  await page.getByRole("button", { name: "Yes, do not call again" }).click();
  await expectText(page.getByRole("status"), "Saved: Do not call again.");
  assert.equal((await outcomes(id, token)).do_not_call, 1);
});

browserTest(app, "outside calling hours the join page says when calling opens", async ({ newPage }) => {
  // Open only tomorrow (London's tomorrow), 09:00 to 10:00.
  const tomorrow = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/London", weekday: "long" })
    .format(new Date(Date.now() + 24 * 3600 * 1000))
    .toLowerCase();
  const hours = { time_zone: "Europe/London", days: { [tomorrow]: { start: "09:00", end: "10:00" } } };
  const { id, token } = await campaign(`Closed calls ${uniqueSuffix()}`, { hours });
  const invite = await app.api("POST", `/api/v1/campaigns/${id}/invites`, { token, body: {} });
  assert.equal(invite.status, 201, JSON.stringify(invite.json));
  const page = await newPage(PHONE);
  await page.goto(invite.json.url);
  await expectText(page.locator("[data-calling-opens]"), "Calling is closed now. It opens at 09:00 tomorrow.");
  await expectAccessible(page, "join page outside calling hours");
});
