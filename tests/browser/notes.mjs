// Browser checks of the reader's view of source notes, run by tests/suite/browser.rs:
//   node tests/browser/notes.mjs BASE_URL PATH...
// For each page, at 1280 px and at 375 px: every note marker opens its note with the mouse and
// with the keyboard alone, the note is fully inside the viewport, Escape closes it (narrow),
// margin notes do not overlap each other (wide), print media shows the Notes list and hides the
// margin notes, and no page logs a JavaScript error. Prints one line per problem; exits 1 if any.
// With SCREENSHOT_DIR set, saves a full-page PNG of each page at each width there first.
import { launch } from "./launch.mjs";

const [base, ...paths] = process.argv.slice(2);
const problems = [];
const browser = await launch();

async function inViewport(page, locator, label) {
  const box = await locator.boundingBox();
  const vp = page.viewportSize();
  if (!box) { problems.push(`${label}: note not rendered`); return; }
  if (box.x < 0 || box.x + box.width > vp.width + 0.5) {
    problems.push(`${label}: note outside the viewport (x ${Math.round(box.x)}..${Math.round(box.x + box.width)} of ${vp.width})`);
  }
}

for (const path of paths) {
  for (const [width, height] of [[1280, 900], [375, 740]]) {
    const page = await browser.newPage({ viewport: { width, height } });
    page.on("pageerror", (e) => problems.push(`${path} @${width}: page error ${e.message}`));
    page.on("console", (m) => { if (m.type() === "error") problems.push(`${path} @${width}: console error ${m.text()}`); });
    await page.goto(base + path, { waitUntil: "load" });
    if (process.env.SCREENSHOT_DIR) {
      const slug = path.replace(/^\/|\/$/g, "").replace(/\//g, "_") || "home";
      await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/${slug}-${width}.png`, fullPage: true });
    }
    const refs = await page.locator(".note-ref").all();
    if (refs.length === 0) problems.push(`${path}: no note markers`);
    for (const ref of refs) {
      const id = await ref.getAttribute("aria-describedby");
      const note = page.locator(`#${id}`);
      const label = `${path} @${width} ${id}`;
      await page.mouse.move(1, 1);
      await ref.scrollIntoViewIfNeeded();
      if (width < 1000) {
        if (await note.isVisible()) problems.push(`${label}: visible before it is opened`);
        await ref.click();
        if (!(await note.isVisible())) problems.push(`${label}: tap does not open it`);
        else await inViewport(page, note, label + " (tap)");
        await page.mouse.move(1, 1);
        await page.keyboard.press("Escape");
        if (await note.isVisible()) problems.push(`${label}: Escape does not close it`);
        await ref.focus();
        if (!(await note.isVisible())) problems.push(`${label}: keyboard focus does not open it`);
        else await inViewport(page, note, label + " (focus)");
        await page.keyboard.press("Escape");
      } else {
        await ref.hover();
        if (!(await note.isVisible())) problems.push(`${label}: margin note not shown`);
        else await inViewport(page, note, label);
        await ref.focus();
        if (!(await note.isVisible())) problems.push(`${label}: margin note not shown on focus`);
      }
    }
    if (width >= 1000) {
      const boxes = [];
      for (const n of await page.locator(".sidenote").all()) boxes.push(await n.boundingBox());
      for (let i = 1; i < boxes.length; i++) {
        const a = boxes[i - 1], b = boxes[i];
        if (a && b && b.y < a.y + a.height - 0.5 && b.x < a.x + a.width && a.x < b.x + b.width) {
          problems.push(`${path} @${width}: margin notes ${i} and ${i + 1} overlap`);
        }
      }
      const text = await page.locator(".brief-body").boundingBox();
      if (text && boxes[0] && boxes[0].x < text.x + text.width - 0.5) problems.push(`${path} @${width}: margin note overlaps the text`);
    }
    await page.emulateMedia({ media: "print" });
    if (!(await page.locator(".note-list").isVisible())) problems.push(`${path} @${width}: print hides the Notes list`);
    if (await page.locator(".sidenote").first().isVisible()) problems.push(`${path} @${width}: print shows margin notes`);
    await page.close();
  }
}
await browser.close();
for (const p of problems) console.log(p);
console.log(`${paths.length} page(s) checked, ${problems.length} problem(s)`);
process.exit(problems.length ? 1 : 0);
