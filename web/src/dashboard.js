// Organiser pages of the phonebank: the live dashboard (server-sent "changed" events
// trigger a re-fetch of the stats fragment), the contact-list upload (list-upload.js)
// and copying invite links.

import { setUpUpload } from "./list-upload.js";

function setUpDashboard() {
  const root = document.querySelector("[data-dashboard]");
  if (!root) return;
  const state = document.querySelector("[data-live-state]");
  let busy = false;
  let again = false;
  const refresh = async () => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      const response = await fetch(root.dataset.statsUrl, { cache: "no-store", credentials: "same-origin" });
      if (response.ok) root.innerHTML = await response.text();
    } catch {
      // The next change or reconnect fetches again.
    } finally {
      busy = false;
      if (again) {
        again = false;
        refresh();
      }
    }
  };
  if (!("EventSource" in window)) {
    window.setInterval(refresh, 15_000);
    return;
  }
  const source = new EventSource(root.dataset.eventsUrl);
  let opened = false;
  source.addEventListener("changed", refresh);
  source.addEventListener("open", () => {
    if (state) state.textContent = "Updates live.";
    // After a reconnect, catch up on what changed while away.
    if (opened) refresh();
    opened = true;
  });
  source.addEventListener("error", () => {
    if (state) state.textContent = "Connection lost; reconnecting…";
  });
  window.addEventListener("pagehide", () => source.close());
}

function setUpCopyButtons() {
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", async () => {
      const input = document.getElementById(button.dataset.copy);
      if (!input) return;
      try {
        await navigator.clipboard.writeText(input.value);
      } catch {
        input.select();
        document.execCommand("copy");
      }
      const label = button.textContent;
      button.textContent = "Copied";
      window.setTimeout(() => (button.textContent = label), 2_000);
    });
  }
}

export function setUpOrganiserPages() {
  setUpDashboard();
  setUpUpload();
  setUpCopyButtons();
}
