// The caller page's phone line (bridged campaigns): follows the line's state once a second
// so the caller sees "Ringing…", "On the call", how it ended and the outcome proposed, and
// reloads when the keypad moved the line on to another contact. The buttons are plain
// forms and work without this script.

const POLL_MS = 1000;

function show(root, line) {
  root.dataset.stage = line.stage;
  const message = root.querySelector("[data-line-message]");
  if (message && message.textContent !== line.message) message.textContent = line.message;
  const proposed = root.querySelector("[data-line-proposed]");
  const outcome = root.querySelector("[data-line-proposed-outcome]");
  if (proposed && outcome) {
    proposed.hidden = !line.proposed_outcome;
    outcome.textContent = line.proposed_outcome || "";
  }
  for (const button of document.querySelectorAll("[data-outcome]")) {
    button.classList.toggle("proposed", button.value === line.proposed_outcome);
  }
}

export function setUpPhoneLine() {
  const root = document.querySelector("[data-phone-line]");
  if (!root) return;
  const url = root.dataset.lineUrl;
  const lease = root.dataset.lease;
  const poll = async () => {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const body = await response.json();
      if (!body.line) {
        window.location.reload();
        return;
      }
      if (body.line.lease_id && String(body.line.lease_id) !== lease) {
        window.location.reload();
        return;
      }
      show(root, body.line);
    } catch {
      // The next poll tries again.
    }
  };
  window.setInterval(poll, POLL_MS);
}
