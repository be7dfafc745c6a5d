//! Schedules against judges that are not this project's code.
//!
//! - Fire times: the cron engine of `batch schedule` against npm `aws-cron-parser` (pinned 1.1.12,
//!   run with node by tests/judges/aws_cron.cjs; scripts/test.sh installs it), on a corpus that
//!   exercises every rule of AWS's cron reference
//!   (<https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html>). Where
//!   that library is itself wrong, the case is listed with the reason, the test shows that it
//!   still disagrees, and the expected fire times are written from the reference instead.
//! - Accept / reject: `batch schedule --check` (the `Schedule` parser) and the Terraform validation
//!   of terraform/modules/scheduled_batch (its condition, evaluated by `terraform console` for
//!   every expression of the corpus) agree on every expression, except the two rules a regex cannot
//!   see, listed here.
//!
//! Both judges must be present: a missing node, package or terraform fails the test.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use batchbox::catalog::schedule::Schedule;
use chrono::{DateTime, Utc};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Valid crons (the six fields) whose fire times aws-cron-parser computes correctly: every
/// wildcard in every field it allows, names, ranges with increments, lists, `L`, `nL`, `nW`, `#`,
/// years, month ends and leap years (day 29-31 only through `L`, see `JUDGE_IS_WRONG`).
const COMPARED: &[&str] = &[
    // The reference's examples.
    "0 10 * * ? *",
    "15 12 * * ? *",
    "0 18 ? * MON-FRI *",
    "0 8 1 * ? *",
    "0/15 * * * ? *",
    "0/10 * ? * MON-FRI *",
    "0/5 8-17 ? * MON-FRI *",
    "0 9 ? * 2#1 *",
    // Minutes and hours: values, lists, ranges, increments from a value, `*`, a range.
    "1/10 * * * ? *",
    "*/20 3 * * ? *",
    "5,35 */6 * * ? *",
    "10-14 22 * * ? *",
    "50-59/3 23 * * ? *",
    "0 0/6 * * ? *",
    "30 8-20/4 * * ? *",
    "05 07 * * ? *",
    // Day-of-month (within 1-28): values, lists, ranges, increments, L, nW.
    "0 0 1,15 * ? *",
    "0 12 10-12 * ? *",
    "0 6 5/10 * ? *",
    "0 6 1-28/7 * ? *",
    "0 0 L * ? *",
    "30 23 L 2 ? *",
    "0 0 15W * ? *",
    "0 0 1W * ? *",
    "0 0 28W * ? *",
    // Month: numbers, names, lists, ranges, increments.
    "0 8 1 1/3 ? *",
    "0 0 1 JAN/6 ? *",
    "0 0 2 JAN,MAR,NOV-DEC ? *",
    "0 0 3 FEB-AUG/2 ? *",
    "0 0 ? 2 MON *",
    // Day-of-week: numbers, names, lists, ranges, nL, n#k (fifth too).
    "0 0 ? * SUN *",
    "0 0 ? * 1,7 *",
    "0 0 ? * MON-WED,6 *",
    "0 19 ? * SUN-THU *",
    "0 3 ? * MON *",
    "0 0 ? * 6L *",
    "0 0 ? * SUNL *",
    "0 0 ? * 6#3 *",
    "0 0 ? * FRI#3 *",
    "0 0 ? * 5#5 *",
    // Year: values, lists, ranges, increments, the last year.
    "0 0 1 1 ? 2026/2",
    "0 0 1 * ? 2027,2029",
    "0 12 ? * MON 2028-2030",
    "0 0 1 1 ? 2030-2040/5",
    "59 23 L 12 ? 2199",
    // Leap years through L: February's last day.
    "0 0 L 2 ? 2028-2033",
];

