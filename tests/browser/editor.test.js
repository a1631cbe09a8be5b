// The campaign editor: an organiser builds a phone bank with a branching survey (no JSON
// anywhere), uploads a small list and goes live; a volunteer on a phone sees the branch
// open; the organiser edits the live campaign from a phone and the caller's page shows the
// new script and question within seconds. The basics work with JavaScript switched off.

import assert from "node:assert/strict";

import { ADMIN, browserTest, eventually, expectAccessible, expectText, signIn, uniqueSuffix, useBarnstorm } from "./harness.js";

const app = useBarnstorm();

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const LIST = "First name,Last name,Phone,Ward\nRuth,Tester,020 7946 0771,Hackney\nOmar,Tester,0113 496 0772,Headingley\n";

/** Opens calling hours all week, so the test does not depend on the clock. */
async function openAllWeek(page) {
  for (const day of DAYS) {
    await page.getByRole("checkbox", { name: day, exact: true }).check();
    await page.getByLabel(`${day} opens at`).fill("00:00");
    await page.getByLabel(`${day} closes at`).fill("24:00");
  }
}

/** The question block numbered `n` on the editor. */
function question(page, n) {
  return page.locator("[data-questions] [data-question]").nth(n - 1);
}

browserTest(app, "an organiser builds a branching survey in the editor, goes live, and edits it while a volunteer calls", async ({ newPage }) => {
  const suffix = uniqueSuffix();
  const name = `Polling day ${suffix}`;
  const admin = await newPage();
  await signIn(app, admin, ADMIN);
  await admin.goto(app.url("/groups/leeds/campaigns"));
  await admin.getByRole("link", { name: "New phone bank" }).click();
  assert.equal(await admin.getByText("JSON").count(), 0, "no JSON anywhere in the editor");
  await admin.getByLabel("Name", { exact: true }).fill(name);

  // The script, with a field from the picker, previewed with a sample contact.
  const script = admin.locator("#script");
  await script.fill("Hi ");
  await admin.getByRole("button", { name: "First name", exact: true }).click();
  await script.press("End");
  await script.pressSequentially(", it's polling day on Thursday.");
  assert.equal(await script.inputValue(), "Hi {first_name}, it's polling day on Thursday.");
  await expectText(admin.locator("[data-preview]"), "Hi Asha, it's polling day on Thursday.");

  // Replace the starter survey with two questions: the second only after "No".
  while ((await admin.locator("[data-questions] [data-question]").count()) > 0) {
    await question(admin, 1).getByRole("button", { name: "Remove question" }).click();
  }
  await admin.getByRole("button", { name: "Add a question" }).click();
  await question(admin, 1).getByLabel("Question text").fill("Will you vote on Thursday?");
  await question(admin, 1).locator("[data-option-label]").first().fill("Yes");
  await question(admin, 1).getByRole("button", { name: "Add an answer" }).click();
  await question(admin, 1).locator("[data-option-label]").nth(1).fill("No");
  await admin.getByRole("button", { name: "Add a question" }).click();
  await question(admin, 2).getByLabel("Question text").fill("What would help you vote?");
  await question(admin, 2).getByLabel("Answer type").selectOption("free_text");
  await question(admin, 2).getByLabel("Show this question").selectOption({ label: "Only when Question 1: Will you vote on Thursday? is answered…" });
  await question(admin, 2).getByRole("checkbox", { name: "No", exact: true }).check();
  // "Spoke to them" needs the first question answered; "Do not call again" never can.
  const spoke = admin.locator("[data-outcomes] [data-outcome]").first();
  assert.equal(await spoke.getByLabel("Button text").inputValue(), "Spoke to them");
  await spoke.getByRole("checkbox", { name: "Will you vote on Thursday?" }).check();
  await openAllWeek(admin);
  await expectAccessible(admin, "the campaign editor");
  await admin.getByRole("button", { name: "Create draft" }).click();
  await admin.getByRole("heading", { level: 1, name }).waitFor();
  const campaignPath = new URL(admin.url()).pathname;

  // No "Go live" before there is anyone to call; upload, invite, go live.
  assert.equal(await admin.getByRole("button", { name: "Go live" }).count(), 0);
  await expectText(admin.locator("[data-go-live-blocked]"), "Upload a list before going live");
  await admin.getByLabel("CSV file").setInputFiles({ name: "list.csv", mimeType: "text/csv", buffer: Buffer.from(LIST) });
  await admin.getByRole("button", { name: /^Import \d+ rows?$/ }).click();
  await expectText(admin.locator("[data-upload-status]"), "Done: the list is imported", { timeoutMs: 30_000 });
  await admin.reload();
  await admin.getByRole("button", { name: "Make invite link" }).click();
  const link = await admin.getByLabel("New invite link", { exact: true }).inputValue();
  await admin.getByRole("button", { name: "Go live" }).click();
  await expectText(admin.locator("[data-campaign-status]"), "live");
  await expectAccessible(admin, "the campaign page");

  // A volunteer on a phone: the follow-up opens after "No".
  const phone = await newPage(PHONE);
  await phone.goto(link);
  await phone.getByLabel("Your name", { exact: true }).fill("Vic Volunteer");
  await phone.getByLabel("Email address", { exact: true }).fill(`vic+${suffix}@example.org`);
  await phone.getByRole("button", { name: "Join and start calling" }).click();
  await phone.waitForURL(/\/call\/\d+$/);
  await expectText(phone.locator("[data-script]"), "it's polling day on Thursday.");
  await expectText(phone.locator("[data-needed-for]").first(), "needed for Spoke to them");
  const help = phone.getByLabel("What would help you vote?");
  assert.equal(await help.isVisible(), false, "the branch waits for its answer");
  await phone.getByRole("radio", { name: "No", exact: true }).check();
  await help.waitFor({ state: "visible" });

  // The organiser edits the live campaign from a phone: script text and a question.
  const organiserPhone = await newPage(PHONE);
  await signIn(app, organiserPhone, ADMIN);
  await organiserPhone.goto(app.url(campaignPath));
  await organiserPhone.getByRole("link", { name: "Edit campaign" }).click();
  await expectText(organiserPhone.locator("[data-preview]"), "it's polling day on Thursday.");
  assert.match(await organiserPhone.locator("[data-preview]").innerText(), /^Hi (Ruth|Omar),/, "the preview uses the list's first contact");
  await organiserPhone.locator("#script").fill("Good evening {first_name|there}, polls are open until 10pm.");
  await question(organiserPhone, 1).getByLabel("Question text").fill("Will you vote today?");
  await expectAccessible(organiserPhone, "the campaign editor on a phone");
  await organiserPhone.getByRole("button", { name: "Save changes" }).click();
  await expectText(organiserPhone.getByRole("status"), "Callers see the new version");

  // The caller's page shows the change within seconds.
  await eventually(async () => {
    await phone.reload();
    const text = await phone.locator("[data-script]").innerText();
    assert.match(text, /^Good evening (Ruth|Omar), polls are open until 10pm\.$/);
    assert.ok((await phone.locator("[data-outcome-form]").innerText()).includes("Will you vote today?"), "the edited question");
  }, { timeoutMs: 5_000, intervalMs: 500 });
});

