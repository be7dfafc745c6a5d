// The independent judge of tests/cron_judge.rs: npm aws-cron-parser (pinned, installed by
// scripts/test.sh through ensure_aws_cron_parser) computes the next fire times of each expression.
// Usage: node aws_cron.cjs PACKAGE_DIR < {"after": ISO, "count": N, "expressions": ["0 10 * * ? *", ...]}
// Prints {"<expression>": ["<ISO>", ...] | {"error": "..."}} as JSON.
"use strict";
// The package builds dates in local time in places; EventBridge's crons are UTC.
process.env.TZ = "UTC";
const path = require("path");
const dir = process.argv[2];
const pkg = require(path.join(dir, "node_modules", "aws-cron-parser", "package.json"));
if (pkg.version !== "1.1.12") {
    throw new Error(`aws-cron-parser ${pkg.version} in ${dir}; the tests are written against 1.1.12`);
}
const parser = require(path.join(dir, "node_modules", "aws-cron-parser"));
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = {};
for (const expression of input.expressions) {
    try {
        const cron = parser.parse(expression);
        const fires = [];
        let from = new Date(input.after);
        while (fires.length < input.count) {
            const next = parser.next(cron, from);
            if (!next) break;
            fires.push(next.toISOString());
            from = next;
        }
        out[expression] = fires;
    } catch (e) {
        out[expression] = { error: String(e.message || e) };
    }
}
process.stdout.write(JSON.stringify(out));
