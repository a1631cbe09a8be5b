// The browser-test harness: runs the real `barnstorm` binary against a fresh database, a
// real SMTP server that collects every mail it is sent, and Debian's Chromium driven by
// playwright-core. Call `useBarnstorm()` once at the top of a test file; it registers the
// before/after hooks and returns the app handle the tests use.
//
// Environment:
//   BARNSTORM_BIN                 the binary (default: $CARGO_TARGET_DIR or <repo>/target,
//                                 then debug/barnstorm)
//   BARNSTORM_TEST_DATABASE_URL   a postgres:// URL to an admin connection; a fresh database
//                                 is created there per test file and dropped afterwards
//                                 (default: SQLite in a temporary directory)
//   CHROMIUM_PATH                 the browser (default: /usr/bin/chromium)
//   BARNSTORM_TEST_HEADFUL=1      show the browser window (needs a display)

import { after, before, test } from "node:test";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";
import { SMTPServer } from "smtp-server";
import { simpleParser } from "mailparser";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
export const REPO_ROOT = path.resolve(HERE, "../..");
export const ARTIFACTS = path.join(HERE, "artifacts");

/** The demo admin that the harness creates before the server starts. */
export const ADMIN = {
  email: "admin@example.org",
  name: "Ada Admin",
  password: "correct horse battery staple",
};

const STARTUP_TIMEOUT_MS = 20_000;
const COMMAND_TIMEOUT_MS = 120_000;

/** A short random suffix for names that must be unique within a run. */
export function uniqueSuffix() {
  return randomBytes(4).toString("hex");
}

/**
 * Sets up the app for this test file and returns its handle. Fields are filled in by the
 * `before` hook, so read them inside tests only.
 */
export function useBarnstorm({ host = "127.0.0.1", serveArgs = () => [] } = {}) {
  const app = new Barnstorm(host, serveArgs);
  before(() => app.start(), { timeout: COMMAND_TIMEOUT_MS * 3 });
  after(() => app.stop(), { timeout: 30_000 });
  return app;
}

/**
 * A node:test test that gets fresh browser pages. When the test fails, every page it opened
 * is saved as a screenshot (and its HTML) under tests/browser/artifacts/, with the server log.
 */
export function browserTest(app, name, fn, { timeout = 120_000 } = {}) {
  return test(name, { timeout }, async (t) => {
    const session = new BrowserSession(app, name);
    try {
      await fn({ t, newPage: (options) => session.newPage(options) });
      session.assertNoPageErrors();
    } catch (error) {
      await session.saveArtifacts();
      throw error;
    } finally {
      await session.close();
    }
  });
}

/**
 * Polls `check` until it returns without throwing, or rethrows its last error after
 * `timeoutMs`. Stands in for Playwright Test's auto-retrying `expect`.
 */
