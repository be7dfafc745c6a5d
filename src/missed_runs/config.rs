//! `WATCH_*`: what `missed-runs` watches and where it reports, handed over by Terraform.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::catalog::schedule::Schedule;
use crate::catalog::zone::parse_zone;
use crate::config::settings::{Problems, Setting, Var, field_names, read};

/// The most grace the catalog allows (a week), so a typo cannot silence a batch for years.
pub const MAX_GRACE_MINUTES: u32 = 7 * 24 * 60;

/// `WATCH_*`: the missed-run watcher.
#[derive(Debug, Clone, Default)]
pub struct WatchConfig {
    /// `WATCH_SCHEDULES`: the watched entries; `None` when unset (only `missed-runs` needs it).
    pub schedules: Option<Vec<Watched>>,
    /// `WATCH_TOPIC_ARN`: the SNS topic each missed run is published to (unset: logs only).
    pub topic_arn: Option<TopicArn>,
    /// `WATCH_CHAT_TOPIC_ARN`: the SNS topic of the team's chat, which takes each missed run as a
    /// custom notification of Amazon Q Developer in chat applications (unset: no chat).
    pub chat_topic_arn: Option<TopicArn>,
    /// `WATCH_ENVIRONMENT`: the environment's name, for the message (e.g. `staging`).
    pub environment: Option<String>,
}

/// One watched catalog entry: its effective schedule in this environment and its grace.
#[derive(Debug, Clone)]
pub struct Watched {
    /// The catalog entry (the key of `WATCH_SCHEDULES`).
    pub entry: String,
    /// Its batch (`batch`; the entry's name when absent, as for a shorthand entry).
    pub batch: String,
    pub schedule: Schedule,
    pub grace: chrono::Duration,
}

/// `WATCH_SCHEDULES`, keyed by catalog entry: `{"export-enqueue-monthly": {"batch":
/// "export-enqueue", "schedule": "cron(50 15 L * ? *)", "grace_minutes": 60}}`; `batch` may be
/// left out when the entry is named after its batch, `timezone` (the IANA zone EventBridge
/// Scheduler reads the cron in) when it is UTC.
impl Setting for Vec<Watched> {
    fn parse(raw: &str) -> Result<Self, String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Entry {
            batch: Option<String>,
            schedule: String,
            grace_minutes: u32,
            timezone: Option<String>,
        }
        let entries: BTreeMap<String, Entry> = serde_json::from_str(raw).map_err(|e| {
            format!(
                "expected a JSON object such as {{\"canary\": {{\"schedule\": \"cron(0 * * * ? *)\", \"grace_minutes\": 30}}}} ({e})"
            )
        })?;
        entries
            .into_iter()
            .map(|(name, entry)| {
                let batch = entry.batch.unwrap_or_else(|| name.clone());
                if crate::batches::find(&batch).is_none() {
                    return Err(format!("entry `{name}` names no batch of this image (`{batch}`)"));
                }
                let zone = match &entry.timezone {
                    None => chrono_tz::Tz::UTC,
                    Some(zone) => parse_zone(zone).map_err(|why| format!("entry `{name}`: timezone {why}"))?,
                };
                let schedule = Schedule::parse_in(&entry.schedule, zone)
                    .map_err(|why| format!("entry `{name}`: {why}"))?;
                if !(1..=MAX_GRACE_MINUTES).contains(&entry.grace_minutes) {
                    return Err(format!(
                        "entry `{name}`: grace_minutes must be from 1 to {MAX_GRACE_MINUTES}, got {}",
                        entry.grace_minutes
                    ));
                }
                Ok(Watched {
                    entry: name,
                    batch,
                    schedule,
                    grace: chrono::Duration::minutes(i64::from(entry.grace_minutes)),
                })
            })
            .collect()
    }
}

/// An SNS topic ARN: `arn:PARTITION:sns:REGION:ACCOUNT:NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicArn(pub String);

impl Setting for TopicArn {
    fn parse(raw: &str) -> Result<Self, String> {
        let parts: Vec<&str> = raw.split(':').collect();
        let name_ok = |name: &str| {
            // SNS topic names: 1-256 letters, digits, hyphens and underscores (.fifo allowed).
            let base = name.strip_suffix(".fifo").unwrap_or(name);
            (1..=256).contains(&name.len())
                && base
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        let valid = parts.len() == 6
            && parts[0] == "arn"
            && parts[1].starts_with("aws")
            && parts[2] == "sns"
            && !parts[3].is_empty()
            && parts[4].len() == 12
            && parts[4].bytes().all(|b| b.is_ascii_digit())
            && name_ok(parts[5]);
        if valid {
            Ok(TopicArn(raw.to_owned()))
        } else {
            Err(
                "expected an SNS topic ARN such as arn:aws:sns:ap-northeast-1:123456789012:alerts"
                    .into(),
            )
        }
    }
}

/// An environment name for messages: 1-64 letters, digits, `-` and `_`.
#[derive(Debug, Clone)]
pub(crate) struct EnvironmentName(pub(crate) String);

impl Setting for EnvironmentName {
    fn parse(raw: &str) -> Result<Self, String> {
        if (1..=64).contains(&raw.len())
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            Ok(EnvironmentName(raw.to_owned()))
        } else {
            Err("expected 1-64 letters, digits, hyphens or underscores, e.g. staging".into())
        }
    }
}

