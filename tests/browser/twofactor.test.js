// Passkey sign-in in Chromium, through the DevTools protocol's virtual authenticator: an
// organiser adds a passkey on the account's two-factor page, signs out, signs in with
// their password and then the passkey, and reaches their group's page. A passkey they
// removed is refused even when the browser is made to offer it. The server runs as
// http://localhost (a secure context whose host name can be the relying party id).

import assert from "node:assert/strict";

import { ADMIN, browserTest, eventually, expectText, signIn, useBarnstorm } from "./harness.js";

const app = useBarnstorm({ host: "localhost" });

/** A platform authenticator with user verification, as a laptop's fingerprint reader. */
async function virtualAuthenticator(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });
  const credentials = async () => (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
  return {
    credentials,
    /** Leaves exactly `credential` (or nothing) on the authenticator. */
    async holdOnly(credential) {
      for (const held of await credentials()) {
        await cdp.send("WebAuthn.removeCredential", { authenticatorId, credentialId: held.credentialId });
      }
      if (credential) await cdp.send("WebAuthn.addCredential", { authenticatorId, credential });
    },
  };
}

/** The passkeys listed on the two-factor page, by name (each is in its rename field). */
const passkeyRow = (page, name) => page.locator("tr").filter({ has: page.locator(`input[value="${name}"]`) });

/** Adds a passkey called `name` on the two-factor page and returns the new credential. */
async function addPasskey(page, authenticator, name) {
  const before = new Set((await authenticator.credentials()).map((c) => c.credentialId));
  await page.goto(app.url("/account/two-factor"));
  await page.getByLabel("Passkey name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await passkeyRow(page, name).waitFor();
  const added = (await authenticator.credentials()).filter((c) => !before.has(c.credentialId));
  assert.equal(added.length, 1, "the authenticator made one credential");
  return added[0];
}

/** Standard base64 (as the DevTools protocol gives ids) to base64url (as WebAuthn JSON). */
const base64url = (id) => id.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

browserTest(app, "an organiser adds a passkey, signs in with it and reaches their group; a removed passkey is refused", async ({ newPage }) => {
  const page = await newPage();
  const authenticator = await virtualAuthenticator(page);
  await signIn(app, page, ADMIN);

  // Two passkeys: one to keep and one that is removed again. (An authenticator that holds
  // a passkey of the account is refused a second one, so the first is put aside.)
  const old = await addPasskey(page, authenticator, "old key");
  await expectText(page.locator("[data-two-factor-state]"), "Two-factor sign-in is on.");
  await authenticator.holdOnly(null);
  const laptop = await addPasskey(page, authenticator, "laptop");
  page.once("dialog", (dialog) => dialog.accept());
  await passkeyRow(page, "old key").getByRole("button", { name: "Remove" }).click();
  await expectText(page.getByRole("status"), "Passkey removed");
  assert.equal(await passkeyRow(page, "old key").count(), 0, "the old key is gone from the list");
  assert.equal(await passkeyRow(page, "laptop").count(), 1, "the laptop's stays");

  // Signed out, the password alone is not enough: the second step asks for the passkey.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.goto(app.url("/login"));
  await page.getByLabel("Email", { exact: true }).fill(ADMIN.email);
  await page.getByLabel("Password", { exact: true }).fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "One more step" }).waitFor();

  // The removed passkey, offered by a browser told to allow it, is refused by the server.
  await authenticator.holdOnly(old);
  const optionsPath = "**/login/two-factor/passkey/options";
  await page.route(optionsPath, async (route) => {
    const response = await route.fetch();
    const options = await response.json();
    options.publicKey.allowCredentials = [{ type: "public-key", id: base64url(old.credentialId) }];
    await route.fulfill({ response, json: options });
  });
  const answered = page.waitForResponse((r) => new URL(r.url()).pathname === "/login/two-factor/passkey");
  await page.getByRole("button", { name: "Use a passkey" }).click();
  assert.equal((await answered).status(), 400, "the server refuses the removed passkey's answer");
  await expectText(page.locator("[data-passkey-status]"), "Passkey sign-in failed: the passkey could not be verified");
  await page.unroute(optionsPath);
  assert.match(new URL(page.url()).pathname, /^\/login\/two-factor/, "still at the second step");
  const home = await page.request.get(app.url("/account"), { maxRedirects: 0 });
  assert.notEqual(home.status(), 200, "no session after the removed passkey");

  // The kept passkey signs in, and the organiser reaches a group's page.
  await authenticator.holdOnly(laptop);
  await page.getByRole("button", { name: "Use a passkey" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/login"));
  await page.goto(app.url("/groups/leeds"));
  await page.getByRole("heading", { level: 1, name: /Leeds/ }).waitFor();
  await page.goto(app.url("/account/two-factor"));
  await eventually(async () => assert.doesNotMatch(await passkeyRow(page, "laptop").innerText(), /never/, "the laptop's passkey shows a last use"));
});
