// Retakes the pictures of docs/organiser-guide.md from a running demo server, as the demo
// organiser, host and caller would see the pages (1280x800, the caller's on a 390x844
// phone). Uses the browser tests' playwright-core (run `npm ci` in tests/browser once):
//   barnstorm serve --demo --listen 127.0.0.1:18181 --database-url sqlite:/tmp/guide/b.db
//   node docs/guide/screenshots.mjs [http://127.0.0.1:18181]
// Use a fresh database each time: the script creates a phone bank and uploads a list.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const out = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(out, "../../tests/browser/package.json"));
const { chromium } = require("playwright-core");
const base = process.argv[2] ?? "http://127.0.0.1:18181";
const messyExport = readFileSync(path.join(out, "../../tests/fixtures/messy-export.csv"));
const desktop = { width: 1280, height: 800 };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
});

async function signedIn(email, options = { viewport: desktop }) {
  const page = await browser.newPage(options);
  await page.goto(`${base}/login`);
  await page.locator("#email").fill(email);
  await page.locator("#password").fill("barnstorm-demo");
  await Promise.all([page.waitForURL((url) => !url.pathname.startsWith("/login")), page.locator('form[action="/login"] button[type=submit]').click()]);
  return page;
}

/** Scrolls `locator` to the top of the window and saves the window as `file`. */
async function shoot(page, file, locator) {
  if (locator) {
    await locator.evaluate((element) => element.scrollIntoView({ block: "start" }));
  }
  await page.screenshot({ path: path.join(out, file) });
  console.log(`wrote docs/guide/${file}`);
}

try {
  const organiser = await signedIn("northwest@example.org");

  // Run a phone bank: the editor, then a list through the mapping step.
  await organiser.goto(`${base}/groups/manchester/campaigns/new`);
  await organiser.getByLabel("Name", { exact: true }).fill("Manchester: will you vote?");
  await organiser.getByLabel("Briefing for callers").fill("Thank them for their time. Never argue; note what would change their mind.");
  await shoot(organiser, "editor-script.png");
  await shoot(organiser, "editor-survey.png", organiser.getByText("Question 2", { exact: true }));
  await organiser.getByRole("button", { name: "Create draft" }).click();
  await organiser.getByRole("heading", { level: 1, name: "Manchester: will you vote?" }).waitFor();
  await organiser.getByLabel("CSV file").setInputFiles({ name: "members-export.csv", mimeType: "text/csv", buffer: messyExport });
  const upload = organiser.locator("#upload");
  const home = organiser.getByLabel("Tel (home)", { exact: true });
  await home.waitFor();
  await home.selectOption({ label: "Phone number" });
  await organiser.getByLabel("Mobile provider", { exact: true }).selectOption({ label: "Ignore" });
  const importRows = upload.getByRole("button", { name: "Import 7 rows" });
  await organiser.waitForFunction(() => {
    const mapping = document.querySelector("[data-mapping]")?.textContent ?? "";
    const problem = document.querySelector("[data-mapping-problem]")?.textContent.trim();
    return mapping.includes("Post code: not a UK postcode") && !mapping.includes("rung instead") && !problem;
  });
  await shoot(organiser, "upload-mapping.png", upload);
  await importRows.click();
  await upload.getByText("Done: the list is imported").waitFor({ timeout: 30_000 });
  await shoot(organiser, "upload-report.png", upload);

  await organiser.goto(`${base}/campaigns/1/dashboard`);
  await organiser.getByRole("heading", { name: "Outcomes" }).waitFor();
  await shoot(organiser, "dashboard.png");

  // Host an event: the event's own page is the host's dashboard.
  await organiser.goto(`${base}/events/301`);
  await shoot(organiser, "event-dashboard.png");
  await organiser.goto(`${base}/events/301/outreach`);
  await shoot(organiser, "outreach.png");

  // Plan from a meetup.
  await organiser.goto(`${base}/events/301/meetup`);
  await shoot(organiser, "meetup-planning.png");

  const host = await signedIn("leeds.host@example.org");
  await host.goto(`${base}/events/new`);
  await shoot(host, "event-form.png");

  const caller = await signedIn("caller@example.org", { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await caller.goto(`${base}/call/1`);
  await caller.getByRole("group", { name: /Reached|reached/ }).first().waitFor();
  await shoot(caller, "caller-phone.png");
} finally {
  await browser.close();
}