#[derive(Deserialize)]
struct WatchVars {
    #[serde(default)]
    schedules: Var<Vec<Watched>>,
    #[serde(default)]
    topic_arn: Var<TopicArn>,
    #[serde(default)]
    chat_topic_arn: Var<TopicArn>,
    #[serde(default)]
    environment: Var<EnvironmentName>,
}

impl WatchConfig {
    /// The names this group reads after `WATCH_`, for the unknown-variable check.
    pub(crate) fn variables() -> &'static [&'static str] {
        field_names::<WatchVars>()
    }

    /// Reads `WATCH_*`, adding every problem to `p`.
    pub(crate) fn from_vars(vars: &[(String, String)], p: &mut Problems) -> Option<WatchConfig> {
        let watch: WatchVars = read("WATCH_", vars, p)?;
        Some(WatchConfig {
            schedules: p.optional("WATCH_SCHEDULES", watch.schedules),
            topic_arn: p.optional("WATCH_TOPIC_ARN", watch.topic_arn),
            chat_topic_arn: p.optional("WATCH_CHAT_TOPIC_ARN", watch.chat_topic_arn),
            environment: p
                .optional("WATCH_ENVIRONMENT", watch.environment)
                .map(|e| e.0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_name_the_entry_at_fault() {
        let bad = [
            (
                r#"{"canary": {"schedule": "cron(0 * * * *)", "grace_minutes": 30}}"#,
                "entry `canary`",
            ),
            (
                r#"{"canary": {"schedule": "cron(0 * * * ? *)", "grace_minutes": 0}}"#,
                "from 1 to 10080",
            ),
            (
                r#"{"canary": {"schedule": "cron(0 * * * ? *)", "grace_minutes": 10081}}"#,
                "got 10081",
            ),
            (
                r#"{"no-such-batch": {"schedule": "rate(1 hour)", "grace_minutes": 5}}"#,
                "entry `no-such-batch` names no batch",
            ),
            (
                r#"{"canary": {"schedule": "rate(1 hour)", "grace": 5}}"#,
                "unknown field",
            ),
            (r#"["canary"]"#, "expected a JSON object"),
            (
                r#"{"canary": {"schedule": "cron(0 9 * * ? *)", "grace_minutes": 30, "timezone": "America/NewYork"}}"#,
                "entry `canary`: timezone `America/NewYork` is not an IANA time zone name such as `Asia/Tokyo` or `America/New_York` (did you mean `America/New_York`?)",
            ),
        ];
        for (raw, wanted) in bad {
            let error = <Vec<Watched>>::parse(raw).unwrap_err();
            assert!(error.contains(wanted), "{raw}: {error}");
        }
        let good = <Vec<Watched>>::parse(
            r#"{"canary": {"schedule": "cron(0 9 ? * 2#1 *)", "grace_minutes": 30}, "history-prune": {"schedule": "rate(7 days)", "grace_minutes": 10080}}"#,
        )
        .unwrap();
        assert_eq!(good.len(), 2);
        assert_eq!(good[1].grace, chrono::Duration::days(7));
        assert_eq!(
            good[0].schedule.zone(),
            chrono_tz::Tz::UTC,
            "no timezone: UTC"
        );
        let zoned = <Vec<Watched>>::parse(
            r#"{"canary": {"schedule": "cron(0 9 * * ? *)", "grace_minutes": 30, "timezone": "America/New_York"}}"#,
        )
        .unwrap();
        assert_eq!(zoned[0].schedule.zone(), chrono_tz::America::New_York);
    }

    #[test]
    fn topic_arns_follow_the_arn_format() {
        for good in [
            "arn:aws:sns:ap-northeast-1:123456789012:batchbox-staging-alerts",
            "arn:aws-us-gov:sns:us-gov-west-1:123456789012:a_b",
            "arn:aws:sns:us-east-1:123456789012:x.fifo",
        ] {
            assert!(TopicArn::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "alerts",
            "arn:aws:sqs:ap-northeast-1:123456789012:q",
            "arn:aws:sns:ap-northeast-1:1234:alerts",
            "arn:aws:sns:ap-northeast-1:123456789012:",
            "arn:aws:sns:ap-northeast-1:123456789012:a/b",
            "arn:aws:sns:ap-northeast-1:123456789012:🚚",
        ] {
            assert!(TopicArn::parse(bad).is_err(), "{bad}");
        }
    }
}
