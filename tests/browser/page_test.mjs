// Drives genre serve's web page in headless Chromium: upload a clip, check the chart's top genre,
// upload a non-audio file, check the error message, save screenshots.
//
//   node page_test.mjs --url URL --audio CLIP --expect LABEL --bad FILE --screenshot OUT.png
//                      [--browser /usr/bin/chromium]
//
// Prints a JSON summary on stdout. Exit 0: passed; 1: failed (reason on stderr); 77: no browser
// could start (the caller skips).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer from "puppeteer-core";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => {
    if (a.startsWith("--")) pairs.push([a.slice(2), all[i + 1]]);
    return pairs;
  }, []));
const executablePath = args.browser || "/usr/bin/chromium";
const fail = (message) => {
  console.error("page test failed: " + message);
  process.exitCode = 1;
};

const profile = mkdtempSync(join(tmpdir(), "genre-browser-"));
let browser;
try {
  browser = await puppeteer.launch({
    executablePath,
    headless: false,  // the flags below say --headless themselves
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--user-data-dir=" + profile],
    timeout: 60000,
  });
} catch (e) {
  console.error("no browser could start (" + executablePath + "): " + e.message);
  rmSync(profile, { recursive: true, force: true });
  process.exit(77);
}

const summary = {};
try {
  const page = await browser.newPage();
  const consoleErrors = [];
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  await page.setViewport({ width: 900, height: 900 });
  await page.goto(args.url, { waitUntil: "networkidle0" });
  await page.waitForFunction(() => document.getElementById("model").textContent.startsWith("Model "),
                             { timeout: 30000 });

  // 1. A clip: the chart's first bar and the headline name the expected genre.
  const input = await page.$("#file");
  await input.uploadFile(args.audio);
  await page.waitForFunction(() => document.body.dataset.state, { timeout: 120000 });
  summary.state = await page.evaluate(() => document.body.dataset.state);
  summary.top = await page.$eval("#top-genre", (e) => e.textContent);
  summary.bars = await page.$$eval("#chart .bar", (rows) =>
    rows.map((r) => [r.dataset.label, Number(r.dataset.probability)]));
  summary.spectrogram = await page.$eval("#spectrogram", (c) => {
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let lit = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 60) ++lit;
    return { width: c.width, height: c.height, lit_fraction: lit / (d.length / 4) };
  });
  summary.timeline = await page.$eval("#timeline-info", (e) => e.textContent);
  await page.screenshot({ path: args.screenshot, fullPage: true });

  // 2. The same page on a phone-sized screen: nothing wider than the screen.
  // (isMobile would reload the page; a 390 px wide viewport is what the layout sees either way)
  await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 2 });
  await new Promise((r) => setTimeout(r, 300));
  summary.phone_overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - window.innerWidth);
  await page.screenshot({ path: args.screenshot.replace(/\.png$/, "-phone.png"), fullPage: true });
  await page.setViewport({ width: 900, height: 900 });

  // 3. Not audio: an error message in the page.
  await page.evaluate(() => delete document.body.dataset.state);
  await input.uploadFile(args.bad);
  await page.waitForFunction(() => document.body.dataset.state, { timeout: 60000 });
  summary.bad_state = await page.evaluate(() => document.body.dataset.state);
  summary.error = await page.$eval("#error", (e) =>
    getComputedStyle(e).display !== "none" ? e.textContent : "");
  await page.screenshot({ path: args.screenshot.replace(/\.png$/, "-error.png"), fullPage: true });
  summary.page_errors = consoleErrors;

  if (summary.state !== "done") fail("the clip was not classified: state " + summary.state);
  if (summary.top !== args.expect) fail("headline says " + summary.top + ", expected " + args.expect);
  if (!summary.bars.length || summary.bars[0][0] !== args.expect)
    fail("the chart's first bar is " + JSON.stringify(summary.bars[0]));
  if (summary.spectrogram.lit_fraction < 0.05) fail("the spectrogram looks empty");
  if (!/windows of/.test(summary.timeline)) fail("no timeline: " + summary.timeline);
  if (summary.phone_overflow > 0) fail("wider than a phone screen by " + summary.phone_overflow);
  if (summary.bad_state !== "error" || !/not_audio/.test(summary.error))
    fail("no error message for a non-audio file: " + JSON.stringify(summary.error));
  if (consoleErrors.length) fail("script errors: " + consoleErrors.join("; "));
} catch (e) {
  fail(e.stack || String(e));
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(summary));
