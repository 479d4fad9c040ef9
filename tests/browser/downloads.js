// Downloads every URL given (JSON array in argv[2]) with a real headless Chromium and prints, as
// JSON, the file name the browser chose from Content-Disposition. argv[3], when given, is a JSON
// array of cookies ({name, value, url}) set first. Run by tests/browser.rs.
const { chromium } = require(process.env.PLAYWRIGHT_CORE || "playwright-core");

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  const context = await browser.newContext({ acceptDownloads: true });
  if (process.argv[3]) await context.addCookies(JSON.parse(process.argv[3]));
  const page = await context.newPage();
  const results = [];
  for (const url of JSON.parse(process.argv[2])) {
    const waiting = page.waitForEvent("download", { timeout: 15000 });
    // Navigation is aborted when a download starts; any other navigation error (such as
    // ERR_RESPONSE_HEADERS_MULTIPLE_CONTENT_DISPOSITION) means there will be no download.
    let failed = null;
    await page.goto(url).catch((e) => { failed = e.message; });
    if (failed && !/ERR_ABORTED|Download is starting/.test(failed)) {
      waiting.catch(() => {});
      throw new Error(`${url}: no download: ${failed.split("\n")[0]}`);
    }
    const download = await waiting;
    const path = await download.path();
    const fs = require("fs");
    results.push({ url, name: download.suggestedFilename(), bytes: fs.readFileSync(path).toString("base64") });
  }
  console.log(JSON.stringify(results));
  await browser.close();
})().catch((e) => { console.error(e); process.exit(1); });
