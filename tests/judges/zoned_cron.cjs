// The independent judge of zoned schedules (tests/it/cron_judge.rs): when an EventBridge Scheduler
// cron read in an IANA time zone runs. Two implementations that are not batchbox's:
//   - npm aws-cron-parser (pinned 1.1.12, installed by scripts/test.sh) gives the cron's wall-clock
//     times, computed on a clock with no zone (UTC, as the package does);
//   - node's ICU time zone data (Intl.DateTimeFormat) maps each wall-clock time to the instants it
//     names in the zone: none (the clocks go forward), one, or two (the clocks go back).
// The rule applied is the one the EventBridge Scheduler User Guide states ("Schedule types",
// "Daylight saving time"): a wall-clock time that does not exist is skipped; one that happens twice
// runs once, read as the first.
// Usage: node zoned_cron.cjs PACKAGE_DIR < {"cases": [{"expression", "zone", "after", "count"}]}
// Prints [[occurrence, ...], ...]: "<ISO instant>", "<ISO instant> once" or "skipped <wall>",
// after `after` until `count` runs (the skipped wall-clock times between them included).
"use strict";
process.env.TZ = "UTC";
const path = require("path");
const dir = process.argv[2];
const pkg = require(path.join(dir, "node_modules", "aws-cron-parser", "package.json"));
if (pkg.version !== "1.1.12") {
    throw new Error(`aws-cron-parser ${pkg.version} in ${dir}; the tests are written against 1.1.12`);
}
const parser = require(path.join(dir, "node_modules", "aws-cron-parser"));

const MINUTE = 60000;
const DAY = 1440 * MINUTE;

// The zone's UTC offset at instant `ms`, in minutes, by ICU.
function offsetAt(ms, zone) {
    const parts = new Intl.DateTimeFormat("en-US", {
        timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", second: "2-digit",
    }).formatToParts(new Date(ms));
    const get = (type) => Number(parts.find((p) => p.type === type).value);
    const wall = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
    return (wall - ms) / MINUTE;
}

// The instants whose wall-clock time in `zone` is `wall` (a wall-clock time written as UTC ms),
// earliest first: every offset the zone has within a day of it is tried.
function instants(wall, zone) {
    const offsets = new Set();
    for (let h = -26; h <= 26; h += 1) {
        offsets.add(offsetAt(wall + h * 60 * MINUTE, zone));
    }
    const found = new Set();
    for (const offset of offsets) {
        const at = wall - offset * MINUTE;
        if (offsetAt(at, zone) === offset) found.add(at);
    }
    return [...found].sort((a, b) => a - b);
}

function occurrences({ expression, zone, after, count }) {
    const cron = parser.parse(expression);
    const afterMs = Date.parse(after);
    const afterWall = afterMs + offsetAt(afterMs, zone) * MINUTE;
    const out = [];
    let runs = 0;
    // A wall-clock time up to a day before `after`'s can still be an instant after it.
    let from = new Date(afterWall - DAY);
    while (runs < count) {
        const next = parser.next(cron, from);
        if (!next) break;
        from = next;
        const wall = next.getTime();
        const found = instants(wall, zone);
        if (found.length === 0) {
            if (wall > afterWall) out.push(`skipped ${new Date(wall).toISOString().slice(0, 16)}`);
            continue;
        }
        if (found[0] <= afterMs) continue;
        const iso = new Date(found[0]).toISOString();
        out.push(found.length > 1 ? `${iso} once` : iso);
        runs += 1;
    }
    return out;
}

const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(input.cases.map(occurrences)));
