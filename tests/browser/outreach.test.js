// Contacting people near an event: an organiser counts and sends a message about the demo
// meetup; it reaches the real SMTP server with one-click unsubscribe headers; a recipient
// follows the unsubscribe link, confirms, and the next count is one lower.

import assert from "node:assert/strict";

import { browserTest, expectText, uniqueSuffix, useBarnstorm } from "./harness.js";

// Read by `barnstorm serve` (the harness passes the environment on): no tile server.
process.env.BARNSTORM_TILE_URL = "";
// This test sends twice to the same people to follow an unsubscribe; without this, the
// second message would skip everyone the group wrote to in the last 7 days.
process.env.BARNSTORM_OUTREACH_RECIPIENT_DAYS = "0";

const app = useBarnstorm();

const ORGANISER = { email: "northwest@example.org", password: "barnstorm-demo" };

function demoMeetupId() {
  const printed = app.log.join("").match(/Campaign meetup ".*" \(event (\d+)\)/);
  assert.ok(printed, `\`barnstorm demo\` names its campaign meetup; it printed:\n${app.serverLog(2_000)}`);
  return Number(printed[1]);
}

async function signIn(page, { email, password }) {
  await page.goto(app.url("/login"));
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(app.url("/"));
}

/** Fills the message form and counts with htmx; returns the number of recipients. */
async function compose(page, subject) {
  await page.getByLabel("Subject", { exact: true }).fill(subject);
  await page.getByLabel("Message", { exact: true }).fill("We're calling voters across Manchester. Come and join us!");
  await page.getByLabel("Radius in km", { exact: true }).fill("5");
  // Wait for this count's answer, not a count already on the page.
  await Promise.all([
    page.waitForResponse((response) => new URL(response.url()).pathname.endsWith("/outreach/count")),
    page.getByRole("button", { name: "Count recipients" }).click(),
  ]);
  const text = await expectText(page.locator("#recipient-count"), "within 5 km");
  const count = text.match(/(\d+) supporters? within 5 km ha(?:ve|s) agreed to hear from North West by email/);
  assert.ok(count, `the count names the radius and the group: ${text}`);
  assert.ok(!/@/.test(text), "the count shows no addresses");
  return Number(count[1]);
}

browserTest(app, "an organiser writes to supporters nearby; the mail arrives and its unsubscribe link works", async ({ newPage }) => {
  const suffix = uniqueSuffix();
  const meetupId = demoMeetupId();
  const page = await newPage();
  await signIn(page, ORGANISER);
  await page.goto(app.url(`/events/${meetupId}/outreach`));
  await page.getByRole("heading", { level: 1, name: "Contact people near Barnstorm: North West phonebank kick-off" }).waitFor();

  const subject = `Phonebank kick-off ${suffix}`;
  const before = await compose(page, subject);
  assert.ok(before >= 2, `the demo has supporters near Manchester who agreed to email (${before})`);
  assert.equal(new URL(page.url()).pathname, `/events/${meetupId}/outreach`, "htmx counted in place");

  // The confirmation repeats the count, then the send goes through the outbox.
  await page.getByRole("button", { name: "Review and send" }).click();
  await page.getByRole("heading", { level: 1, name: `Send to ${before} supporters?` }).waitFor();
  await page.getByRole("button", { name: `Send to ${before} supporters` }).click();
  await expectText(page.getByRole("status"), `Sent to ${before} supporters`);
  await expectText(page.getByRole("table", { name: "Messages sent about this event" }), subject);

  const mail = await app.waitForMail((m) => m.subject === `North West: ${subject}`, 30_000);
  assert.ok(mail.text.includes("Barnstorm: North West phonebank kick-off"), "the mail is about the event");
  assert.ok(mail.text.includes(app.url(`/events/${meetupId}`)), "with a link to RSVP");
  // The demo's supporters came in a bulk import, and the mail says so.
  assert.ok(mail.text.includes("You get this because North West added your address in a bulk import"), mail.text);
  assert.ok(mail.text.includes("sent this message for North West"), `the mail names the sender: ${mail.text}`);
  assert.ok(/Hosted by .+ for North West/.test(mail.text), `the mail names the host: ${mail.text}`);
  const link = mail.text.match(/Unsubscribe: (\S+)/)?.[1];
  assert.ok(link && link.startsWith(app.url("/unsubscribe/")), `the mail has an unsubscribe link: ${mail.text}`);
  // mailparser folds the List-* headers into one "list" object.
  const list = JSON.stringify(mail.headers.get("list") ?? null);
  assert.ok(list.includes(new URL(link).pathname), `List-Unsubscribe names the same link: ${list}`);
  assert.ok(list.includes("One-Click"), `List-Unsubscribe-Post asks for one-click: ${list}`);

  // The recipient opens the link (signed out): nothing happens until they press the button.
  const reader = await newPage();
  await reader.goto(link);
  await reader.getByRole("heading", { level: 1, name: "Unsubscribe" }).waitFor();
  await page.goto(app.url(`/events/${meetupId}/outreach`));
  assert.equal(await compose(page, `${subject} again`), before, "opening the link changes nothing");
  await reader.getByRole("button", { name: "Unsubscribe from North West" }).click();
  await expectText(reader.getByRole("main"), "will get no more email from North West");

  // The next message reaches one person fewer, and not them.
  await page.goto(app.url(`/events/${meetupId}/outreach`));
  const after = await compose(page, `${subject} again`);
  assert.equal(after, before - 1, "the count drops by one");
  await page.getByRole("button", { name: "Review and send" }).click();
  await page.getByRole("button", { name: `Send to ${after} supporter${after === 1 ? "" : "s"}` }).click();
  await expectText(page.getByRole("status"), `Sent to ${after}`);
  const second = `North West: ${subject} again`;
  const deadline = Date.now() + 30_000;
  while (app.mails.filter((m) => m.subject === second).length < after && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const secondRound = app.mails.filter((m) => m.subject === second);
  assert.equal(secondRound.length, after, "every remaining supporter got the second message");
  assert.ok(!secondRound.some((m) => m.to.includes(mail.to[0])), `${mail.to[0]} unsubscribed and got nothing`);
});
