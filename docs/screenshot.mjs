// Retakes docs/screenshot.png (1280x800) and docs/screenshot-phone.png (390x844) from a
// running demo server, signed in as the demo organiser on the North West group page.
// Uses the browser tests' playwright-core (run `npm ci` in tests/browser once):
//   barnstorm serve --demo --listen 127.0.0.1:18181 --database-url sqlite:/tmp/shot/b.db
//   node docs/screenshot.mjs [http://127.0.0.1:18181]
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const out = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(out, "../tests/browser/package.json"));
const { chromium } = require("playwright-core");
const base = process.argv[2] ?? "http://127.0.0.1:18181";
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
});
try {
  for (const [file, viewport] of [
    ["screenshot.png", { width: 1280, height: 800 }],
    ["screenshot-phone.png", { width: 390, height: 844 }],
  ]) {
    const page = await browser.newPage({ viewport });
    await page.goto(`${base}/login?next=/groups/north-west`);
    await page.locator("#email").fill("organiser@example.org");
    await page.locator("#password").fill("barnstorm-demo");
    await Promise.all([page.waitForURL("**/groups/north-west"), page.locator("form[action=\"/login\"] button[type=submit]").click()]);
    await page.screenshot({ path: path.join(out, file) });
    await page.close();
  }
} finally {
  await browser.close();
}
