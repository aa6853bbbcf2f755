// Builds the viewer bundle into ../dcmview/static/ (viewer.js + viewer.css).
// Deterministic: no timestamps, no absolute paths, no source maps in the committed output.
import { build } from "esbuild";

const watch = process.argv.includes("--dev");

await build({
  entryPoints: { viewer: "src/index.ts" },
  outdir: "../dcmview/static",
  bundle: true,
  format: "esm",
  target: ["es2022"],
  minify: !watch,
  sourcemap: false,
  legalComments: "none",
  charset: "utf8",
  logLevel: "warning",
});
