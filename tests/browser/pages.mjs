// Every-page check, run by tests/suite/browser.rs:
//   node tests/browser/pages.mjs BASE_URL PATH...
// Loads each page at 320 px wide (the narrowest layout the theme supports) and reports any
// JavaScript error, console error or failed request, and any page whose content is wider than
// the viewport (horizontal scrolling). Prints one line per problem; exits 1 if any.
import { launch } from "./launch.mjs";

const [base, ...paths] = process.argv.slice(2);
const problems = [];
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 320, height: 640 } });
let current = "";
page.on("pageerror", (e) => problems.push(`${current}: page error ${e.message}`));
page.on("console", (m) => { if (m.type() === "error") problems.push(`${current}: console error ${m.text()}`); });
page.on("requestfailed", (r) => problems.push(`${current}: request failed ${r.url()}`));
page.on("response", (r) => { if (r.status() >= 400) problems.push(`${current}: HTTP ${r.status()} for ${r.url()}`); });
for (const path of paths) {
  current = path;
  await page.goto(base + path, { waitUntil: "load" });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 1) problems.push(`${path}: content is ${overflow}px wider than a 320px viewport`);
}
await browser.close();
for (const p of problems) console.log(p);
console.log(`${paths.length} page(s) loaded at 320px, ${problems.length} problem(s)`);
process.exit(problems.length ? 1 : 0);
