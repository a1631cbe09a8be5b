// Organiser pages of the phonebank: the live dashboard (server-sent "changed" events
// trigger a re-fetch of the stats fragment), the contact-list upload with its progress
// bar, and copying invite links.

const POLL_MS = 500;

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

function kilobytes(bytes) {
  return bytes < 1024 * 1024 ? `${Math.ceil(bytes / 1024)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function setUpUpload() {
  const root = document.querySelector("[data-upload]");
  if (!root) return;
  const form = root.querySelector("[data-upload-form]");
  const status = root.querySelector("[data-upload-status]");
  const phase = root.querySelector("[data-upload-phase]");
  const bar = root.querySelector("[data-upload-bar]");
  const detail = root.querySelector("[data-upload-detail]");
  const result = root.querySelector("[data-upload-result]");
  const rejections = root.querySelector("[data-upload-rejections]");
  const button = form.querySelector("button[type=submit]");
  const token = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";

  const show = (text, details = "") => {
    status.hidden = false;
    phase.textContent = text;
    detail.textContent = details;
  };
  const counts = (job) => {
    for (const cell of result.querySelectorAll("[data-count]")) cell.textContent = String(job[cell.dataset.count] ?? 0);
    result.hidden = false;
  };
  const fail = (text) => {
    show(text);
    button.disabled = false;
  };

  const poll = async (upload) => {
    const expected = Math.max(upload.estimated_rows || 0, 1);
    bar.max = expected;
    bar.value = 0;
    bar.setAttribute("aria-label", "Import progress");
    for (;;) {
      let job;
      try {
        const response = await fetch(upload.progress_url, { cache: "no-store", credentials: "same-origin" });
        job = await response.json();
      } catch {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS * 4));
        continue;
      }
      bar.value = Math.min(job.rows, expected);
      if (!job.done) {
        show("Importing…", `${job.rows} of about ${upload.estimated_rows} rows read.`);
        counts(job);
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        continue;
      }
      bar.max = 1;
      bar.value = 1;
      counts(job);
      if (job.status === "done") {
        show("Done: the list is imported.", `${job.rows} rows read.`);
      } else {
        show(`The import stopped: ${job.error || "unknown reason"}.`, `${job.rows} rows read before it stopped.`);
      }
      if (job.rejections_url) {
        rejections.querySelector("a").href = job.rejections_url;
        rejections.hidden = false;
      }
      button.disabled = false;
      return;
    }
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const file = form.querySelector("input[type=file]").files[0];
    if (!file) {
      fail("Choose a CSV file first.");
      return;
    }
    button.disabled = true;
    result.hidden = true;
    rejections.hidden = true;
    bar.max = file.size || 1;
    bar.value = 0;
    bar.setAttribute("aria-label", "Upload progress");
    show("Uploading…", `0 KB of ${kilobytes(file.size)} sent.`);
    const request = new XMLHttpRequest();
    request.open("POST", `/campaigns/${root.dataset.campaignId}/imports?name=${encodeURIComponent(file.name)}`);
    request.setRequestHeader("X-CSRF-Token", token);
    request.setRequestHeader("Content-Type", "text/csv");
    request.upload.addEventListener("progress", (progress) => {
      if (!progress.lengthComputable) return;
      bar.max = progress.total;
      bar.value = progress.loaded;
      show("Uploading…", `${kilobytes(progress.loaded)} of ${kilobytes(progress.total)} sent.`);
    });
    request.addEventListener("load", () => {
      let body = {};
      try {
        body = JSON.parse(request.responseText);
      } catch {
        // Not JSON: an error page.
      }
      if (request.status === 202 && body.progress_url) {
        show("Uploaded. Importing…");
        poll(body);
      } else {
        fail(body.error || `The upload was refused (HTTP ${request.status}). Reload the page and try again.`);
      }
    });
    request.addEventListener("error", () => fail("The upload failed: check your connection and try again."));
    request.send(file);
  });
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
