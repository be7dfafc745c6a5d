//! The message on-call reads when a scheduled run was missed, and its delivery to SNS.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::config::TopicArn;
use super::store::MissedRun;

/// SNS Publish API reference, `Subject`: "UTF-8 text with no line breaks or control characters,
/// and less than 100 characters long". Kept ASCII as well: e-mail clients show it as is.
const MAX_SUBJECT_CHARS: usize = 99;

/// Where the runbook is, named the same way in every message.
const RUNBOOK: &str = "docs/operations.md, \"A scheduled run was missed\"";

/// One message: a subject for e-mail and a body in plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub body: String,
}

pub fn message(
    missed: &MissedRun,
    schedule: Option<&str>,
    environment: Option<&str>,
    time_zone: Tz,
) -> Message {
    let environment = environment.unwrap_or("unnamed environment");
    let scheduled = missed.scheduled_time;
    let deadline = scheduled + chrono::Duration::minutes(i64::from(missed.grace_minutes));
    let subject = subject(&format!(
        "batchbox {environment}: missed run of {} at {} UTC",
        missed.entry,
        scheduled.format("%Y-%m-%d %H:%M")
    ));
    let local = |t: DateTime<Utc>| t.with_timezone(&time_zone).format("%Y-%m-%d %H:%M %Z");
    let mut lines = vec![
        format!(
            "A scheduled run of {} did not succeed within its grace.",
            missed.entry
        ),
        String::new(),
        format!("Environment:  {environment}"),
        format!("Entry:        {}", missed.entry),
        format!("Batch:        {}", missed.batch),
        format!(
            "Scheduled:    {} UTC ({})",
            scheduled.format("%Y-%m-%d %H:%M"),
            local(scheduled)
        ),
        format!(
            "Grace:        {} (a success was due by {} UTC)",
            missed.grace_text(),
            deadline.format("%Y-%m-%d %H:%M")
        ),
        format!("What ran:     {}", missed.seen),
    ];
    if let Some(schedule) = schedule {
        lines.push(format!("Schedule:     {schedule}"));
    }
    lines.extend([
        String::new(),
        format!("What to do: {RUNBOOK}."),
        format!(
            "The runs around it: batch history --batch {} --since {}",
            missed.batch,
            (scheduled - chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ")
        ),
        format!(
            "Its logs: the environment's log group, streams starting with {}/",
            missed.entry
        ),
    ]);
    Message {
        subject,
        body: lines.join("\n") + "\n",
    }
}

/// Printable ASCII only, cut below SNS's limit.
fn subject(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(MAX_SUBJECT_CHARS)
        .collect()
}

/// Publishes messages to one SNS topic with the task's credentials (`AWS_ENDPOINT_URL_SNS` or
/// `AWS_ENDPOINT_URL` point it elsewhere, as for every AWS SDK).
pub struct Publisher {
    client: aws_sdk_sns::Client,
    topic: TopicArn,
}

impl Publisher {
    pub async fn new(topic: TopicArn) -> Publisher {
        let shared = aws_config::load_from_env().await;
        Publisher {
            client: aws_sdk_sns::Client::new(&shared),
            topic,
        }
    }

    pub async fn publish(&self, message: &Message) -> anyhow::Result<String> {
        let sent = self
            .client
            .publish()
            .topic_arn(&self.topic.0)
            .subject(&message.subject)
            .message(&message.body)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "could not publish to {}: {}",
                    self.topic.0,
                    aws_sdk_sns::error::DisplayErrorContext(&e)
                )
            })?;
        Ok(sent.message_id.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn missed(batch: &str) -> MissedRun {
        MissedRun {
            entry: batch.into(),
            batch: batch.into(),
            scheduled_time: DateTime::parse_from_rfc3339("2026-12-03T15:30:00Z")
                .unwrap()
                .with_timezone(&Utc),
            grace_minutes: 60,
            detected_at: Utc::now(),
            seen: "1 failed".into(),
            notified_at: None,
        }
    }

    #[test]
    fn the_message_names_batch_environment_times_what_ran_and_the_runbook() {
        let m = message(
            &missed("export-enqueue"),
            Some("cron(30 15 * * ? *)"),
            Some("staging"),
            chrono_tz::Asia::Tokyo,
        );
        assert_eq!(
            m.subject,
            "batchbox staging: missed run of export-enqueue at 2026-12-03 15:30 UTC"
        );
        for wanted in [
            "Environment:  staging",
            "Scheduled:    2026-12-03 15:30 UTC (2026-12-04 00:30 JST)",
            "due by 2026-12-03 16:30 UTC",
            "What ran:     1 failed",
            "Schedule:     cron(30 15 * * ? *)",
            "\"A scheduled run was missed\"",
            "batch history --batch export-enqueue --since 2026-12-03T14:30:00Z",
        ] {
            assert!(m.body.contains(wanted), "{wanted} not in\n{}", m.body);
        }
    }

    #[test]
    fn the_subject_stays_within_what_sns_accepts() {
        let long = "a".repeat(64);
        let m = message(&missed(&long), None, Some(&"e".repeat(64)), chrono_tz::UTC);
        assert!(m.subject.chars().count() < 100, "{}", m.subject);
        let one = MissedRun {
            grace_minutes: 1,
            ..missed("canary")
        };
        let m = message(&one, None, None, chrono_tz::UTC);
        assert!(
            m.body.contains("Grace:        1 minute (a success"),
            "{}",
            m.body
        );
        let odd = message(&missed("x\ny🚚"), None, None, chrono_tz::UTC);
        assert!(
            odd.subject
                .chars()
                .all(|c| c.is_ascii_graphic() || c == ' '),
            "{}",
            odd.subject
        );
    }

    #[test]
    fn the_runbook_shows_the_message_as_the_watcher_writes_it() {
        let m = message(
            &missed("export-enqueue"),
            Some("cron(30 15 * * ? *)"),
            Some("staging"),
            chrono_tz::Asia::Tokyo,
        );
        let shown = format!("Subject: {}\n\n{}", m.subject, m.body);
        let runbook = include_str!("../../docs/operations.md");
        assert!(
            runbook.contains(&format!("```text\n{shown}```")),
            "docs/operations.md, \"A scheduled run was missed\", should show:\n{shown}"
        );
    }
}
