// Passkeys: adding one on the account's two-factor page and signing in with one at the
// second step. Uses the browser's WebAuthn JSON helpers; where they are missing the
// passkey controls stay hidden and codes still work.

const supported = () =>
  typeof window.PublicKeyCredential !== "undefined" &&
  typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function" &&
  typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function";

function csrfToken() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
  } catch {
    return "";
  }
}

async function postJson(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
    body: body === undefined ? "{}" : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (!response.ok) {
    let message = "Something went wrong. Please try again.";
    try {
      message = (await response.json()).error.message || message;
    } catch {
      // not JSON: keep the general message
    }
    throw new Error(message);
  }
  return response;
}

// The browser's own JSON of a credential, as webauthn-rs reads it: it takes the
// extension results from `clientExtensionResults` (copying them to `extensions` as well
// makes the answer unreadable, a duplicate field).
const answerOf = (credential) => credential.toJSON();

function setUpRegistration(form) {
  const status = form.querySelector("[data-passkey-status]");
  form.hidden = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.textContent = "";
    try {
      const options = await (await postJson("/account/two-factor/passkeys/options")).json();
      const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey);
      const credential = await navigator.credentials.create({ publicKey });
      const name = form.querySelector("input[name=name]").value;
      const done = await postJson("/account/two-factor/passkeys", {
        name,
        credential: answerOf(credential),
      });
      window.location.assign(done.url);
    } catch (error) {
      status.textContent = `Passkey not added: ${error.message}`;
    }
  });
}

function setUpSignIn(box) {
  const status = box.querySelector("[data-passkey-status]");
  box.hidden = false;
  box.querySelector("[data-passkey-sign-in-button]").addEventListener("click", async () => {
    status.textContent = "";
    try {
      const options = await (await postJson("/login/two-factor/passkey/options")).json();
      const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey);
      const credential = await navigator.credentials.get({ publicKey });
      const done = await postJson("/login/two-factor/passkey", { credential: answerOf(credential) });
      window.location.assign(done.url);
    } catch (error) {
      status.textContent = `Passkey sign-in failed: ${error.message}`;
    }
  });
}

export function setUpPasskeys() {
  if (!supported()) {
    return;
  }
  document.querySelectorAll("[data-passkey-register]").forEach(setUpRegistration);
  document.querySelectorAll("[data-passkey-sign-in]").forEach(setUpSignIn);
}
