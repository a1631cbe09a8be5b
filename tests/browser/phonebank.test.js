// The phonebank end to end: an organiser sets up a campaign, uploads a list and watches
// the progress bar; a volunteer joins by invite link on a phone and makes three calls,
// one of them answering a branching question; the organiser's dashboard counts the calls
// live, without a reload. Numbers are Ofcom drama numbers that can never reach anyone.

import assert from "node:assert/strict";

import { ADMIN, browserTest, eventually, expectText, uniqueSuffix, useBarnstorm } from "./harness.js";

const app = useBarnstorm();

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/** 300 valid rows (London and Leeds drama ranges), one repeated number and two bad ones. */
function contactList() {
  const rows = ["First name,Last name,Phone,Ward"];
  for (let i = 0; i < 150; i += 1) {
    const n = String(i).padStart(3, "0");
    rows.push(`London${i},Tester,020 7946 0${n},Hackney`);
    rows.push(`Leeds${i},Tester,0113 496 0${n},Headingley`);
  }
  rows.push("Again,Tester,020 7946 0001,Hackney");
  rows.push("Bad,Number,12345,Nowhere");
  rows.push("No,Number,,Nowhere");
  return `${rows.join("\n")}\n`;
}

browserTest(app, "an organiser uploads a list, a volunteer joins by link and makes three calls, the dashboard follows live", async ({ newPage }) => {
  const suffix = uniqueSuffix();
  const name = `Spring calls ${suffix}`;

  // The organiser signs in and creates a campaign for the Leeds branch.
  const admin = await newPage();
  await admin.goto(app.url("/login"));
  await admin.getByLabel("Email", { exact: true }).fill(ADMIN.email);
  await admin.getByLabel("Password", { exact: true }).fill(ADMIN.password);
  await admin.getByRole("button", { name: "Sign in" }).click();
  await admin.waitForURL(app.url("/"));
  await admin.goto(app.url("/groups/leeds"));
  await admin.getByRole("link", { name: "Phone banks of Leeds" }).click();
  await admin.getByRole("link", { name: "New phone bank" }).click();
  await admin.getByLabel("Name", { exact: true }).fill(name);
  await admin.getByLabel("Briefing for callers").fill("Be friendly; thank everyone.");
  // Open all week so the test does not depend on the clock.
  for (const day of DAYS) {
    await admin.getByRole("checkbox", { name: day, exact: true }).check();
    await admin.getByLabel(`${day} opens at`).fill("00:00");
    await admin.getByLabel(`${day} closes at`).fill("24:00");
  }
  await admin.getByRole("button", { name: "Create draft" }).click();
  await admin.getByRole("heading", { level: 1, name }).waitFor();
  const campaignPath = new URL(admin.url()).pathname;
  assert.match(campaignPath, /^\/campaigns\/\d+$/, "creating a campaign leads to its page");

  // Upload the list (its columns guessed right) and watch the progress bar reach the end, with the counts.
  await admin.getByLabel("CSV file").setInputFiles({ name: "contacts.csv", mimeType: "text/csv", buffer: Buffer.from(contactList()) });
  await admin.getByRole("button", { name: /^Import \d+ rows?$/ }).click();
  const upload = admin.locator("[data-upload-status]");
  await expectText(upload, "Done: the list is imported", { timeoutMs: 30_000 });
  const bar = admin.getByRole("progressbar");
  const { value, max } = await bar.evaluate((node) => ({ value: node.value, max: node.max }));
  assert.equal(value, max, "the progress bar is full when the import is done");
  assert.equal(await upload.locator('[data-count="imported"]').innerText(), "300");
  assert.equal(await upload.locator('[data-count="duplicates"]').innerText(), "1");
  assert.equal(await upload.locator('[data-count="rejected"]').innerText(), "2");
  const rejections = upload.getByRole("link", { name: "Download the rejected rows (CSV)" });
  const rejected = await admin.request.get(app.url(await rejections.getAttribute("href")));
  assert.equal(rejected.status(), 200);
  assert.match(
    await rejected.text(),
    /^First name,Last name,Phone,Ward,Rejected on line,Rejected column,Rejection reason\r?\nBad,Number,12345,Nowhere,\d+,Phone,/,
    "the rejected rows download with the file's own columns, so they can be fixed and uploaded again",
  );

  // An invite link, then go live.
  await admin.getByRole("button", { name: "Make invite link" }).click();
  // The link is shown once, when it is made (only its hash is kept).
  const link = await admin.getByLabel("New invite link", { exact: true }).inputValue();
  assert.match(link, /\/call\/join\/[A-Za-z0-9_-]+$/);
  await admin.getByRole("button", { name: "Go live" }).click();
  await expectText(admin.locator("[data-campaign-status]"), "live");

  // The dashboard, kept open; the marker shows it is never reloaded.
  await admin.goto(app.url(`${campaignPath}/dashboard`));
  const calls = admin.locator('[data-stat="calls"]');
  await expectText(calls, "0");
  await admin.evaluate(() => (window.notReloaded = true));

  // A volunteer joins on a phone.
  const phone = await newPage(PHONE);
  await phone.goto(link);
  await phone.getByLabel("Your name", { exact: true }).fill("Val Volunteer");
  await phone.getByLabel("Email address", { exact: true }).fill(`val+${suffix}@example.org`);
  await phone.getByRole("button", { name: "Join and start calling" }).click();
  await phone.waitForURL(/\/call\/\d+$/);
  await assertFitsPhone(phone);

  const seen = new Set();
  const call = async (choose, outcome) => {
    const link = phone.getByRole("link", { name: /^Call / });
    const href = await link.getAttribute("href");
    assert.match(href, /^tel:\+44(2079460|1134960)\d{3}$/, `the call link dials an E.164 number: ${href}`);
    assert.ok(!seen.has(href), "each call is a new contact");
    seen.add(href);
    assert.equal(await phone.getByRole("link", { name: /^Call / }).count(), 1, "one contact at a time");
    const first = (await link.innerText()).replace(/^Call /, "").trim();
    await expectText(phone.locator("[data-script]"), `Hello ${first},`);
    await choose();
    await phone.getByRole("button", { name: outcome, exact: true }).click();
    await expectText(phone.getByRole("status"), `Saved: ${outcome}.`);
  };

  // 1: "No" opens the follow-up question, which is answered.
  await call(async () => {
    const why = phone.getByLabel("What would change your mind?");
    assert.equal(await why.isVisible(), false, "the branch question waits for its answer");
    await phone.getByRole("radio", { name: "No", exact: true }).check();
    await why.fill("Lower rents");
  }, "Spoke to them");
  // 2: nobody answered.
  await call(async () => {}, "No answer");
  // 3: "Yes" keeps the follow-up hidden.
  await call(async () => {
    await phone.getByRole("radio", { name: "Yes", exact: true }).check();
    assert.equal(await phone.getByLabel("What would change your mind?").isVisible(), false);
  }, "Spoke to them");
  await expectText(phone.locator("[data-my-calls]"), "3");
  await assertFitsPhone(phone);

  // The dashboard caught up by itself.
  await expectText(calls, "3", { timeoutMs: 15_000 });
  assert.equal(await admin.evaluate(() => window.notReloaded), true, "the dashboard updated without a reload");
  await expectText(admin.getByRole("table", { name: "Callers" }), "Val Volunteer");
  await eventually(async () => {
    const online = await admin.locator('[data-stat="online"]').innerText();
    assert.equal(online, "1", "one caller online");
  });
});

/** Nothing on a phone-sized page forces sideways scrolling. */
async function assertFitsPhone(page) {
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  assert.ok(scrollWidth <= clientWidth, `${page.url()} scrolls sideways on a phone (${scrollWidth}px wide in ${clientWidth}px)`);
}
