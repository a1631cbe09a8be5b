// Bridged calling in the caller page, with SIPp as the SIP trunk on 127.0.0.1: the caller
// types their number and presses "Call me", the page follows the line (their phone rings,
// the next contact is named), "Call" rings the contact through the trunk, the page shows
// the call and how it ended, and the outcome is saved from the page. The contact's number
// is nowhere in the page. Numbers are Ofcom drama numbers; nothing leaves loopback.

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import dgram from "node:dgram";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import os from "node:os";
import path from "node:path";

import { ADMIN, REPO_ROOT, browserTest, eventually, expectAccessible, signIn, useBarnstorm } from "./harness.js";

const SIPP = spawnSync("sipp", ["-v"]).error === undefined;
/** The demo's caller, a caller of the Manchester group. */
const CALLER = { email: "caller@example.org", password: "barnstorm-demo" };
/** The trunk answers numbers ending in 1 after 3 s, talks, and hangs up 6 s later. */
const CONTACT = { national: "0161 496 0101", e164: "+441614960101" };
const DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const ALL_WEEK = {
  time_zone: "Europe/London",
  days: Object.fromEntries(DAYS.map((day) => [day, { start: "00:00", end: "24:00" }])),
};

/** A UDP port that was free a moment ago. */
function freeUdpPort() {
  return new Promise((resolve) => {
    const socket = dgram.createSocket("udp4");
    socket.bind(0, "127.0.0.1", () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

if (!SIPP) {
  test("bridged calling in the caller page", { skip: "SIPp is not installed (apt-get install sip-tester)" }, () => {});
} else {
  const trunk = { port: 0, child: null, dir: "" };
  const rtpBase = 30_000 + 2 * Math.floor(Math.random() * 4_000);
  before(async () => {
    trunk.port = await freeUdpPort();
    trunk.dir = await mkdtemp(path.join(os.tmpdir(), "barnstorm-sipp-"));
    // The volunteer's phone answers and stays on the line; the contact's leg is scripted.
    const template = await readFile(path.join(REPO_ROOT, "tests/sipp/trunk.xml"), "utf8");
    const scenario = path.join(trunk.dir, "trunk.xml");
    await writeFile(scenario, template.replace("<!-- KEYPAD -->", '<pause milliseconds="90000"/>'));
    const media = String(rtpBase + 100);
    trunk.child = spawn(
      "sipp",
      ["-sf", scenario, "-i", "127.0.0.1", "-p", String(trunk.port), "-mi", "127.0.0.1", "-mp", media, "-m", "4", "-timeout", "180s", "-nostdin"],
      { cwd: trunk.dir, stdio: "ignore" },
    );
  });
  after(async () => {
    trunk.child?.kill("SIGKILL");
    if (trunk.dir) await rm(trunk.dir, { recursive: true, force: true });
  });

  const app = useBarnstorm({
    serveArgs: () => [
      "--sip-trunk", `sip:127.0.0.1:${trunk.port}`,
      "--sip-listen", "127.0.0.1:0",
      "--rtp-ports", `${rtpBase}-${rtpBase + 39}`,
      "--node-name", "browser-test",
    ],
  });

  /** A live Manchester campaign bridged by "call me" with phone links off, of one contact. */
  async function bridgedCampaign() {
    const token = (await app.api("POST", "/api/v1/tokens", { body: { email: ADMIN.email, password: ADMIN.password } })).json.token;
    const groups = await app.api("GET", "/api/v1/groups");
    const manchester = groups.json.find((group) => group.slug === "manchester");
    const created = await app.api("POST", "/api/v1/campaigns", {
      token,
      body: {
        group_id: manchester.id,
        name: "Bridged phonebank",
        calling_hours: ALL_WEEK,
        script: "Hello {first_name|there}",
        bridging: { call_me: true, tel_links: false, caller_id: "020 7946 0000" },
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const id = created.json.id;
    const list = `First name,Last name,Phone\nBridget,Contact,${CONTACT.national}\n`;
    const imported = await app.api("POST", `/api/v1/campaigns/${id}/contacts`, { token, body: list, contentType: "text/csv" });
    assert.equal(imported.status, 200, JSON.stringify(imported.json));
    const live = await app.api("PATCH", `/api/v1/campaigns/${id}`, { token, body: { status: "live" } });
    assert.equal(live.status, 200, JSON.stringify(live.json));
    return id;
  }

  function assertNoNumber(html) {
    for (const form of [CONTACT.e164, CONTACT.national, CONTACT.national.replaceAll(" ", ""), CONTACT.e164.slice(1)]) {
      assert.ok(!html.includes(form), `the caller page shows the contact's number (${form})`);
    }
  }

  browserTest(app, "a caller joins by call me, calls a contact through the trunk and saves the outcome", async ({ newPage }) => {
    const id = await bridgedCampaign();
    const page = await newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await signIn(app, page, CALLER);
    await page.goto(app.url(`/call/${id}`));
    await page.getByLabel("Your phone number").fill("0113 496 0999");
    await page.getByRole("button", { name: "Call me" }).click();
    const message = page.locator("[data-line-message]");
    await eventually(async () => assert.match(await message.innerText(), /Next: Bridget\. Press Call/), { timeoutMs: 15_000 });
    assertNoNumber(await page.content());
    await expectAccessible(page, "the caller page with a phone line");

    await page.getByRole("button", { name: "Call Bridget" }).click();
    await eventually(async () => assert.match(await message.innerText(), /On the call with Bridget/), { timeoutMs: 15_000 });
    await eventually(async () => assert.match(await message.innerText(), /The call with Bridget ended: the other side hung up/), { timeoutMs: 15_000 });
    assertNoNumber(await page.content());

    await page.getByRole("button", { name: "Spoke to them" }).click();
    await eventually(async () => assert.match(await page.locator("body").innerText(), /Saved: Spoke to them/));
    const calls = await app.api("POST", "/api/v1/tokens", { body: { email: ADMIN.email, password: ADMIN.password } });
    const stats = await app.api("GET", `/api/v1/campaigns/${id}/stats`, { token: calls.json.token });
    assert.equal(stats.json.bridged_calls.dialled, 1, JSON.stringify(stats.json));
    assert.equal(stats.json.bridged_calls.answered, 1, JSON.stringify(stats.json));
  });
}
