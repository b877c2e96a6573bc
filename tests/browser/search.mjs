// Search checks, run by tests/suite/browser.rs:  node tests/browser/search.mjs BASE_URL
// Each query must list the expected page among its results (by URL), with no page errors; a
// query with a third entry must rank it first ("first") or above that page, because its title (the
// h1, which Pagefind weighs 7x body text) holds the word while other pages only mention it in
// their text, some more often.
import { launch } from "./launch.mjs";

const [base] = process.argv.slice(2);
const queries = [
  ["稀土", "/briefs/chip-controls-zh/"],
  ["124,000", "/briefs/chip-controls/"],
  ["gallium", "/briefs/rare-earths/", "first"],
  // Titled "SMIC's domestic turn": above the flagship, whose text says "SMIC" twice as often.
  // (Source pages titled "SMIC ..." rank first, which is also right.)
  ["SMIC", "/briefs/smic-domestic-turn/", "/briefs/chip-controls/"],

  ["Boston Consulting Group", "/sources/bcg-2020/"],
];
const problems = [];
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
page.on("pageerror", (e) => problems.push(`page error ${e.message}`));
page.on("console", (m) => { if (m.type() === "error") problems.push(`console error ${m.text()}`); });
await page.goto(base + "/search/", { waitUntil: "load" });
for (const [query, expected, rank] of queries) {
  const input = page.locator(".pagefind-ui__search-input");
  await input.fill("");
  await input.fill(query);
  let urls = [];
  for (let i = 0; i < 50; i++) {
    await page.waitForTimeout(200);
    urls = await page.locator(".pagefind-ui__result-link").evaluateAll((as) => as.map((a) => new URL(a.href).pathname));
    if (urls.some((u) => u.endsWith(expected))) break;
  }
  if (!urls.some((u) => u.endsWith(expected))) problems.push(`"${query}": ${expected} not among ${JSON.stringify(urls)}`);
  else if (rank === "first" && !urls[0].endsWith(expected)) problems.push(`"${query}": ${expected} not ranked first in ${JSON.stringify(urls)}`);
  else if (rank && rank !== "first" && !(urls.findIndex((u) => u.endsWith(expected)) < urls.findIndex((u) => u.endsWith(rank)))) {
    problems.push(`"${query}": ${expected} not ranked above ${rank} in ${JSON.stringify(urls)}`);
  }
  else console.log(`"${query}": found ${expected} (${urls.length} result(s))`);
}
await browser.close();
for (const p of problems) console.log(p);
console.log(`${queries.length} queries, ${problems.length} problem(s)`);
process.exit(problems.length ? 1 : 0);
