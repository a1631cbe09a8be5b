// The caller's page (/call/{campaign}): survey branching, the callback time, keyboard
// shortcuts, lease heartbeats, the "do not call again" confirmation as a dialog and the
// "edit my last call" offer going away when its minute is up. The page works without it
// (the server checks every answer again and asks to confirm on a page of its own); this
// only makes calling quicker and keeps the contact reserved.

const HEARTBEAT_MS = 30_000;

function isTyping(target) {
  return Boolean(
    target.closest &&
      target.closest("textarea, select, [contenteditable], input:not([type=radio]):not([type=checkbox]):not([type=button]):not([type=submit])"),
  );
}

// Questions with data-show-if appear only when the earlier question they depend on is
// shown and answered with one of data-show-if-values. Conditions only look back, so one
// pass in page order settles every question. Hidden questions' fields are disabled so a
// stale answer is never sent.
function setUpBranching(form) {
  const update = () => {
    for (const question of form.querySelectorAll("[data-show-if]")) {
      const source = question.dataset.showIf;
      const values = (question.dataset.showIfValues || "").split(" ");
      const sourceQuestion = form.querySelector(`[data-question="${source}"]`);
      const chosen = [...form.querySelectorAll(`[name="answers[${source}]"]:checked`)].map((input) => input.value);
      const show = Boolean(sourceQuestion && !sourceQuestion.hidden) && chosen.some((value) => values.includes(value));
      question.hidden = !show;
      for (const field of question.querySelectorAll("input, textarea, select")) field.disabled = !show;
    }
  };
  form.addEventListener("change", update);
  update();
}

// The callback time shows only once "call back later" is chosen (or when it already
// holds a value or an error); choosing that outcome with no time asks for one first.
function setUpCallback(form) {
  const field = form.querySelector("[data-callback-field]");
  if (!field) return;
  const input = field.querySelector("input");
  if (!("keepOpen" in field.dataset)) field.hidden = true;
  form.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("button[data-callback]");
    if (!button || (!field.hidden && input.value)) return;
    event.preventDefault();
    field.hidden = false;
    input.required = true;
    input.focus();
  });
}

function setUpShortcuts(root, form) {
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented || isTyping(event.target)) return;
    if (form.querySelector("dialog[open]")) return;
    if (/^[1-9]$/.test(event.key)) {
      const button = form.querySelector(`button[data-shortcut="${event.key}"]`);
      if (button) {
        event.preventDefault();
        button.click();
      }
    } else if (event.key === "c") {
      event.preventDefault();
      root.querySelector("[data-call-link]")?.focus();
    } else if (event.key === "b") {
      event.preventDefault();
      root.querySelector("[data-break-form]")?.requestSubmit();
    }
  });
}

// Keeps the lease alive while the page is open; says so in words if it was lost.
function setUpHeartbeat(root, form) {
  const url = root.dataset.heartbeatUrl;
  const token = form.querySelector("input[name=csrf]")?.value;
  const warning = root.querySelector("[data-lease-warning]");
  if (!url || !token) return;
  const timer = window.setInterval(async () => {
    try {
      const response = await fetch(url, { method: "POST", headers: { "X-CSRF-Token": token }, credentials: "same-origin" });
      if (response.status === 409) {
        window.clearInterval(timer);
        const body = await response.json().catch(() => ({}));
        if (warning) {
          warning.textContent = `${body.error || "This contact is no longer reserved for you."} Reload the page for the next contact.`;
          warning.hidden = false;
        }
      }
    } catch {
      // Offline for a moment: the next beat tries again.
    }
  }, HEARTBEAT_MS);
  window.addEventListener("pagehide", () => window.clearInterval(timer));
}

// "Do not call again" opens a dialog; only its "Yes" button saves the outcome.
function setUpConfirmation(form) {
  const dialog = form.querySelector("[data-confirm-dialog]");
  if (!dialog || typeof dialog.showModal !== "function") return;
  const yes = dialog.querySelector("[data-confirm-yes]");
  form.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("button[data-confirm]");
    if (!button) return;
    event.preventDefault();
    yes.value = button.value;
    if (dialog.open) dialog.close();
    dialog.showModal();
    yes.focus();
  });
  dialog.querySelector("[data-confirm-cancel]")?.addEventListener("click", (event) => {
    event.preventDefault();
    dialog.close();
  });
  if (dialog.open) {
    // The server asked to confirm (a press without this script): show it as a dialog.
    dialog.close();
    dialog.showModal();
    yes.focus();
  }
}

// The offer to change the last call goes once the server would refuse the change.
function setUpLastCall(root) {
  const offer = root.querySelector("[data-last-call]");
  const seconds = Number(offer?.dataset.secondsLeft);
  if (!offer || !Number.isFinite(seconds)) return;
  window.setTimeout(() => offer.remove(), seconds * 1000);
}

export function setUpCaller() {
  const root = document.querySelector("[data-caller]");
  if (root) setUpLastCall(root);
  const form = root && root.querySelector("[data-outcome-form]");
  if (!form) return;
  setUpConfirmation(form);
  setUpBranching(form);
  setUpCallback(form);
  setUpShortcuts(root, form);
  setUpHeartbeat(root, form);
}
