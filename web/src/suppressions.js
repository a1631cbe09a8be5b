// "Numbers not called": uploading a do-not-call list, or for site admins a TPS or CTPS
// file, as the raw request body with the page's CSRF header. The server answers with its
// report in words (an HTML fragment), shown under the form; a refusal comes back as the
// API's JSON error, whose message is shown instead.

export function setUpListUploads() {
  const token = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
  for (const root of document.querySelectorAll("[data-list-upload]")) {
    const form = root.querySelector("[data-list-upload-form]");
    const report = root.querySelector("[data-list-report]");
    if (!form || !report || form.dataset.enhanced) continue;
    form.dataset.enhanced = "true";
    const button = form.querySelector("button[type=submit]");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const file = form.querySelector("input[type=file]").files[0];
      if (!file) {
        report.textContent = "Choose a file first.";
        return;
      }
      const params = new URLSearchParams({ name: file.name });
      const list = form.querySelector("select[name=list]");
      if (list) params.set("list", list.value);
      button.disabled = true;
      report.textContent = `Uploading ${file.name}…`;
      try {
        const response = await fetch(`${form.dataset.url}?${params}`, {
          method: "POST",
          headers: { "X-CSRF-Token": token, "Content-Type": "text/csv" },
          body: file,
          credentials: "same-origin",
        });
        const text = await response.text();
        if (response.ok) {
          report.innerHTML = text;
        } else {
          let message = `The upload was refused (HTTP ${response.status}). Reload the page and try again.`;
          try {
            message = JSON.parse(text).error.message || message;
          } catch {
            // Not JSON: an error page; keep the general message.
          }
          report.textContent = `${file.name}: ${message}`;
        }
      } catch {
        report.textContent = "The upload failed: check your connection and try again.";
      }
      button.disabled = false;
    });
  }
}
