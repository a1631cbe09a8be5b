// Tools where people look for them, on a desktop and on a phone: the Leeds host finds their
// event from "My events" and, on its page, the attendees, "Message supporters nearby",
// Edit and Duplicate; they message supporters who agreed to hear from Barnstorm UK and its
// local groups, and the mail reaches the test SMTP server saying so. An organiser links a
// phonebank event to the demo phone bank from the event page and finds "New phone bank";
// the home page's postcode box finds events. Every page these change is checked with axe.

import assert from "node:assert/strict";

import { browserTest, expectAccessible, expectText, signIn, uniqueSuffix, useBarnstorm } from "./harness.js";

process.env.BARNSTORM_TILE_URL = "";
// The desktop and phone runs write to the same supporters; without this the second would
// skip everyone Leeds wrote to in the last 7 days.
process.env.BARNSTORM_OUTREACH_RECIPIENT_DAYS = "0";

const app = useBarnstorm();

const HOST = { email: "leeds.host@example.org", password: "barnstorm-demo" };
const ORGANISER = { email: "northwest@example.org", password: "barnstorm-demo" };
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const DESKTOP = { viewport: { width: 1280, height: 800 } };

/** `YYYY-MM-DD` in London, `days` from today. */
function londonDate(days) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/London" }).format(new Date(Date.now() + days * 86_400_000));
}

/** Creates an event through the API as `who`; returns its id. */
async function createEvent(who, body) {
  const token = await app.api("POST", "/api/v1/tokens", { body: { email: who.email, password: who.password } });
  assert.equal(token.status, 201, JSON.stringify(token.json));
  const groups = await app.api("GET", "/api/v1/groups");
  const group = groups.json.find((g) => g.slug === body.group);
  assert.ok(group, `the demo has the group ${body.group}`);
  const created = await app.api("POST", "/api/v1/events", {
    token: token.json.token,
    body: { ...body, group: undefined, group_id: group.id, date: londonDate(3) },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  assert.equal(created.json.status, "live", "the demo's hosts and organisers publish at once");
  return created.json.id;
}

for (const [device, options] of [["a desktop", DESKTOP], ["a phone", PHONE]]) {
  browserTest(app, `on ${device}, a Leeds host finds their tools and reaches supporters of Barnstorm UK`, async ({ newPage }) => {
    const suffix = uniqueSuffix();
    const title = `Briggate street stall ${suffix}`;
    const id = await createEvent(HOST, {
      group: "leeds",
      kind: "street_stall",
      title,
      start_time: "11:00",
      end_time: "13:00",
      postcode: "LS1",
      address: "Briggate, by the Victoria Quarter",
    });
    const page = await newPage(options);

    // The home page leads with the postcode box, which finds the event.
    await page.goto(app.url("/"));
    await page.getByRole("heading", { level: 1, name: "Find events near you" }).waitFor();
    await expectAccessible(page, "the home page");
    await page.getByLabel("Your postcode or town").fill("LS1");
    await page.getByRole("button", { name: "Find events" }).click();
    await page.waitForURL((url) => url.pathname === "/events/near" && url.searchParams.get("q") === "LS1");
    await expectText(page.getByRole("main"), title);

    // "My events" in the header leads to the host's event, whose page is their dashboard.
    await signIn(app, page, HOST);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "My events" }).click();
    await page.getByRole("heading", { level: 1, name: "My events" }).waitFor();
    await expectAccessible(page, "My events");
    await page.getByRole("link", { name: title }).first().click();
    await page.waitForURL(app.url(`/events/${id}`));
    const panel = page.getByRole("region", { name: "Your event" });
    await expectText(panel, "Attendees: 0 going");
    for (const tool of ["Message supporters nearby", "Edit", "Duplicate"]) {
      assert.ok(await panel.getByRole("link", { name: tool, exact: true }).isVisible(), `the host panel offers ${tool}`);
    }
    await expectAccessible(page, "the event page for its host");

    // Duplicate opens the form filled in from this event, with the date to choose.
    await panel.getByRole("link", { name: "Duplicate", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Duplicate an event: choose its date" }).waitFor();
    assert.equal(await page.getByLabel("Title", { exact: true }).inputValue(), title);
    assert.equal(await page.getByLabel("Date", { exact: true }).inputValue(), "", "a new date to choose");
    await expectAccessible(page, "the duplicate form");

    // Supporters nearby agreed to hear from Barnstorm UK and its local groups: they count.
    await page.goto(app.url(`/events/${id}`));
    await panel.getByRole("link", { name: "Message supporters nearby" }).click();
    const subject = `Stall on Saturday ${suffix}`;
    await page.getByLabel("Subject", { exact: true }).fill(subject);
    await page.getByLabel("Message", { exact: true }).fill("Come and help on the stall in Briggate.");
    await page.getByLabel("Radius in km", { exact: true }).fill("5");
    await Promise.all([
      page.waitForResponse((response) => new URL(response.url()).pathname.endsWith("/outreach/count")),
      page.getByRole("button", { name: "Count recipients" }).click(),
    ]);
    const text = await expectText(page.locator("#recipient-count"), "within 5 km");
    const count = Number(text.match(/(\d+) supporters? within 5 km ha(?:ve|s) agreed to hear from Leeds by email/)?.[1] ?? 0);
    assert.ok(count > 0, `supporters who agreed to hear from Barnstorm UK count for Leeds: ${text}`);
    await expectAccessible(page, "the outreach page");
    await page.getByRole("button", { name: "Review and send" }).click();
    await page.getByRole("button", { name: `Send to ${count} supporter` }).click();
    await expectText(page.getByRole("status"), `Sent to ${count} supporter`);
    const mail = await app.waitForMail((m) => m.subject === `Leeds: ${subject}`, 30_000);
    assert.ok(mail.text.includes("Barnstorm UK added your address in a bulk import"), mail.text);
    assert.ok(mail.text.includes("Leeds is one of the local groups of Barnstorm UK"), mail.text);
  });
}

browserTest(app, "an organiser links a phonebank event to a phone bank and finds New phone bank", async ({ newPage }) => {
  const title = `Manchester phonebank ${uniqueSuffix()}`;
  const id = await createEvent(ORGANISER, {
    group: "manchester",
    kind: "phonebank",
    title,
    start_time: "18:30",
    end_time: "20:30",
    postcode: "M1",
    address: "Friends Meeting House",
  });
  const page = await newPage(PHONE);
  await signIn(app, page, ORGANISER);
  await page.goto(app.url(`/events/${id}`));
  const panel = page.getByRole("region", { name: "Your event" });
  await expectText(panel, "Not linked to a phone bank");
  const choice = panel.getByLabel("Phone bank to call");
  const campaign = await choice.locator("option").nth(1).textContent();
  await choice.selectOption({ index: 1 });
  await panel.getByRole("button", { name: "Save" }).click();
  await expectText(page.getByRole("status").first(), "Linked.");
  await expectText(page.getByRole("region", { name: "Your event" }), `Linked to ${campaign.replace(/ \(.*\)$/, "")}`);
  await expectAccessible(page, "a linked phonebank event");

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Phonebank" }).click();
  await page.getByText("New phone bank", { exact: true }).first().click();
  await page.locator("details.new-phone-bank").getByRole("link", { name: "North West", exact: true }).click();
  await page.waitForURL((url) => url.pathname === "/groups/north-west/campaigns/new");
});