browserTest(app, "without JavaScript the editor's buttons still add a question and create the campaign", async ({ newPage }) => {
  const suffix = uniqueSuffix();
  const name = `No script ${suffix}`;
  const page = await newPage({ javaScriptEnabled: false });
  await signIn(app, page, ADMIN);
  await page.goto(app.url("/groups/leeds/campaigns/new"));
  await page.getByLabel("Name", { exact: true }).fill(name);
  const before = await page.locator("[data-questions] [data-question]").count();
  await page.getByRole("button", { name: "Add a question" }).click();
  await eventually(async () => assert.equal(await page.locator("[data-questions] [data-question]").count(), before + 1));
  assert.equal(await page.getByLabel("Name", { exact: true }).inputValue(), name, "what was typed is kept");
  const added = question(page, before + 1);
  await added.getByLabel("Question text").fill("Can you deliver leaflets?");
  await added.locator("[data-option-label]").first().fill("Yes");
  await added.getByRole("button", { name: "Add an answer" }).click();
  await question(page, before + 1).locator("[data-option-label]").nth(1).fill("No");
  await question(page, before + 1).getByRole("button", { name: "Move up" }).click();
  await eventually(async () => assert.equal(await question(page, before).getByLabel("Question text").inputValue(), "Can you deliver leaflets?"));
  await page.getByRole("button", { name: "Update preview" }).click();
  await expectText(page.locator("[data-preview]"), "Asha");
  // (axe runs page script, which this context refuses; the same markup is checked with it in the test above.)
  await page.getByRole("button", { name: "Create draft" }).click();
  await page.getByRole("heading", { level: 1, name }).waitFor();
  await page.getByRole("link", { name: "Edit campaign" }).click();
  assert.equal(await question(page, before).getByLabel("Question text").inputValue(), "Can you deliver leaflets?", "the question was saved in its place");
});