/// Where aws-cron-parser 1.1.12 is wrong, the reason, and the fire times AWS's reference gives.
const JUDGE_IS_WRONG: &[(&str, &str, &str, &[&str])] = &[
    (
        "0 0 29 2 ? *",
        "it fires on Feb 29 of years that have none (Date.UTC rolls it over to March 1)",
        "2026-01-01T00:00:00Z",
        &["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"],
    ),
    (
        "0 0 31 * ? *",
        "it fires on day 31 of 30-day months (rolled over to the 1st of the next month)",
        "2026-04-01T00:00:00Z",
        &[
            "2026-05-31T00:00:00Z",
            "2026-07-31T00:00:00Z",
            "2026-08-31T00:00:00Z",
        ],
    ),
    (
        "0 0 1/10 * ? *",
        "the increment reaches day 31, which it fires on in February (rolled over to March 3)",
        "2026-02-21T00:00:00Z",
        &[
            "2026-03-01T00:00:00Z",
            "2026-03-11T00:00:00Z",
            "2026-03-21T00:00:00Z",
        ],
    ),
    (
        "0 0 ? * L *",
        "it reads `L` alone in day-of-week as no day; the reference: the last day of the week, Saturday",
        "2026-11-16T00:00:00Z",
        &[
            "2026-11-21T00:00:00Z",
            "2026-11-28T00:00:00Z",
            "2026-12-05T00:00:00Z",
        ],
    ),
    (
        "0 0 LW * ? *",
        "it does not know `LW`, the month's last weekday",
        "2026-05-01T00:00:00Z",
        &[
            "2026-05-29T00:00:00Z",
            "2026-06-30T00:00:00Z",
            "2026-07-31T00:00:00Z",
        ],
    ),
    (
        "0 0 30W * ? *",
        "it throws in a month without day 30 instead of skipping that month",
        "2026-02-01T00:00:00Z",
        &[
            "2026-03-30T00:00:00Z",
            "2026-04-30T00:00:00Z",
            "2026-05-29T00:00:00Z",
        ],
    ),
];

/// Invalid expressions: each breaks one rule of the reference; both checks refuse them.
const INVALID: &[&str] = &[
    "cron(0 0 * * ?)",
    "cron(0 0 * * ? * *)",
    "cron(0 0 * * * *)",
    "cron(0 0 1 * MON *)",
    "cron(0 0 ? * ? *)",
    "cron(? 0 * * ? *)",
    "cron(0 0 * ? ? *)",
    "cron(0 0 * * ? ?)",
    "cron(60 0 * * ? *)",
    "cron(0 24 * * ? *)",
    "cron(0 0 0 * ? *)",
    "cron(0 0 32 * ? *)",
    "cron(0 0 1 13 ? *)",
    "cron(0 0 ? * 0 *)",
    "cron(0 0 ? * 8 *)",
    "cron(0 0 1 1 ? 1969)",
    "cron(0 0 1 1 ? 2200)",
    "cron(0 0 1 1 ? 2020-2200)",
    "cron(0 0 ? * 3#1,6#3 *)",
    "cron(0 0 ? * 3#6 *)",
    "cron(0 0 ? * 3#0 *)",
    "cron(0 0 ? * MON-FRI/2 *)",
    "cron(0 0 ? * */2 *)",
    "cron(0 0 ? * 2L,3 *)",
    "cron(0 0 ? * LW *)",
    "cron(0 0 L,15 * ? *)",
    "cron(0 0 1-15W * ? *)",
    "cron(0 0 L-2 * ? *)",
    "cron(0 0 32W * ? *)",
    "cron(0 0 ? * 3W *)",
    "cron(0 0 1#2 * ? *)",
    "cron(0 L * * ? *)",
    "cron(0/0 * * * ? *)",
    "cron(0/60 * * * ? *)",
    "cron(0 0/24 * * ? *)",
    "cron(0 0 1 1/13 ? *)",
    "cron(0 0 1 1 ? 2026/230)",
    "cron(0/ * * * ? *)",
    "cron(/5 * * * ? *)",
    "cron(*/5,7 * * * ? *)",
    "cron(0 0 1 jan ? *)",
    "cron(0 0 ? * mon *)",
    "cron(0 0 1 JANUARY ? *)",
    "cron(0,,5 0 * * ? *)",
    "cron(005 0 * * ? *)",
    "cron( 0 0 * * ? *)",
    "cron(0 0 * * ? * )",
    "cron(0\t0 * * ? *)",
    "cron 0 0 * * ? *",
    "0 10 * * ? *",
    "rate(1 hours)",
    "rate(5 minute)",
    "rate(0 minutes)",
    "rate(05 minutes)",
    "rate(5 weeks)",
    "rate(5  minutes)",
];

/// Refused by `batch schedule --check` only: rules a regex cannot express.
const INVALID_BEYOND_TERRAFORM: &[(&str, &str)] = &[
    ("cron(0 0 30 2 ? *)", "never fires (February has no 30th)"),
    ("cron(0 0 31 4,6,9,11 ? *)", "never fires"),
    ("cron(0 17-9 * * ? *)", "a range that runs backwards"),
    ("cron(0 0 ? * FRI-MON *)", "a range that runs backwards"),
    (
        "rate(99999999999999999 days)",
        "an interval too long to compute",
    ),
];

