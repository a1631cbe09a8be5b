// The caller safeguards from the organiser's campaign page: suspending a caller who is
// mid-call stops them at once (their outcome is refused and no next contact comes),
// lifting it lets them call again, unticking a field takes it off the caller's page, and
// a pace limit of one contact a minute makes the next claim explain, in words, when
// calling resumes. Numbers are Ofcom drama numbers that can never reach anyone.

import assert from "node:assert/strict";

import { ADMIN, browserTest, expectText, signIn, uniqueSuffix, useBarnstorm } from "./harness.js";

const app = useBarnstorm();

/** The demo's caller, a caller of the Manchester group. */
const CALLER = { email: "caller@example.org", password: "barnstorm-demo", name: "Cal Caller" };
const DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const ALL_WEEK = {
  time_zone: "Europe/London",
  days: Object.fromEntries(DAYS.map((day) => [day, { start: "00:00", end: "24:00" }])),
};

/** A live Manchester campaign of ten contacts (surname "Hidden<n>"), made through the API. */
async function liveCampaign(name) {
  const token = await app.api("POST", "/api/v1/tokens", { body: { email: ADMIN.email, password: ADMIN.password } });
  assert.equal(token.status, 201, JSON.stringify(token.json));
  const groups = await app.api("GET", "/api/v1/groups");
  const manchester = groups.json.find((group) => group.slug === "manchester");
  assert.ok(manchester, "the demo has a Manchester group");
  const auth = { token: token.json.token };
  const created = await app.api("POST", "/api/v1/campaigns", {
    ...auth,
    body: { group_id: manchester.id, name, calling_hours: ALL_WEEK, script: "Hello {first_name|there}" },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const id = created.json.id;
  const rows = ["First name,Last name,Phone,Ward"];
  for (let i = 1; i <= 10; i += 1) rows.push(`Shown${i},Hidden${i},0161 496 0${String(i).padStart(3, "0")},Moss Side`);
  const imported = await app.api("POST", `/api/v1/campaigns/${id}/contacts`, {
    ...auth,
    body: `${rows.join("\n")}\n`,
    contentType: "text/csv",
  });
  assert.equal(imported.status, 200, JSON.stringify(imported.json));
  const live = await app.api("PATCH", `/api/v1/campaigns/${id}`, { ...auth, body: { status: "live" } });
  assert.equal(live.status, 200, JSON.stringify(live.json));
  return id;
}

browserTest(app, "an organiser suspends a caller mid-call, lifts it, hides a field and slows the pace; the caller's page follows", async ({ newPage }) => {
  const id = await liveCampaign(`Manchester safeguards ${uniqueSuffix()}`);

  // The caller is on a call.
  const caller = await newPage();
  await signIn(app, caller, CALLER);
  await caller.goto(app.url(`/call/${id}`));
  await caller.getByRole("link", { name: /^Call / }).waitFor();
  await expectText(caller.locator("main"), "Hidden");

  // The organiser suspends them from the Callers section.
  const organiser = await newPage();
  await signIn(app, organiser, ADMIN);
  await organiser.goto(app.url(`/campaigns/${id}`));
  const callers = organiser.getByRole("list", { name: "Callers" });
  await expectText(callers, CALLER.name);
  await organiser.getByLabel(`Reason for suspending ${CALLER.name}`).fill("Writing the numbers down");
  await organiser.getByRole("button", { name: "Suspend", exact: true }).click();
  await expectText(organiser.getByRole("status"), `${CALLER.name} is suspended`);
  await expectText(callers, "Suspended by you on");
  await expectText(callers, "Writing the numbers down");

  // Mid-call, the caller's outcome is refused and the page says why; no next contact.
  await caller.getByRole("button", { name: "No answer", exact: true }).click();
  await expectText(caller.locator("main"), "An organiser has suspended your calling on this phone bank");
  assert.equal(await caller.getByRole("link", { name: /^Call / }).count(), 0, "a suspended caller gets no contact");
  await caller.goto(app.url(`/call/${id}`));
  await expectText(caller.locator("main"), "An organiser has suspended your calling");
  assert.equal(await caller.getByRole("link", { name: /^Call / }).count(), 0, "nor on a reload");

  // Lifted: the caller gets a contact again.
  await organiser.getByRole("button", { name: "Lift suspension" }).click();
  await expectText(organiser.getByRole("status"), `${CALLER.name} may call again`);
  await caller.goto(app.url(`/call/${id}`));
  await caller.getByRole("link", { name: /^Call / }).waitFor();
  await expectText(caller.locator("main"), "Hidden");

  // Last name unticked: the caller's page no longer shows it.
  const lastName = organiser.getByRole("checkbox", { name: "Last name" });
  assert.equal(await lastName.isChecked(), true, "last name is shown by default");
  await lastName.uncheck();
  await organiser.getByRole("button", { name: "Save shown fields" }).click();
  await expectText(organiser.getByRole("status"), "Saved: callers see the phone number and First name.");
  assert.equal(await organiser.getByRole("checkbox", { name: "Last name" }).isChecked(), false);
  await caller.goto(app.url(`/call/${id}`));
  await caller.getByRole("link", { name: /^Call / }).waitFor();
  await expectText(caller.locator("main"), "Shown");
  assert.ok(!(await caller.content()).includes("Hidden"), "the unticked last name is not in the caller's page");

  // One new contact a minute: the caller's next contact waits, and the page says until when.
  await organiser.getByLabel("New contacts a minute").fill("1");
  await organiser.getByRole("button", { name: "Save pace limits" }).click();
  await expectText(organiser.getByRole("status"), "Pace limits saved");
  await caller.getByRole("button", { name: "No answer", exact: true }).click();
  await expectText(caller.locator("main"), "Slow down a little");
  await expectText(caller.locator("main"), "at most 1 new contacts a minute");
  await expectText(caller.locator("main"), "You can go on at");
  assert.equal(await caller.getByRole("link", { name: /^Call / }).count(), 0, "no contact beyond the pace");
});
