// Campaign meetups: an organiser opens the demo's North West meetup, adds a breakout
// group and plans three phonebank sessions from it in a few clicks; the meetup page then
// counts them. Locators go by role and label, so the page's accessibility is checked too.

import assert from "node:assert/strict";

import { browserTest, expectText, signIn as signInWith, uniqueSuffix, useBarnstorm } from "./harness.js";

// Read by `barnstorm serve` (the harness passes the environment on): no tile server.
process.env.BARNSTORM_TILE_URL = "";

const app = useBarnstorm();

/** The demo organiser of the North West, who hosts the demo meetup. */
const ORGANISER = { email: "northwest@example.org", password: "barnstorm-demo" };

/** The id of the demo's campaign meetup, from what `barnstorm demo` printed. */
function demoMeetupId(barnstorm) {
  const printed = barnstorm.log.join("").match(/Campaign meetup ".*" \(event (\d+)\)/);
  assert.ok(printed, `\`barnstorm demo\` names its campaign meetup; it printed:\n${barnstorm.serverLog(2_000)}`);
  return Number(printed[1]);
}

/** `YYYY-MM-DD` in London, `days` from today. */
function londonDate(days) {
  const when = new Date(Date.now() + days * 24 * 3600 * 1000);
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/London", year: "numeric", month: "2-digit", day: "2-digit" }).format(when);
}

const signIn = (page, account) => signInWith(app, page, account);

browserTest(app, "an organiser adds a breakout group to a meetup and plans three phonebank sessions from it", async ({ newPage }) => {
  const suffix = uniqueSuffix();
  const breakoutName = `Bolton callers ${suffix}`;
  const meetupId = demoMeetupId(app);

  const page = await newPage();
  await signIn(page, ORGANISER);
  await page.goto(app.url(`/events/${meetupId}/meetup`));
  await page.getByRole("heading", { level: 1, name: "Plan from Barnstorm: North West phonebank kick-off" }).waitFor();
  // The demo meetup already has breakout groups with sessions planned.
  await expectText(page.locator("#plan-summary"), "phonebanking sessions");
  await page.getByRole("region", { name: "Manchester callers", exact: true }).waitFor();

  await page.getByLabel("Breakout group name", { exact: true }).fill(breakoutName);
  await page.getByLabel("Facilitator", { exact: true }).fill("Bea Bolton");
  await page.getByRole("button", { name: "Add breakout group" }).click();
  await expectText(page.getByRole("status"), `Breakout group added: ${breakoutName}`);
  const breakout = page.getByRole("region", { name: breakoutName, exact: true });
  await expectText(breakout, "Facilitator: Bea Bolton");
  await expectText(breakout, "Nothing planned yet");

  // Three phonebanks: the template's next Tuesday, then two chosen days.
  for (const date of ["", londonDate(15), londonDate(22)]) {
    const section = page.getByRole("region", { name: breakoutName, exact: true });
    assert.equal(await section.getByLabel("Template").inputValue(), "phonebank", "phonebank is the first template");
    const campaign = section.getByLabel("Phone bank to call with");
    assert.match(await campaign.locator("option:checked").innerText(), /Get out the vote/, "the group's live phone bank is chosen");
    if (date) await section.getByLabel("Date").fill(date);
    await section.getByRole("button", { name: "Plan session" }).click();
    await expectText(page.getByRole("status"), "Phonebank planned");
  }

  const planned = page.getByRole("region", { name: breakoutName, exact: true });
  await expectText(planned, "3 phonebanking sessions planned");
  const rows = planned.getByRole("table", { name: `Sessions planned by ${breakoutName}` }).locator("tbody tr");
  assert.equal(await rows.count(), 3, "the breakout lists its three sessions");
  const whens = await rows.locator("td:first-child").allInnerTexts();
  assert.ok(whens.every((when) => /18:30–20:30/.test(when)), `each session runs 18:30–20:30: ${whens.join(" | ")}`);

  // A session opens as an ordinary event page, linked to the phone bank.
  await rows.first().getByRole("link").first().click();
  await page.getByRole("heading", { level: 1, name: `Phonebank: ${breakoutName}` }).waitFor();
});
