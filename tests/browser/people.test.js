// A data-protection officer answers a subject-access and an erasure request from the UI
// alone: finds the person by a phone number typed their own way, downloads the ZIP, is
// stopped by a mistyped confirmation, erases with ERASE, and the person is gone while a
// re-upload of their number is suppressed. Numbers are Ofcom drama numbers.

import assert from "node:assert/strict";
import fs from "node:fs/promises";

import { ADMIN, browserTest, expectText, signIn, uniqueSuffix, useBarnstorm } from "./harness.js";

const app = useBarnstorm();

const PERSON = { name: "Robin Requester", email: "robin.requester@example.org" };
const OFFICER = { email: "dpo@example.org", name: "Dee Protection", password: "a long data-protection passphrase" };
/** A drama range the demo's own contacts do not use. */
const LIST = `First name,Last name,Phone,Email\nRobin,Requester,0131 496 0777,${PERSON.email}\n`;

/** A Manchester campaign holding the person, made through the API; returns the upload answer. */
async function plantPerson(auth, campaignId) {
  const imported = await app.api("POST", `/api/v1/campaigns/${campaignId}/contacts`, {
    ...auth,
    body: LIST,
    contentType: "text/csv",
  });
  assert.equal(imported.status, 200, JSON.stringify(imported.json));
  return imported.json;
}

browserTest(app, "a data-protection officer finds a person, downloads their ZIP and erases them after typing ERASE", async ({ newPage }) => {
  const token = await app.api("POST", "/api/v1/tokens", { body: { email: ADMIN.email, password: ADMIN.password } });
  assert.equal(token.status, 201, JSON.stringify(token.json));
  const auth = { token: token.json.token };
  const groups = await app.api("GET", "/api/v1/groups");
  const manchester = groups.json.find((group) => group.slug === "manchester");
  const created = await app.api("POST", "/api/v1/campaigns", {
    ...auth,
    body: { group_id: manchester.id, name: `Requests ${uniqueSuffix()}` },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  assert.equal((await plantPerson(auth, created.json.id)).imported, 1);

  // The officer's account, made the way an operator makes it.
  await app.command(
    ["user", "add", "--email", OFFICER.email, "--name", OFFICER.name, "--role", "data-protection", "--database-url", app.databaseUrl],
    { stdin: `${OFFICER.password}\n` },
  );
  const officer = await newPage({ acceptDownloads: true });
  await signIn(app, officer, OFFICER);
  await officer.getByRole("navigation", { name: "Main", exact: true }).getByRole("link", { name: "People's data" }).click();
  await officer.waitForURL(app.url("/admin/people"));
  await officer.getByLabel("Phone number").fill("+44 (0)131 496 0777");
  await officer.getByRole("button", { name: "Find", exact: true }).click();
  const main = officer.getByRole("main");
  await expectText(main, "What is held");
  await expectText(main, PERSON.name);

  const [download] = await Promise.all([
    officer.waitForEvent("download"),
    officer.getByRole("button", { name: "Download subject-access ZIP" }).click(),
  ]);
  assert.equal(download.suggestedFilename(), "subject-access.zip");
  const zip = await fs.readFile(await download.path());
  assert.equal(zip.subarray(0, 4).toString("latin1"), "PK\u0003\u0004");
  assert.ok(zip.includes("person.json") && zip.includes(PERSON.email), "the ZIP holds their records");

  await officer.getByRole("button", { name: "Erase this person…" }).click();
  await expectText(main, "What will be erased");
  await officer.getByLabel(/Type ERASE/).fill("yes");
  await officer.getByRole("button", { name: "Erase this person", exact: true }).click();
  await expectText(main, "nothing was erased");
  await officer.getByLabel(/Type ERASE/).fill("ERASE");
  await officer.getByRole("button", { name: "Erase this person", exact: true }).click();
  await expectText(main, "Records deleted");

  await officer.getByRole("link", { name: "Find another person" }).click();
  await officer.getByLabel("Email address").fill(PERSON.email);
  await officer.getByRole("button", { name: "Find", exact: true }).click();
  await expectText(main, "Nobody matches");
  const again = await plantPerson(auth, created.json.id);
  assert.deepEqual([again.imported, again.suppressed], [0, 1], "their number stays suppressed");
});