export async function eventually(check, { timeoutMs = 10_000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}

/** Signs `page` in with a password through the sign-in form and waits for the home page. */
export async function signIn(app, page, { email, password }) {
  await page.goto(app.url("/login"));
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(app.url("/"));
}

/** Waits until `locator`'s visible text contains `expected`, then returns that text. */
/**
 * Runs axe-core on the page as it is now and fails on any critical or serious finding,
 * naming the rule, its help text and the first elements it flagged. The script is evaluated
 * through the DevTools protocol, so the page's Content-Security-Policy is left as it is.
 */
export async function expectAccessible(page, label) {
  await page.evaluate(AXE_SOURCE);
  const { violations } = await page.evaluate(() =>
    globalThis.axe.run(document, { resultTypes: ["violations"] }),
  );
  const grave = violations
    .filter((v) => v.impact === "critical" || v.impact === "serious")
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
  assert.deepEqual(grave, [], `axe on ${label} (${page.url()})`);
}

export async function expectText(locator, expected, { timeoutMs = 10_000 } = {}) {
  let last = "";
  try {
    await locator.first().waitFor({ state: "visible", timeout: timeoutMs });
    return await eventually(
      async () => {
        last = (await locator.allInnerTexts()).join("\n");
        if (!last.includes(expected)) throw new Error("not yet");
        return last;
      },
      { timeoutMs },
    );
  } catch {
    throw new Error(`expected ${locator} to contain ${JSON.stringify(expected)}; it showed ${JSON.stringify(last)}`);
  }
}

class Barnstorm {
  /**
   * `host` is the name the browser and BARNSTORM_BASE_URL use for the server (which
   * listens on 127.0.0.1 either way): "localhost" where a test needs a host name, such
   * as a passkey's relying party id.
   */
  constructor(host, serveArgs) {
    this.host = host;
    /** More `barnstorm serve` flags, asked for when the server starts. */
    this.serveArgs = serveArgs;
    this.mails = [];
    this.mailListeners = new Set();
    this.log = [];
    this.children = new Set();
    liveApps.add(this);
  }

  /** The base URL the server was told about (BARNSTORM_BASE_URL). */
  get baseUrl() {
    return `http://${this.host}:${this.port}`;
  }

  /** An absolute URL on the server. */
  url(pathname) {
    return new URL(pathname, this.baseUrl).toString();
  }

  /**
   * A request to the server's API: `body` is sent as JSON, or as it is with `contentType`.
   * Returns the status and the parsed JSON answer (null when there is none).
   */
  async api(method, pathname, { token, body, contentType } = {}) {
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = contentType || "application/json";
    const payload = body === undefined || contentType ? body : JSON.stringify(body);
    const response = await fetch(this.url(pathname), { method, headers, body: payload });
    const json = await response.json().catch(() => null);
    return { status: response.status, json };
  }

  async start() {
    this.binary =
      process.env.BARNSTORM_BIN ||
      path.join(process.env.CARGO_TARGET_DIR || path.join(REPO_ROOT, "target"), "debug/barnstorm");
    if (!existsSync(this.binary)) {
      throw new Error(`no barnstorm binary at ${this.binary}: run \`cargo build -p barnstorm\` first or set BARNSTORM_BIN`);
    }
    this.tempDir = await mkdtemp(path.join(os.tmpdir(), "barnstorm-browser-"));
    await this.startSmtp();
    this.databaseUrl = await this.createDatabase();
    this.port = await freePort();

    await this.command(["migrate", "--database-url", this.databaseUrl]);
    await this.command(["demo", "--database-url", this.databaseUrl]);
    await this.command(
      ["user", "add", "--email", ADMIN.email, "--name", ADMIN.name, "--role", "admin", "--database-url", this.databaseUrl],
      { stdin: `${ADMIN.password}\n` },
    );

    const serve = ["serve", "--listen", `127.0.0.1:${this.port}`, "--database-url", this.databaseUrl];
    this.server = this.spawn([...serve, ...this.serveArgs()], {
      BARNSTORM_BASE_URL: this.baseUrl,
      BARNSTORM_SMTP_URL: `smtp://127.0.0.1:${this.smtpPort}`,
      BARNSTORM_MAIL_FROM: "barnstorm@example.org",
    });
    this.serverExited = new Promise((resolve) => this.server.once("exit", (code, signal) => resolve({ code, signal })));
    await this.waitForHealth();

    this.browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
      headless: process.env.BARNSTORM_TEST_HEADFUL !== "1",
      args: [
        ...(process.env.BARNSTORM_TEST_HEADFUL === "1" ? [] : ["--headless"]),
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    });
  }

  async stop() {
    await this.browser?.close().catch(() => {});
    if (this.server && this.server.exitCode === null && this.server.signalCode === null) {
      this.server.kill("SIGTERM");
      const stopped = await Promise.race([this.serverExited, deadline(5_000).then(() => null)]);
      if (!stopped) this.server.kill("SIGKILL");
    }
    for (const child of this.children) child.kill("SIGKILL");
    await new Promise((resolve) => (this.smtp ? this.smtp.close(resolve) : resolve()));
    await this.dropDatabase?.().catch((error) => console.error(`could not drop the test database: ${error.message}`));
    if (this.tempDir) await rm(this.tempDir, { recursive: true, force: true });
  }

  /**
   * Resolves with the first mail (received so far or later) for which `predicate` is true.
   * A mail is `{ from, fromName, to: [addresses], subject, text, html, headers,
   * attachments: [{ filename, contentType, content }] }`.
   */
  waitForMail(predicate, timeoutMs = 15_000) {
    const found = this.mails.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const listener = (mail) => {
        if (!predicate(mail)) return;
        clearTimeout(timer);
        this.mailListeners.delete(listener);
        resolve(mail);
      };
      const timer = setTimeout(() => {
        this.mailListeners.delete(listener);
        const seen = this.mails.map((mail) => `  to ${mail.to.join(", ")}: ${mail.subject}`).join("\n") || "  (none)";
        reject(new Error(`no matching mail within ${timeoutMs} ms; mails received:\n${seen}`));
      }, timeoutMs);
      this.mailListeners.add(listener);
    });
  }

  /** The last lines the server printed, for failure reports. */
  serverLog(lines = 200) {
    return this.log.slice(-lines).join("");
  }

  async startSmtp() {
    this.smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      onData: (stream, session, callback) => {
        simpleParser(stream)
          .then((parsed) => {
            const mail = {
              from: session.envelope.mailFrom?.address,
              to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
              fromName: parsed.from?.value?.[0]?.name ?? "",
              subject: parsed.subject ?? "",
              text: parsed.text ?? "",
              html: parsed.html || "",
              headers: parsed.headers,
              attachments: (parsed.attachments ?? []).map((file) => ({
                filename: file.filename,
                contentType: file.contentType,
                content: file.content.toString("utf8"),
              })),
            };
            this.mails.push(mail);
            for (const listener of [...this.mailListeners]) listener(mail);
            callback();
          })
          .catch(callback);
      },
    });
    this.smtp.on("error", (error) => this.log.push(`[smtp] ${error.message}\n`));
    await new Promise((resolve, reject) => {
      this.smtp.server.once("error", reject);
      this.smtp.listen(0, "127.0.0.1", resolve);
    });
    this.smtpPort = this.smtp.server.address().port;
  }

  /** SQLite in the temporary directory, or a fresh database on BARNSTORM_TEST_DATABASE_URL. */
  async createDatabase() {
    const adminUrl = process.env.BARNSTORM_TEST_DATABASE_URL;
    this.backend = adminUrl ? "postgres" : "sqlite";
    if (!adminUrl) return `sqlite:${path.join(this.tempDir, "b.db")}`;
    if (!/^postgres(ql)?:\/\//.test(adminUrl)) {
      throw new Error(`BARNSTORM_TEST_DATABASE_URL must be a postgres:// URL, got ${adminUrl}`);
    }
    const { default: pg } = await import("pg");
    const name = `barnstorm_browser_${uniqueSuffix()}`;
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${name}`);
    } finally {
      await client.end();
    }
    this.dropDatabase = async () => {
      const dropper = new pg.Client({ connectionString: adminUrl });
      await dropper.connect();
      try {
        await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    };
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return url.toString();
  }

  spawn(args, extraEnv = {}) {
    const child = spawn(this.binary, args, {
      cwd: this.tempDir,
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG || "info", NO_COLOR: "1", ...extraEnv },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.children.add(child);
    child.once("exit", () => this.children.delete(child));
    const record = (stream) => (chunk) => {
      this.log.push(`[${args[0]}${stream}] ${chunk}`);
      if (this.log.length > 2_000) this.log.splice(0, 1_000);
    };
    child.stdout.on("data", record(""));
    child.stderr.on("data", record(" stderr"));
    return child;
  }

  /** Runs one CLI subcommand to completion; fails with its output when it exits non-zero. */
  async command(args, { stdin } = {}) {
    const before = this.log.length;
    const child = this.spawn(args);
    child.stdin.end(stdin ?? "");
    const result = await Promise.race([
      new Promise((resolve, reject) => {
        child.once("error", reject);
        child.once("exit", (code, signal) => resolve({ code, signal }));
      }),
      deadline(COMMAND_TIMEOUT_MS).then(() => {
        child.kill("SIGKILL");
        return { timedOut: true };
      }),
    ]);
    if (result.timedOut || result.code !== 0) {
      const output = this.log.slice(before).join("");
      const how = result.timedOut ? `timed out after ${COMMAND_TIMEOUT_MS} ms` : `exited with ${result.code ?? result.signal}`;
      throw new Error(`\`barnstorm ${args.join(" ")}\` ${how}:\n${output}`);
    }
  }

  async waitForHealth() {
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    let lastProblem = "no answer yet";
    while (Date.now() < deadline) {
      if (this.server.exitCode !== null || this.server.signalCode !== null) {
        throw new Error(`barnstorm serve exited (${this.server.exitCode ?? this.server.signalCode}) before it was healthy:\n${this.serverLog()}`);
      }
      try {
        const response = await fetch(this.url("/healthz"), { signal: AbortSignal.timeout(2_000) });
        if (response.status === 200) return;
        lastProblem = `GET /healthz answered ${response.status}`;
      } catch (error) {
        lastProblem = error.cause?.code || error.message;
      }
      await delay(100);
    }
    throw new Error(`barnstorm serve was not healthy within ${STARTUP_TIMEOUT_MS} ms (${lastProblem}):\n${this.serverLog()}`);
  }
}

