// Loads pages of a running StatusPage in headless Chromium (Debian's /usr/bin/chromium, driven
// by playwright-core) and reports, per page: the visible text it lacks, axe-core's WCAG
// violations, and a screenshot. Called by the e2e tests (tests/e2e/browser.rs), which assert
// on the report:
//
//   node check.mjs '{"base": "http://127.0.0.1:1234", "out": "/tmp/shots",
//                    "pages": [{"path": "/", "lang": "en", "scheme": "light",
//                               "expect": ["All Systems Operational"], "shot": "index-en.png"}]}'
//
// Prints one JSON report on stdout: {"pages": [{"path", "lang", "scheme", "status",
// "missing": [...], "violations": [{"id", "impact", "help", "targets"}], "shot"}]}.
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = require.resolve("axe-core/axe.min.js");
const plan = JSON.parse(process.argv[2]);
mkdirSync(plan.out, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  // As root on a closed network: no sandbox, no GPU, and none of Chromium's own connections.
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const report = { pages: [] };
try {
  for (const page of plan.pages) {
    const context = await browser.newContext({
      locale: page.lang === "ru" ? "ru-RU" : "en-US",
      extraHTTPHeaders: { "Accept-Language": page.lang === "ru" ? "ru-RU,ru;q=0.9" : "en-US,en;q=0.9" },
      colorScheme: page.scheme || "light",
      viewport: { width: 1200, height: 900 },
      javaScriptEnabled: true,
    });
    // Everything the page loads must come from the app itself.
    const foreign = [];
    context.on("request", (request) => {
      const url = request.url();
      if (!url.startsWith(plan.base) && !url.startsWith("data:")) foreign.push(url);
    });
    const tab = await context.newPage();
    const response = await tab.goto(plan.base + page.path, { waitUntil: "load" });
    const text = await tab.innerText("body");
    const missing = (page.expect || []).filter((wanted) => !text.includes(wanted));
    await tab.addScriptTag({ path: axeSource });
    const results = await tab.evaluate(async () =>
      // eslint-disable-next-line no-undef
      axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] } }),
    );
    const shot = page.shot ? join(plan.out, page.shot) : null;
    if (shot) await tab.screenshot({ path: shot, fullPage: true });
    report.pages.push({
      path: page.path,
      lang: page.lang,
      scheme: page.scheme || "light",
      status: response ? response.status() : 0,
      title: await tab.title(),
      missing,
      foreign,
      violations: results.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        targets: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
      })),
      shot,
    });
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
