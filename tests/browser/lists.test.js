// A messy spreadsheet export through the campaign page's column-mapping step, on a desktop
// and on a phone: the guess takes a column of network names for the number; the preview
// shows it, and says so when no column is left as the phone number; the organiser chooses
// "Phone number" for "Tel (home)" and "Ignore" for the junk column, imports, and sees the
// counts with warnings and a merged duplicate; the rejected rows come back with the file's
// own columns, are fixed and uploaded again through the same step, and the contact count
// and "Go live" follow without a reload. Numbers are Ofcom drama numbers.

import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";

import { ADMIN, REPO_ROOT, browserTest, eventually, expectAccessible, expectText, signIn, uniqueSuffix, useBarnstorm } from "./harness.js";

const app = useBarnstorm();

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const EXPORT = path.join(REPO_ROOT, "tests/fixtures/messy-export.csv");

/** A draft phone bank of the demo's Leeds branch, with no contacts yet. */
async function draftCampaign() {
  const token = await app.api("POST", "/api/v1/tokens", { body: { email: ADMIN.email, password: ADMIN.password } });
  assert.equal(token.status, 201, JSON.stringify(token.json));
  const groups = await app.api("GET", "/api/v1/groups");
  const leeds = groups.json.find((group) => group.slug === "leeds");
  const created = await app.api("POST", "/api/v1/campaigns", {
    token: token.json.token,
    body: { group_id: leeds.id, name: `Tidy lists ${uniqueSuffix()}` },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  return created.json.id;
}

/** The figures of the upload report, by their data-count key. */
async function report(page) {
  const figures = {};
  for (const node of await page.locator("[data-upload-result] [data-count]").all()) {
    figures[await node.getAttribute("data-count")] = Number(await node.innerText());
  }
  return figures;
}

/** A download link's file, fetched in the page with its cookies. */
async function download(page, linkName) {
  const href = await page.getByRole("link", { name: linkName }).getAttribute("href");
  return page.evaluate(async (url) => {
    const response = await fetch(url, { credentials: "same-origin" });
    return { status: response.status, text: await response.text() };
  }, href);
}

/** Chooses the organiser's roles for the export: the home number is the one to ring. */
async function chooseRoles(page) {
  await page.getByLabel("Tel (home)", { exact: true }).selectOption({ label: "Phone number" });
  await eventually(async () => assert.equal(await page.getByLabel("Mobile provider", { exact: true }).inputValue(), "extra"));
  await page.getByLabel("Mobile provider", { exact: true }).selectOption({ label: "Ignore" });
}

for (const [device, options] of [
  ["desktop", {}],
  ["phone", PHONE],
]) {
  browserTest(app, `on a ${device}, an organiser maps a messy export's columns, imports it, fixes the rejected rows and uploads them again`, async ({ newPage }) => {
    const id = await draftCampaign();
    const page = await newPage(options);
    await signIn(app, page, ADMIN);
    await page.goto(app.url(`/campaigns/${id}`));
    await expectText(page.locator("[data-go-live-blocked]"), "Upload a list before going live");
    assert.equal(await page.getByRole("button", { name: "Go live" }).count(), 0, "no Go live without contacts");
    assert.equal(await page.locator("[data-contact-count]").innerText(), "0");
    await page.evaluate(() => (window.notReloaded = true));

    // The guess: the network names look like the mobile number, and the preview shows the cost.
    await page.getByLabel("CSV file").setInputFiles({ name: "export.csv", mimeType: "text/csv", buffer: await fs.readFile(EXPORT) });
    const provider = page.getByLabel("Mobile provider", { exact: true });
    const home = page.getByLabel("Tel (home)", { exact: true });
    await home.waitFor();
    assert.equal(await provider.inputValue(), "phone", "the guess took the network names for the number");
    assert.equal(await home.inputValue(), "other_phone");
    const mapping = page.locator("[data-mapping]");
    await expectText(mapping, "Vodafone");
    await expectText(mapping, "the number in Tel (home) is rung instead");
    await expectAccessible(page, `the campaign page with the mapping step (${device})`);
    if (device === "phone") {
      const fits = await page.evaluate(() => {
        const table = document.querySelector("[data-mapping] .table-wrap");
        return { scrolls: table.scrollWidth > table.clientWidth, page: document.documentElement.scrollWidth <= window.innerWidth };
      });
      assert.deepEqual(fits, { scrolls: true, page: true }, "the table scrolls sideways inside a page that fits the phone");
    }

    // Ignoring the junk column first leaves no phone number: the server says so.
    await provider.selectOption({ label: "Ignore" });
    const problem = page.locator("[data-mapping-problem]");
    await expectText(problem, "No column is the phone number: choose one.");
    assert.ok(await page.getByRole("button", { name: "Import 7 rows" }).isDisabled(), "nothing to import until a column is the phone number");
    await home.selectOption({ label: "Phone number" });
    await eventually(async () => assert.equal(await problem.innerText(), ""));
    assert.equal(await provider.inputValue(), "ignore", "the organiser's choice is kept");
    await expectText(mapping, "Imported; Post code: not a UK postcode");
    const importRows = page.getByRole("button", { name: "Import 7 rows" });
    await eventually(async () => assert.ok(await importRows.isEnabled()));
    await importRows.click();

    const status = page.locator("[data-upload-status]");
    await expectText(status, "Done: the list is imported", { timeoutMs: 30_000 });
    assert.deepEqual(await report(page), { imported: 4, duplicates: 1, suppressed: 0, warnings: 2, rejected: 2 });
    assert.equal(await page.locator("[data-contact-count]").innerText(), "4", "the count follows the import");
    await page.getByRole("button", { name: "Go live" }).waitFor();
    assert.equal(await page.getByText("Upload a list before going live").count(), 0, "the reason not to go live is gone");

    const warnings = await download(page, "Download the warnings and merges (CSV)");
    assert.equal(warnings.status, 200);
    assert.match(warnings.text, /^line,column,warning\r?\n2,Post code,/, "the bad postcode is a warning, not a rejection");
    assert.match(warnings.text, /6,,merged into line 5/);

    // The rejected rows, fixed, go through the same mapping step again.
    const rejected = await download(page, "Download the rejected rows (CSV)");
    assert.equal(rejected.status, 200);
    assert.match(
      rejected.text,
      /^Forename,Surname,Mobile provider,Tel \(home\),Email,Post code,Ward,Rejected on line,Rejected column,Rejection reason\r?\nEli,Ward,Vodafone,ring after six,/,
    );
    const fixed = rejected.text.replace("ring after six", "020 7946 0207").replace("029 2018 02,", "029 2018 0208,");
    await page.getByLabel("CSV file").setInputFiles({ name: "fixed.csv", mimeType: "text/csv", buffer: Buffer.from(fixed) });
    const reason = page.getByLabel("Rejection reason", { exact: true });
    await reason.waitFor();
    for (const column of ["Rejected on line", "Rejected column", "Rejection reason"]) {
      assert.equal(await page.getByLabel(column, { exact: true }).inputValue(), "ignore", `${column} is ignored on the way back in`);
    }
    await chooseRoles(page);
    const importTwo = page.getByRole("button", { name: "Import 2 rows" });
    await eventually(async () => assert.ok(await importTwo.isEnabled()));
    await importTwo.click();
    await eventually(
      async () => {
        assert.deepEqual(await report(page), { imported: 2, duplicates: 0, suppressed: 0, warnings: 0, rejected: 0 });
        assert.equal(await page.locator("[data-contact-count]").innerText(), "6");
      },
      { timeoutMs: 30_000 },
    );
    await expectText(status, "Done: the list is imported");
    assert.ok(await page.getByRole("link", { name: "Download the rejected rows (CSV)" }).isHidden(), "nothing left to fix");
    assert.equal(await page.evaluate(() => window.notReloaded), true, "all of it without a reload");
  });
}