/** The pages one test opened, each in its own browser context (its own cookies). */
class BrowserSession {
  constructor(app, testName) {
    this.app = app;
    this.testName = testName;
    this.contexts = [];
    this.pages = [];
    this.pageErrors = [];
  }

  /** A page in a fresh, signed-out browser context; `options` go to `browser.newContext`. */
  async newPage(options = {}) {
    const context = await this.app.browser.newContext({ locale: "en-GB", timezoneId: "Europe/London", ...options });
    context.setDefaultTimeout(10_000);
    context.setDefaultNavigationTimeout(15_000);
    this.contexts.push(context);
    const page = await context.newPage();
    this.pages.push(page);
    page.on("pageerror", (error) => this.pageErrors.push(`${page.url()}: ${error.message}`));
    // A Content-Security-Policy violation means a page relies on something the policy
    // refuses (an inline script or style, a foreign origin): fail the test on it.
    page.on("console", (message) => {
      if (message.type() === "error" && message.text().includes("Content Security Policy")) {
        this.pageErrors.push(`${page.url()}: ${message.text()}`);
      }
    });
    return page;
  }

  assertNoPageErrors() {
    if (this.pageErrors.length > 0) {
      throw new Error(`JavaScript errors or Content-Security-Policy violations on the page:\n${this.pageErrors.join("\n")}`);
    }
  }

