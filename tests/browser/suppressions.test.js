// "Numbers not called", on a desktop and on a phone: an organiser adds a number to the
// group's do-not-call list, finds it by typing it another way, takes it off after a
// confirmation page that says its contacts will be called again, and uploads a small list
// whose bad line the page names by line. axe finds nothing serious on each page. Numbers
// A site admin loads a CTPS file from the same page and reads which line was not a number.
// Numbers are Ofcom drama numbers that can never reach anyone.

import assert from "node:assert/strict";

import { ADMIN, browserTest, expectAccessible, expectText, signIn, useBarnstorm } from "./harness.js";

const app = useBarnstorm();

/** The demo's organiser of the North West, which Manchester is part of. */
const ORGANISER = { email: "northwest@example.org", password: "barnstorm-demo" };
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const DESKTOP = { viewport: { width: 1280, height: 800 } };

for (const [label, device, last] of [
  ["desktop", DESKTOP, "1"],
  ["phone", PHONE, "5"],
]) {
  browserTest(app, `on a ${label}, an organiser searches, adds, removes with a confirmation and uploads a list`, async ({ newPage }) => {
    const added = `0161 496 09${last}0`;
    const uploaded = `0161 496 09${last}1`;
    const page = await newPage(device);
    await signIn(app, page, ORGANISER);
    await page.goto(app.url("/groups/manchester/suppressions"));
    await expectAccessible(page, `the suppressions page on a ${label}`);
    assert.equal(await page.getByText("Load a TPS or CTPS file").count(), 0, "only site admins load national lists");

    await page.getByLabel("Number to add").fill(added);
    await page.getByLabel("Why").fill("Asked by email not to be called");
    await page.getByRole("button", { name: "Add to the list" }).click();
    await expectText(page.getByRole("status"), `${added} will not be called by Manchester`);

    // Typed the international way, the number is still found, and only it.
    await page.getByLabel("Search the list").fill(`+44 ${added.slice(1)}`);
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await expectText(page.locator("[data-list-count]"), "1 of");
    const rows = page.locator("[data-do-not-call] tbody tr");
    assert.equal(await rows.count(), 1, "the search finds one entry");
    await expectText(rows, "Asked by email not to be called");
    await expectAccessible(page, `the searched list on a ${label}`);

    await page.getByRole("button", { name: `Remove ${added}` }).click();
    await expectText(page.locator("main"), "Contacts with this number will be called again");
    await expectText(page.locator("main"), "Asked by email not to be called");
    await expectAccessible(page, `the removal's confirmation on a ${label}`);
    await page.getByRole("button", { name: "Remove from the list" }).click();
    await expectText(page.getByRole("status"), `${added} is off Manchester's do-not-call list`);
    assert.equal(await rows.filter({ hasText: added }).count(), 0, "the number is off the list");

    // A small list with one bad line: the good numbers go on, the bad line is named.
    await page.getByLabel("File").setInputFiles({
      name: "complaints.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(`Phone,Reason\n${uploaded},Asked by text\n0161 496,Rang the office\n`),
    });
    await page.getByRole("button", { name: "Upload list" }).click();
    const report = page.locator("[data-list-report]");
    await expectText(report, "complaints.csv: 1 number added, 0 already listed, 1 line not added.");
    await expectText(report, "Line 3: '0161 496' is too short to be a phone number.");
    await expectAccessible(page, `the upload's report on a ${label}`);

    await page.goto(app.url(`/groups/manchester/suppressions?q=${encodeURIComponent(uploaded)}`));
    await expectText(page.locator("[data-do-not-call]"), "Asked by text");
  });
}

browserTest(app, "a site admin loads a CTPS file from the page and sees its report and the list's summary", async ({ newPage }) => {
  const page = await newPage(PHONE);
  await signIn(app, page, ADMIN);
  await page.goto(app.url("/groups/manchester/suppressions"));
  await page.getByLabel("List", { exact: true }).selectOption("ctps");
  await page.getByLabel("TPS or CTPS file", { exact: true }).setInputFiles({
    name: "ctps-2026-12.txt",
    mimeType: "text/plain",
    buffer: Buffer.from("029 2018 0961\nnot a number\n029 2018 0962\n"),
  });
  await page.getByRole("button", { name: "Load file" }).click();
  const report = page.locator("#national [data-list-report]");
  await expectText(report, "ctps-2026-12.txt: 2 numbers read, 2 new to the CTPS list, which now holds 2.");
  await expectText(report, "Line 2: not a phone number.");
  await expectAccessible(page, "the national list's report");
  await page.reload();
  await expectText(page.locator("[data-national-lists]"), "CTPS: 2 numbers");
  await expectText(page.locator("[data-national-lists]"), "from ctps-2026-12.txt");
});
