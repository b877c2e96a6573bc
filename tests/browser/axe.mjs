// Accessibility audit with axe-core, run by tests/suite/browser.rs:
//   node tests/browser/axe.mjs BASE_URL PATH...
// Each page in the light and the dark colour scheme; prints every serious or critical violation
// and exits 1 if there is any.
import { launch } from "./launch.mjs";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const [base, ...paths] = process.argv.slice(2);
const browser = await launch();
let problems = 0;
for (const path of paths) {
  for (const colorScheme of ["light", "dark"]) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme });
    await page.goto(base + path, { waitUntil: "load" });
    await page.addScriptTag({ content: axeSource });
    const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ["violations"] }));
    for (const v of result.violations.filter((v) => v.impact === "serious" || v.impact === "critical")) {
      problems += 1;
      console.log(`${path} (${colorScheme}): ${v.impact} ${v.id} on ${v.nodes.length} node(s), e.g. ${v.nodes[0].target.join(" ")}`);
    }
    await page.close();
  }
}
await browser.close();
console.log(`${paths.length} page(s) audited, ${problems} serious or critical violation(s)`);
process.exit(problems ? 1 : 0);
