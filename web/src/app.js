// Barnstorm's page script: htmx plus a few progressive enhancements.
// Every page works without this file; it only makes interactions smoother.
import htmx from "htmx.org";
import { setUpCaller } from "./caller.js";
import { setUpCampaignEditor } from "./campaign-editor.js";
import { setUpOrganiserPages } from "./dashboard.js";
import { setUpPasskeys } from "./passkeys.js";
import { setUpPhoneLine } from "./phone-line.js";
import { setUpListUploads } from "./suppressions.js";

window.htmx = htmx;

// A form whose submit button carries data-confirm asks before it is sent
// (used for destructive actions such as removing a member).
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  const message = button && button.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// Stop double submissions: once a plain (non-htmx) form is on its way, its
// submit buttons are disabled and marked busy for assistive technology.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (event.defaultPrevented || !(form instanceof HTMLFormElement)) return;
  if (form.hasAttribute("hx-post") || form.hasAttribute("hx-get")) return;
  window.setTimeout(() => {
    for (const button of form.querySelectorAll("button[type=submit], button:not([type])")) {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
    }
  }, 0);
});

// Pages restored from the back/forward cache must not keep disabled buttons.
window.addEventListener("pageshow", () => {
  for (const button of document.querySelectorAll("button[aria-busy=true]")) {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
});

// Flash messages that report success can be dismissed; errors stay put.
function setUpFlashDismiss() {
  for (const flash of document.querySelectorAll(".flash.ok")) {
    if (flash.querySelector(".flash-close")) continue;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "flash-close";
    close.setAttribute("aria-label", "Dismiss message");
    close.textContent = "×";
    close.addEventListener("click", () => flash.remove());
    flash.append(close);
  }
}

function enhance() {
  setUpFlashDismiss();
  setUpCaller();
  setUpCampaignEditor();
  setUpOrganiserPages();
  setUpPasskeys();
  setUpPhoneLine();
  setUpListUploads();
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", enhance);
} else {
  enhance();
}