/// Valid expressions beyond the fire-time corpus.
const VALID_ALSO: &[&str] = &[
    "cron(0  10 * * ?   *)",
    "cron(0 0 ? * 2#1 *)",
    "cron(0 0 1 1 ? 1970)",
    "cron(0 0 ? 1-12/1 7 *)",
    "rate(1 minute)",
    "rate(5 minutes)",
    "rate(1 hour)",
    "rate(2 hours)",
    "rate(1 day)",
    "rate(7 days)",
];

fn cron_judge_dir() -> PathBuf {
    std::env::var_os("AWS_CRON_PARSER_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").expect("HOME"))
                .join(".cache/batchbox/aws-cron-parser-1.1.12")
        })
}

/// Runs the judge: for each expression (the six fields), its next `count` fires after `after`.
fn judge(expressions: &[&str], after: &str, count: usize) -> BTreeMap<String, serde_json::Value> {
    let input = serde_json::json!({ "after": after, "count": count, "expressions": expressions });
    serde_json::from_value(run_judge("aws_cron.cjs", &input)).unwrap()
}

/// Runs a judge of tests/judges/ with node on `input` (JSON on its stdin), returning its JSON.
fn run_judge(script: &str, input: &serde_json::Value) -> serde_json::Value {
    let dir = cron_judge_dir();
    assert!(
        dir.join("node_modules/aws-cron-parser/package.json")
            .is_file(),
        "aws-cron-parser is not installed in {} (scripts/test.sh installs it: \
         `source scripts/lib/tools.sh; ensure_aws_cron_parser`)",
        dir.display()
    );
    let mut child = Command::new("node")
        .arg(repo().join("tests/judges").join(script))
        .arg(&dir)
        .env("TZ", "UTC")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node must be installed: the cron judge runs on it");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the judge failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn ours(expression: &str, after: &str, count: usize) -> Vec<String> {
    let after: DateTime<Utc> = after.parse().unwrap();
    Schedule::parse(&format!("cron({expression})"))
        .unwrap_or_else(|e| panic!("{e}"))
        .next_fires(after, count)
        .iter()
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .collect()
}

