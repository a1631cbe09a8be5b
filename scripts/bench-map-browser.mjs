// Times the events map page in Debian's Chromium: how long until the first view is drawn,
// the longest task that blocked the page (a "freeze"), and how long each redraw takes as
// the map is panned and zoomed. Run by scripts/bench-map.sh against a running node.
//
//   node scripts/bench-map-browser.mjs http://127.0.0.1:18090 "10,000 events"

import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../tests/browser/package.json"));
const { chromium } = require("playwright-core");

const [base, label = base] = process.argv.slice(2);
if (!base || !/^http:\/\/127\./.test(base)) {
  console.error("usage: bench-map-browser.mjs http://127.x.x.x:PORT [label]");
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.__longTasks.push(entry.duration);
    }).observe({ type: "longtask", buffered: true });
  });
  const started = Date.now();
  await page.goto(`${base}/events`, { waitUntil: "load" });
  const first = await page.evaluate(async () => {
    const result = await window.barnstormMap.ready;
    return { ok: result.ok, readyMs: performance.now(), renders: window.barnstormMap.renders };
  });
  const moves = [
    [53.48, -2.24, 8], [51.51, -0.12, 10], [55.95, -3.19, 7], [52.48, -1.9, 12], [54.5, -3, 6],
  ];
  const redraws = [];
  for (const [lat, lon, zoom] of moves) {
    const ms = await page.evaluate(async ([lat, lon, zoom]) => {
      const map = window.barnstormMap.map;
      const before = window.barnstormMap.renders;
      const t0 = performance.now();
      map.setView([lat, lon], zoom, { animate: false });
      while (window.barnstormMap.renders === before) await new Promise((r) => setTimeout(r, 5));
      return performance.now() - t0;
    }, [lat, lon, zoom]);
    redraws.push(ms);
  }
  const stats = await page.evaluate(() => ({
    longTasks: window.__longTasks,
    markers: document.querySelectorAll(".leaflet-marker-icon").length,
    listed: document.querySelectorAll("#event-list li").length,
    count: document.querySelector("#event-count")?.textContent?.trim() ?? "",
  }));
  const longest = Math.max(0, ...stats.longTasks);
  const blocking = stats.longTasks.reduce((sum, d) => sum + Math.max(0, d - 50), 0);
  console.log(
    `${label}: first view drawn ${first.readyMs.toFixed(0)} ms after navigation (wall ${Date.now() - started} ms incl. redraws); ` +
      `longest task ${longest.toFixed(0)} ms; total blocking ${blocking.toFixed(0)} ms over ${stats.longTasks.length} long tasks; ` +
      `redraws after pan/zoom ${redraws.map((ms) => ms.toFixed(0)).join(", ")} ms (includes the 150 ms debounce); ` +
      `${stats.markers} markers on screen; "${stats.count}"`,
  );
  if (!first.ok) process.exitCode = 1;
} finally {
  await browser.close();
}
