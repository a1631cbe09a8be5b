// Volunteer hubs: an organiser grows the group tree and brings a new caller in by email.
// Locators go by role and label only, so the pages' accessibility is checked on the way.

import assert from "node:assert/strict";

import { ADMIN, browserTest, eventually, expectText, uniqueSuffix, useBarnstorm } from "./harness.js";

const app = useBarnstorm();

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

browserTest(app, "an organiser creates a branch, invites a caller, and the caller joins from the email", async ({ newPage }) => {
  const suffix = uniqueSuffix();
  const branch = `Test Branch ${suffix}`;
  const invitee = `newcomer+${suffix}@example.org`;

  // Sign in.
  const admin = await newPage();
  await admin.goto(app.url("/login"));
  await assertAssetsLoaded(admin);
  await admin.getByLabel("Email", { exact: true }).fill(ADMIN.email);
  await admin.getByLabel("Password", { exact: true }).fill(ADMIN.password);
  await admin.getByRole("button", { name: "Sign in" }).click();
  await admin.waitForURL(app.url("/"));
  const nav = admin.getByRole("navigation", { name: "Main", exact: true });
  await nav.getByRole("link", { name: ADMIN.name }).waitFor();
  await nav.getByRole("button", { name: "Sign out" }).waitFor();

  // The group tree: national group, then its regions.
  await nav.getByRole("link", { name: "Groups", exact: true }).click();
  await admin.waitForURL(app.url("/groups"));
  const main = admin.getByRole("main");
  await expectText(main, "Barnstorm UK");
  await main.getByRole("link", { name: "North West", exact: true }).click();
  await admin.waitForURL(app.url("/groups/north-west"));
  await expectHeading(admin, "North West");

  // Create a branch under North West.
  await admin.getByLabel("Branch name", { exact: true }).fill(branch);
  await admin.getByRole("button", { name: "Create branch" }).click();
  await expectHeading(admin, branch);
  const branchUrl = admin.url();
  assert.match(new URL(branchUrl).pathname, /^\/groups\/[^/]+$/, "the new branch has its own page under /groups/");
  assert.notEqual(new URL(branchUrl).pathname, "/groups/north-west", "creating a branch leads to the branch's page");
  await expectText(flash(admin), "Branch created");

  // Invite a caller to the new branch.
  await admin.getByLabel("Email address", { exact: true }).fill(invitee);
  const role = admin.getByLabel("Role", { exact: true });
  const options = await role.locator("option").evaluateAll((nodes) => nodes.map((node) => [node.value, node.textContent.trim()]));
  for (const expected of [["organiser", "Organiser"], ["host", "Host"], ["caller", "Caller"], ["member", "Member"]]) {
    assert.ok(
      options.some(([value, label]) => value === expected[0] && label === expected[1]),
      `the Role select offers ${expected[1]} (${expected[0]}); it has ${JSON.stringify(options)}`,
    );
  }
  await role.selectOption("caller");
  await admin.getByRole("button", { name: "Send invite" }).click();
  await expectText(flash(admin), `Invite sent to ${invitee}`);

  // The invitation arrives by email with a link to the server's base URL.
  const mail = await app.waitForMail((mail) => mail.to.includes(invitee), 20_000);
  assert.ok(
    mail.subject.includes(`invited to join ${branch}`),
    `the invite's subject names the group; it was ${JSON.stringify(mail.subject)}`,
  );
  const link = mail.text.match(new RegExp(`${escapeRegExp(app.baseUrl)}/invites/[A-Za-z0-9_~.%-]+`));
  assert.ok(link, `the invite's text body links to ${app.baseUrl}/invites/<token>; it was:\n${mail.text}`);

  // The invitee opens it on a phone, signed out, and accepts.
  const phone = await newPage(PHONE);
  await phone.goto(link[0]);
  await assertAssetsLoaded(phone);
  await expectHeading(phone, `Join ${branch}`);
  await assertFitsPhone(phone);
  const accept = phone.getByRole("button", { name: "Accept invite" });
  for (const control of [phone.getByLabel("Your name", { exact: true }), phone.getByLabel("Choose a password", { exact: true }), accept]) {
    await assertTouchTarget(control);
  }
  await phone.getByLabel("Your name", { exact: true }).fill("Nia Newcomer");
  await phone.getByLabel("Choose a password", { exact: true }).fill(`nia's own ${suffix} passphrase`);
  await accept.click();
  await phone.waitForURL(branchUrl);
  await expectText(flash(phone), `Welcome to ${branch}`);

  // The organiser now sees the newcomer among the branch's members. The newcomer sees that
  // they belong, but not the member list: names and addresses are for organisers only.
  await admin.reload();
  await expectText(await membersList(admin), "Nia Newcomer");
  await expectText(phone.locator("main"), "you are a member");
  assert.equal(await phone.locator('[aria-label="Members"]').count(), 0, "callers do not see the member list");
  await assertFitsPhone(phone);
});

/** The flash message(s) the layout shows after a redirect. */
function flash(page) {
  return page.getByRole("status");
}

async function expectHeading(page, name) {
  await page.getByRole("heading", { level: 1, name, exact: true }).waitFor({ timeout: 10_000 }).catch(async () => {
    const shown = await page.getByRole("heading", { level: 1 }).allInnerTexts();
    throw new Error(`expected the h1 ${JSON.stringify(name)} on ${page.url()}; it has ${JSON.stringify(shown)}`);
  });
}

/** The members list: an element labelled "Members", else the list or table after a "Members" heading. */
async function membersList(page) {
  const labelled = page.locator('[aria-label="Members"]');
  if ((await labelled.count()) > 0) return labelled;
  const heading = page.getByRole("heading", { name: "Members", exact: true });
  await heading.waitFor({ timeout: 5_000 }).catch(() => {
    throw new Error(`no element labelled "Members" and no "Members" heading on ${page.url()}`);
  });
  return heading.locator("xpath=following-sibling::*[self::ul or self::ol or self::table or self::div or self::dl][1]");
}

/** The stylesheet and script are served from the binary and in effect. */
async function assertAssetsLoaded(page) {
  const { font, htmx } = await page.evaluate(() => ({
    font: getComputedStyle(document.body).fontFamily,
    htmx: typeof window.htmx?.process,
  }));
  assert.match(font, /system-ui/, `/assets/app.css is applied (the body font is ${font})`);
  await eventually(async () => {
    const loaded = await page.evaluate(() => typeof window.htmx?.process);
    assert.equal(loaded, "function", "/assets/app.js ran and set window.htmx");
  }, { timeoutMs: 5_000 }).catch((error) => {
    throw new Error(`${error.message} (htmx was ${htmx})`);
  });
}

/** Nothing on a phone-sized page forces sideways scrolling. */
async function assertFitsPhone(page) {
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  assert.ok(scrollWidth <= clientWidth, `${page.url()} scrolls sideways on a phone (${scrollWidth}px wide in ${clientWidth}px)`);
}

/** WCAG 2.5.5: controls a thumb has to hit are at least 44px tall. */
async function assertTouchTarget(locator) {
  const box = await locator.boundingBox();
  assert.ok(box && box.height >= 44, `${locator} is ${box?.height}px tall; touch targets need 44px`);
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
