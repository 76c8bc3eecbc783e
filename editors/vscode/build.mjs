// Bundles the extension (src/main.ts -> out/main.js) with esbuild; with --tests, bundles each
// test/*.test.ts to out/test/ for node's test runner. --production minifies.
import * as esbuild from "esbuild";
import * as fs from "node:fs";

const production = process.argv.includes("--production");
const tests = process.argv.includes("--tests");

if (tests) {
    fs.rmSync("out/test", { recursive: true, force: true });
    const entryPoints = fs.readdirSync("test").filter((name) => name.endsWith(".test.ts")).map((name) => `test/${name}`);
    await esbuild.build({
        entryPoints,
        outdir: "out/test",
        bundle: true,
        platform: "node",
        format: "cjs",
        target: "node20",
        sourcemap: "inline",
        logLevel: "warning",
    });
} else {
    await esbuild.build({
        entryPoints: ["src/main.ts"],
        outfile: "out/main.js",
        bundle: true,
        platform: "node",
        format: "cjs",
        target: "node20",
        external: ["vscode"],
        minify: production,
        sourcemap: !production,
        logLevel: "warning",
    });
}
