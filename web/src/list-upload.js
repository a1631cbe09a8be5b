// The campaign page's list upload. Choosing a file posts its start for a preview: the
// first rows, each column's role (the server's guess, then the organiser's choices, which
// the server checks again on every change) and what would happen to each row. "Import"
// then posts the whole file with the same roles and the progress bar follows the import;
// the report, the contact count, the queue line and "Go live" update without a reload.

const POLL_MS = 500;
/** As much of the file as the server's preview reads (PREVIEW_BYTES in the domain crate). */
const PREVIEW_BYTES = 64 * 1024;

function kilobytes(bytes) {
  return bytes < 1024 * 1024 ? `${Math.ceil(bytes / 1024)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The chosen roles as the server's `map=` reads them: `Header:role,Header:role`. */
function mapParameter(overrides) {
  return [...overrides].map((pair) => `${pair[0]}:${pair[1]}`).join(",");
}

function note(n) {
  return n.column ? `${n.column}: ${n.reason}` : n.reason;
}

/** What the import would do with a previewed row, in words. */
function outcome(row) {
  if (row.rejected) return `Rejected. ${note(row.rejected)}`;
  if (row.warnings.length > 0) return `Imported; ${row.warnings.map(note).join("; ")}`;
  return "Imported";
}

function cell(tag, text) {
  const node = document.createElement(tag);
  node.textContent = text;
  if (tag === "th") node.scope = "col";
  return node;
}

/** "Import 7 rows", or an estimate from the part of a longer file that was read. */
function importLabel(preview, file) {
  if (preview.whole_file) {
    const n = preview.rows_in_sample;
    return `Import ${n} ${n === 1 ? "row" : "rows"}`;
  }
  const estimate = Math.round((preview.rows_in_sample * file.size) / PREVIEW_BYTES);
  return `Import about ${estimate.toLocaleString("en-GB")} rows`;
}

/** Brings the campaign's figures on the page up to date from an import's progress. */
function showContacts(job) {
  const count = document.querySelector("[data-contact-count]");
  if (count) count.textContent = String(job.contacts);
  const queue = document.querySelector("[data-queue-summary]");
  if (queue && job.queue) queue.textContent = job.queue;
  if (job.contacts > 0) {
    const goLive = document.querySelector("[data-go-live]");
    if (goLive) goLive.hidden = false;
    document.querySelector("[data-go-live-blocked]")?.remove();
  }
}

export function setUpUpload() {
  const root = document.querySelector("[data-upload]");
  if (!root) return;
  const form = root.querySelector("[data-upload-form]");
  const input = form.querySelector("input[type=file]");
  const mapping = root.querySelector("[data-mapping]");
  const columnsRow = root.querySelector("[data-mapping-columns]");
  const rowsBody = root.querySelector("[data-mapping-rows]");
  const problem = root.querySelector("[data-mapping-problem]");
  const roleOptions = root.querySelector("[data-role-options]");
  const button = form.querySelector("[data-upload-button]");
  const status = root.querySelector("[data-upload-status]");
  const phase = root.querySelector("[data-upload-phase]");
  const bar = root.querySelector("[data-upload-bar]");
  const detail = root.querySelector("[data-upload-detail]");
  const result = root.querySelector("[data-upload-result]");
  const rejections = root.querySelector("[data-upload-rejections]");
  const warnings = root.querySelector("[data-upload-warnings]");
  const token = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
  const campaign = root.dataset.campaignId;
  const idleLabel = button.textContent;

  let file = null;
  /** Header → role the organiser chose, the latest last (the server applies them in order). */
  let overrides = new Map();
  let selects = [];
  let asked = 0;
  let ready = false;
  let importing = false;

  const show = (text, details = "") => {
    status.hidden = false;
    phase.textContent = text;
    detail.textContent = details;
  };
  const counts = (job) => {
    for (const node of result.querySelectorAll("[data-count]")) node.textContent = String(job[node.dataset.count] ?? 0);
    result.hidden = false;
  };
  const offer = (paragraph, url) => {
    paragraph.hidden = !url;
    if (url) paragraph.querySelector("a").href = url;
  };

  /** One menu per column, made once per file so a menu keeps focus while the rows change. */
  const buildColumns = (columns) => {
    columnsRow.replaceChildren(cell("th", "Line"));
    selects = columns.map((column, index) => {
      const heading = cell("th", "");
      const id = `column-role-${index}`;
      const label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = column.header;
      const select = document.createElement("select");
      select.id = id;
      select.append(roleOptions.content.cloneNode(true));
      select.addEventListener("change", () => {
        overrides.delete(column.header);
        overrides.set(column.header, select.value);
        ask();
      });
      heading.append(label, select);
      columnsRow.append(heading);
      return select;
    });
    columnsRow.append(cell("th", "What happens"));
  };

  const render = (preview) => {
    const headers = preview.columns.map((c) => c.header);
    if (selects.length !== headers.length || selects.some((s, i) => s.previousSibling.textContent !== headers[i])) {
      buildColumns(preview.columns);
    }
    preview.columns.forEach((column, index) => {
      selects[index].value = column.role;
    });
    rowsBody.replaceChildren(
      ...preview.rows.map((row) => {
        const tr = document.createElement("tr");
        tr.append(cell("td", String(row.line)));
        for (let i = 0; i < headers.length; i += 1) tr.append(cell("td", row.cells[i] ?? ""));
        tr.append(cell("td", preview.ok ? outcome(row) : "—"));
        return tr;
      }),
    );
    mapping.hidden = false;
    problem.textContent = preview.problem || "";
    ready = preview.ok;
    button.textContent = importLabel(preview, file);
    button.disabled = !ready || importing;
  };

  /** Asks the server for the preview with the roles chosen so far; only the latest answer counts. */
  const ask = async () => {
    const mine = ++asked;
    ready = false;
    button.disabled = true;
    const map = mapParameter(overrides);
    const query = map ? `?map=${encodeURIComponent(map)}` : "";
    let response;
    let body = {};
    try {
      response = await fetch(`/campaigns/${campaign}/imports/preview${query}`, {
        method: "POST",
        headers: { "X-CSRF-Token": token, "Content-Type": "text/csv" },
        body: file.slice(0, PREVIEW_BYTES),
        credentials: "same-origin",
      });
      body = await response.json().catch(() => ({}));
    } catch {
      if (mine === asked) problem.textContent = "The file could not be checked: check your connection and choose it again.";
      return;
    }
    if (mine !== asked) return;
    if (!response.ok) {
      mapping.hidden = true;
      problem.textContent = body.error || `The file could not be checked (HTTP ${response.status}). Reload the page and try again.`;
      return;
    }
    render(body);
  };

  input.addEventListener("change", () => {
    file = input.files[0] || null;
    overrides = new Map();
    problem.textContent = "";
    if (!file) {
      mapping.hidden = true;
      button.textContent = idleLabel;
      button.disabled = importing;
      return;
    }
    ask();
  });

  const finish = () => {
    importing = false;
    // With no file chosen the button stays usable, to say so.
    button.disabled = file !== null && !ready;
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
      counts(job);
      showContacts(job);
      if (!job.done) {
        show("Importing…", `${job.rows} of about ${upload.estimated_rows} rows read.`);
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        continue;
      }
      bar.max = 1;
      bar.value = 1;
      if (job.status === "done") {
        show("Done: the list is imported.", `${job.rows} rows read; ${job.contacts} contacts on the list now.`);
      } else {
        show(`The import stopped: ${job.error || "unknown reason"}.`, `${job.rows} rows read before it stopped.`);
      }
      offer(rejections, job.rejections_url);
      offer(warnings, job.warnings_url);
      finish();
      return;
    }
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!file) {
      show("Choose a CSV file first.");
      return;
    }
    if (!ready || importing) return;
    importing = true;
    button.disabled = true;
    const map = mapParameter(overrides);
    const sent = file;
    // The next file (a fixed rejected-rows file, say) goes through the mapping step afresh.
    file = null;
    ready = false;
    input.value = "";
    mapping.hidden = true;
    button.textContent = idleLabel;
    result.hidden = true;
    offer(rejections, null);
    offer(warnings, null);
    bar.max = sent.size || 1;
    bar.value = 0;
    bar.setAttribute("aria-label", "Upload progress");
    show("Uploading…", `0 KB of ${kilobytes(sent.size)} sent.`);
    const request = new XMLHttpRequest();
    const roles = map ? `&map=${encodeURIComponent(map)}` : "";
    request.open("POST", `/campaigns/${campaign}/imports?name=${encodeURIComponent(sent.name)}${roles}`);
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
        show(body.error || `The upload was refused (HTTP ${request.status}). Reload the page and try again.`);
        finish();
      }
    });
    request.addEventListener("error", () => {
      show("The upload failed: check your connection and choose the file again.");
      finish();
    });
    request.send(sent);
  });
}