  async saveArtifacts() {
    const name = this.testName.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "").slice(0, 80).toLowerCase();
    const stem = `${this.app.backend}-${name}`;
    try {
      await mkdir(ARTIFACTS, { recursive: true });
      for (const [index, page] of this.pages.entries()) {
        if (page.isClosed()) continue;
        const file = path.join(ARTIFACTS, `${stem}-page${index + 1}`);
        await page.screenshot({ path: `${file}.png`, fullPage: true, timeout: 5_000 }).catch(() => {});
        await writeFile(`${file}.html`, `<!-- ${page.url()} -->\n${await page.content().catch(() => "")}`);
      }
      await writeFile(path.join(ARTIFACTS, `${stem}-server.log`), this.app.serverLog(2_000));
      console.error(`artifacts saved under ${path.relative(process.cwd(), ARTIFACTS) || "."}/${stem}-*`);
    } catch (error) {
      console.error(`could not save artifacts: ${error.message}`);
    }
  }

  async close() {
    for (const context of this.contexts) await context.close().catch(() => {});
  }
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Like delay(), but does not keep the process alive: for the losing side of a race. */
function deadline(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** A TCP port that was free a moment ago (the kernel's choice). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// A crashed or interrupted test process must not leave a server behind.
const liveApps = new Set();
process.once("exit", () => {
  for (const app of liveApps) for (const child of app.children) child.kill("SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => process.exit(130));
}
