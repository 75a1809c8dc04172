// Minifies widget/src/widget.js (the readable source) into widget/widget.js (what GET /widget.js
// serves and the Lambda package ships). `npm run build:widget` writes it; `--check` only verifies
// that the committed file is the build of the source (tests/browser/test_widget_build.py runs it).
import { readFile, writeFile } from "node:fs/promises";
import { minify } from "terser";

const root = new URL("..", import.meta.url);
const source = await readFile(new URL("widget/src/widget.js", root), "utf8");
const { code } = await minify(source, {
  ecma: 2017,
  compress: { passes: 2 },
  mangle: true,
  format: { comments: /^!/ },
});
const target = new URL("widget/widget.js", root);
const built = code + "\n";

if (process.argv.includes("--check")) {
  const shipped = await readFile(target, "utf8").catch(() => "");
  if (shipped !== built) {
    console.error("widget/widget.js is not the build of widget/src/widget.js: run `npm run build:widget`.");
    process.exit(1);
  }
} else {
  await writeFile(target, built);
}