#[test]
fn fire_times_agree_with_an_independent_aws_cron_implementation() {
    let mut disagreements = Vec::new();
    // A new year's eve, a leap February's end, and an ordinary afternoon.
    for after in [
        "2026-01-01T00:00:00Z",
        "2027-12-31T22:30:00Z",
        "2028-02-27T23:59:00Z",
        "2026-11-20T13:07:00Z",
    ] {
        let judged = judge(COMPARED, after, 15);
        for expression in COMPARED {
            let expected = &judged[*expression];
            let got = ours(expression, after, 15);
            assert!(!got.is_empty(), "cron({expression}) fires after {after}");
            let got = serde_json::json!(got);
            if *expected != got {
                disagreements.push(format!(
                    "cron({expression}) after {after}:\n  aws-cron-parser: {expected}\n  ours:            {got}"
                ));
            }
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

/// The schedules the catalog really has (the month-start export's `L` among them), judged the
/// same way: a schedule added to the catalog is judged without editing this file.
#[test]
fn every_cron_of_the_catalog_fires_when_aws_cron_parser_says() {
    let catalog = batchbox::catalog::read_catalog(&repo().join(batchbox::catalog::CATALOG_PATH))
        .expect("the catalog reads");
    let crons: Vec<String> = catalog
        .entries
        .iter()
        .filter_map(|entry| {
            entry
                .schedule
                .as_deref()?
                .strip_prefix("cron(")?
                .strip_suffix(')')
        })
        .map(str::to_owned)
        .collect();
    assert!(
        crons.iter().any(|c| c.contains(" L ")),
        "the month-start entry is among {crons:?}"
    );
    let crons: Vec<&str> = crons.iter().map(String::as_str).collect();
    for after in ["2026-12-03T17:00:00Z", "2028-02-27T23:59:00Z"] {
        let judged = judge(&crons, after, 6);
        for expression in &crons {
            assert_eq!(
                judged[*expression],
                serde_json::json!(ours(expression, after, 6)),
                "cron({expression}) after {after}"
            );
        }
    }
}

/// Crons read in a time zone (EventBridge Scheduler), around changes of the clocks: each case is
/// (cron, zone, after, runs). Spring and autumn in New York and Berlin; Lord Howe Island, whose
/// clocks move by 30 minutes; Santiago, whose clocks skip midnight; Tokyo, which has no daylight
/// time; and the catalog's own month-start export written in Tokyo time.
const ZONED: &[(&str, &str, &str, usize)] = &[
    (
        "30 2 * * ? *",
        "America/New_York",
        "2027-03-12T00:00:00Z",
        4,
    ),
    (
        "0/30 0-3 * * ? *",
        "America/New_York",
        "2027-03-14T04:00:00Z",
        8,
    ),
    (
        "30 1 * * ? *",
        "America/New_York",
        "2026-10-31T00:00:00Z",
        3,
    ),
    (
        "0/20 1 * * ? *",
        "America/New_York",
        "2026-11-01T04:50:00Z",
        4,
    ),
    (
        "30 1 * * ? *",
        "America/New_York",
        "2026-11-01T06:00:00Z",
        2,
    ),
    (
        "0 9 ? * FRI *",
        "America/New_York",
        "2027-03-01T00:00:00Z",
        4,
    ),
    ("15 2 * * ? *", "Europe/Berlin", "2027-03-27T00:00:00Z", 3),
    ("30 2 ? * SUN *", "Europe/Berlin", "2026-10-20T00:00:00Z", 3),
    (
        "15 2 * * ? *",
        "Australia/Lord_Howe",
        "2026-10-03T00:00:00Z",
        3,
    ),
    (
        "45 1 * * ? *",
        "Australia/Lord_Howe",
        "2027-04-02T00:00:00Z",
        3,
    ),
    (
        "30 0 * * ? *",
        "America/Santiago",
        "2026-09-04T00:00:00Z",
        3,
    ),
    ("50 0 1 * ? *", "Asia/Tokyo", "2026-12-03T00:00:00Z", 3),
    ("0 0 L * ? *", "Pacific/Auckland", "2027-03-30T00:00:00Z", 3),
];

/// What `Schedule` says happens: the same notation as tests/judges/zoned_cron.cjs.
fn ours_zoned(expression: &str, zone: &str, after: &str, count: usize) -> Vec<String> {
    use batchbox::catalog::schedule::Occurrence;
    let zone = batchbox::catalog::zone::parse_zone(zone).unwrap();
    Schedule::parse_in(&format!("cron({expression})"), zone)
        .unwrap_or_else(|e| panic!("{e}"))
        .occurrences(after.parse().unwrap(), count)
        .iter()
        .map(|o| match o {
            Occurrence::Runs { at, repeated } => {
                let iso = at.format("%Y-%m-%dT%H:%M:%S%.3fZ");
                if *repeated {
                    format!("{iso} once")
                } else {
                    iso.to_string()
                }
            }
            Occurrence::Skipped { wall } => format!("skipped {}", wall.format("%Y-%m-%dT%H:%M")),
        })
        .collect()
}

#[test]
fn zoned_crons_run_when_an_independent_time_zone_implementation_says() {
    let cases: Vec<serde_json::Value> = ZONED
        .iter()
        .map(|(expression, zone, after, count)| {
            serde_json::json!({"expression": expression, "zone": zone, "after": after, "count": count})
        })
        .collect();
    let judged = run_judge("zoned_cron.cjs", &serde_json::json!({ "cases": cases }));
    let mut disagreements = Vec::new();
    for ((expression, zone, after, count), expected) in ZONED.iter().zip(judged.as_array().unwrap())
    {
        let got = serde_json::json!(ours_zoned(expression, zone, after, *count));
        if *expected != got {
            disagreements.push(format!(
                "cron({expression}) in {zone} after {after}:\n  judge: {expected}\n  ours:  {got}"
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    // The missed-runs watcher expects a run at exactly the judged instants, none where the
    // clocks skip the time, one where the time happens twice.
    for ((expression, zone, after, count), expected) in ZONED.iter().zip(judged.as_array().unwrap())
    {
        let runs: Vec<String> = expected
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|o| o.as_str())
            .filter(|o| !o.starts_with("skipped"))
            .map(|o| o.trim_end_matches(" once").to_owned())
            .collect();
        let schedule = Schedule::parse_in(
            &format!("cron({expression})"),
            batchbox::catalog::zone::parse_zone(zone).unwrap(),
        )
        .unwrap();
        let last: DateTime<Utc> = runs.last().unwrap().parse().unwrap();
        let watched: Vec<String> = batchbox::missed_runs::judge::expected_runs(
            &schedule,
            chrono::Duration::minutes(1),
            after.parse().unwrap(),
            last + chrono::Duration::minutes(1),
            *count + 1,
        )
        .iter()
        .map(|e| e.fire.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .collect();
        assert_eq!(
            watched, runs,
            "the watcher's fire times of cron({expression}) in {zone} after {after}"
        );
    }
    // The corpus reaches every case the rule distinguishes.
    let all = judged.to_string();
    for wanted in ["skipped", " once"] {
        assert!(all.contains(wanted), "no `{wanted}` among {all}");
    }
}

#[test]
fn where_the_independent_implementation_is_wrong_the_reference_decides() {
    for (expression, reason, after, reference) in JUDGE_IS_WRONG {
        let judged = &judge(&[expression], after, reference.len())[*expression];
        // As the judge and `ours` write times: with milliseconds.
        let reference: Vec<String> = reference
            .iter()
            .map(|t| {
                t.parse::<DateTime<Utc>>()
                    .unwrap()
                    .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                    .to_string()
            })
            .collect();
        let reference = serde_json::json!(reference);
        assert_ne!(
            *judged, reference,
            "aws-cron-parser now gets cron({expression}) right ({reason}): move it to COMPARED"
        );
        assert_eq!(
            serde_json::json!(ours(expression, after, reference.as_array().unwrap().len())),
            reference,
            "cron({expression}) after {after}"
        );
    }
}

/// Evaluates the Terraform validation of `schedule_expression` (its condition, as written in the
/// module) for each expression, with `terraform console`.
fn terraform_accepts(expressions: &[&str]) -> Vec<bool> {
    let variables =
        std::fs::read_to_string(repo().join("terraform/modules/scheduled_batch/variables.tf"))
            .unwrap();
    let block = &variables[variables
        .find("variable \"schedule_expression\"")
        .expect("the schedule_expression variable")..];
    let start = block.find("condition =").expect("its validation") + "condition =".len();
    let end = start
        + block[start..]
            .find("\n    error_message")
            .expect("the validation's error_message");
    let condition = &block[start..end];
    assert!(condition.contains("var.schedule_expression"));
    let condition = condition.replace("var.schedule_expression", "expression");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.tf"),
        format!(
            "locals {{\n  corpus = {}\n  verdicts = [for expression in local.corpus : {condition}]\n}}\n",
            serde_json::to_string(expressions).unwrap()
        ),
    )
    .unwrap();
    console(dir.path(), "jsonencode(local.verdicts)")
}

fn console(dir: &Path, expression: &str) -> Vec<bool> {
    let mut child = Command::new("terraform")
        .arg("console")
        .current_dir(dir)
        .env("TF_IN_AUTOMATION", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("terraform must be installed: the module's validation is evaluated with it");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{expression}\n").as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "terraform console failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: String =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    serde_json::from_str(&json).unwrap()
}

#[test]
fn the_rust_check_and_the_terraform_validation_accept_and_refuse_the_same_expressions() {
    let mut valid: Vec<String> = COMPARED
        .iter()
        .chain(JUDGE_IS_WRONG.iter().map(|(e, ..)| e))
        .map(|e| format!("cron({e})"))
        .collect();
    valid.extend(VALID_ALSO.iter().map(|e| e.to_string()));
    let mut corpus: Vec<&str> = valid.iter().map(String::as_str).collect();
    corpus.extend(INVALID);
    let terraform = terraform_accepts(&corpus);
    let mut wrong = Vec::new();
    for (expression, terraform) in corpus.iter().zip(terraform) {
        let should = valid.iter().any(|v| v == expression);
        let rust = Schedule::parse(expression);
        if rust.is_ok() != should {
            wrong.push(format!("batch schedule --check: {expression} -> {rust:?}"));
        }
        if terraform != should {
            wrong.push(format!(
                "terraform validation: {expression} -> {}",
                if terraform { "accepted" } else { "refused" }
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "expected valid: {}\n{}",
        valid.len(),
        wrong.join("\n")
    );

    // What only the Rust check sees: it refuses, the regex lets through; CI runs the former.
    let beyond: Vec<&str> = INVALID_BEYOND_TERRAFORM.iter().map(|(e, _)| *e).collect();
    for ((expression, reason), terraform) in INVALID_BEYOND_TERRAFORM
        .iter()
        .zip(terraform_accepts(&beyond))
    {
        assert!(
            Schedule::parse(expression).is_err(),
            "{expression}: {reason}"
        );
        assert!(
            terraform,
            "{expression} is now refused by Terraform too: move it to INVALID"
        );
    }
}
