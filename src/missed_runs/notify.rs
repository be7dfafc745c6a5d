//! The messages on-call reads when a scheduled run was missed (an e-mail, and a chat message),
//! and their delivery to SNS.

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

/// What both messages say about one missed run, in words.
struct Facts {
    environment: String,
    /// `batchbox staging: missed run of export-enqueue at 2026-12-03 15:30 UTC`.
    headline: String,
    opening: String,
    scheduled: String,
    grace: String,
    history: String,
    logs: String,
}

fn facts(missed: &MissedRun, environment: Option<&str>, time_zone: Tz) -> Facts {
    let environment = environment.unwrap_or("unnamed environment").to_owned();
    let scheduled = missed.scheduled_time;
    let deadline = scheduled + chrono::Duration::minutes(i64::from(missed.grace_minutes));
    let local = scheduled
        .with_timezone(&time_zone)
        .format("%Y-%m-%d %H:%M %Z");
    Facts {
        headline: format!(
            "batchbox {environment}: missed run of {} at {} UTC",
            missed.entry,
            scheduled.format("%Y-%m-%d %H:%M")
        ),
        opening: format!(
            "A scheduled run of {} did not succeed within its grace.",
            missed.entry
        ),
        scheduled: format!("{} UTC ({local})", scheduled.format("%Y-%m-%d %H:%M")),
        grace: format!(
            "{} (a success was due by {} UTC)",
            missed.grace_text(),
            deadline.format("%Y-%m-%d %H:%M")
        ),
        history: format!(
            "batch history --batch {} --since {}",
            missed.batch,
            (scheduled - chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ")
        ),
        logs: format!(
            "the environment's log group, streams starting with {}/",
            missed.entry
        ),
        environment,
    }
}

/// The e-mail: a subject and a body in plain words.
pub fn message(
    missed: &MissedRun,
    schedule: Option<&str>,
    environment: Option<&str>,
    time_zone: Tz,
) -> Message {
    let f = facts(missed, environment, time_zone);
    let mut lines = vec![
        f.opening.clone(),
        String::new(),
        format!("Environment:  {}", f.environment),
        format!("Entry:        {}", missed.entry),
        format!("Batch:        {}", missed.batch),
        format!("Scheduled:    {}", f.scheduled),
        format!("Grace:        {}", f.grace),
        format!("What ran:     {}", missed.seen),
    ];
    if let Some(schedule) = schedule {
        lines.push(format!("Schedule:     {schedule}"));
    }
    lines.extend([
        String::new(),
        format!("What to do: {RUNBOOK}."),
        format!("The runs around it: {}", f.history),
        format!("Its logs: {}", f.logs),
    ]);
    Message {
        subject: subject(&f.headline),
        body: lines.join("\n") + "\n",
    }
}

/// The chat message: a custom notification of Amazon Q Developer in chat applications
/// (`tests/judges/chat_custom_notification.schema.json` is its documented format), in the
/// chat's markdown. Every value is the watcher's own text or a name the configuration already
/// checked (entries, batches, environments: letters, digits, `-` and `_`), so none can break
/// the markdown; serde escapes the JSON.
pub fn chat_notification(
    missed: &MissedRun,
    schedule: Option<&str>,
    environment: Option<&str>,
    time_zone: Tz,
) -> serde_json::Value {
    let f = facts(missed, environment, time_zone);
    let mut description = vec![
        f.opening.clone(),
        format!("*Environment:* {}", f.environment),
        format!("*Entry:* {} (batch {})", missed.entry, missed.batch),
        format!("*Scheduled:* {}", f.scheduled),
        format!("*Grace:* {}", f.grace),
        format!("*What ran:* {}", missed.seen),
    ];
    if let Some(schedule) = schedule {
        description.push(format!("*Schedule:* `{schedule}`"));
    }
    let scheduled_time = missed.scheduled_time.to_rfc3339();
    serde_json::json!({
        "version": "1.0",
        "source": "custom",
        "id": format!("batchbox-{}-{}-missed-{}", f.environment, missed.entry, missed.scheduled_time.format("%Y%m%dT%H%MZ")),
        "content": {
            "textType": "client-markdown",
            "title": format!(":warning: {}", f.headline),
            "description": description.join("\n"),
            "nextSteps": [
                format!("Runbook: {RUNBOOK}"),
                format!("The runs around it: `{}`", f.history),
                format!("Its logs: {}", f.logs),
            ],
            "keywords": [f.environment, missed.entry, "missed run"],
        },
        "metadata": {
            "threadId": format!("batchbox-{}-{}", f.environment, missed.entry),
            "summary": f.headline,
            "eventType": "batch-run-missed",
            "additionalContext": {
                "environment": f.environment,
                "entry": missed.entry,
                "batch": missed.batch,
                "scheduledTime": scheduled_time,
                "graceMinutes": missed.grace_minutes.to_string(),
                "whatRan": missed.seen,
            },
        },
    })
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
        self.send(Some(&message.subject), &message.body).await
    }

    /// A chat message: the custom notification as the whole message, with no subject.
    pub async fn publish_chat(&self, notification: &serde_json::Value) -> anyhow::Result<String> {
        self.send(None, &notification.to_string()).await
    }

    async fn send(&self, subject: Option<&str>, body: &str) -> anyhow::Result<String> {
        let sent = self
            .client
            .publish()
            .topic_arn(&self.topic.0)
            .set_subject(subject.map(str::to_owned))
            .message(body)
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
    use chrono::{DateTime, Utc};

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

    /// The documented format, as a JSON Schema (written from AWS's page), judged by the
    /// `jsonschema` crate.
    fn custom_notification_schema() -> jsonschema::Validator {
        let schema: serde_json::Value = serde_json::from_str(include_str!(
            "../../tests/judges/chat_custom_notification.schema.json"
        ))
        .unwrap();
        jsonschema::validator_for(&schema).unwrap()
    }

    #[test]
    fn the_chat_message_is_a_custom_notification_as_aws_documents_it() {
        let schema = custom_notification_schema();
        let shown = chat_notification(
            &missed("export-enqueue"),
            Some("cron(30 2 * * ? *) in America/New_York"),
            Some("staging"),
            chrono_tz::Asia::Tokyo,
        );
        let problems: Vec<String> = schema.iter_errors(&shown).map(|e| e.to_string()).collect();
        assert!(problems.is_empty(), "{problems:#?}\n{shown:#}");
        assert_eq!(
            shown["content"]["title"],
            ":warning: batchbox staging: missed run of export-enqueue at 2026-12-03 15:30 UTC"
        );
        let description = shown["content"]["description"].as_str().unwrap();
        for wanted in [
            "*Environment:* staging",
            "*Scheduled:* 2026-12-03 15:30 UTC (2026-12-04 00:30 JST)",
            "*What ran:* 1 failed",
            "*Schedule:* `cron(30 2 * * ? *) in America/New_York`",
        ] {
            assert!(
                description.contains(wanted),
                "{wanted} not in\n{description}"
            );
        }
        assert_eq!(
            shown["metadata"]["threadId"],
            "batchbox-staging-export-enqueue"
        );
        // Hostile and odd values still make a valid message (serde escapes the JSON).
        let odd = MissedRun {
            seen: "1 failed: \"quoted\" \\ <b>&amp;</b>\n🚚 𠮷".into(),
            ..missed("x")
        };
        let shown = chat_notification(&odd, None, None, chrono_tz::UTC);
        assert!(schema.is_valid(&shown), "{shown:#}");
        let text = shown.to_string();
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            back["metadata"]["additionalContext"]["whatRan"],
            odd.seen.as_str()
        );
    }

    #[test]
    fn the_schema_refuses_what_the_documentation_does_not_allow() {
        let schema = custom_notification_schema();
        let good = chat_notification(&missed("canary"), None, Some("staging"), chrono_tz::UTC);
        assert!(schema.is_valid(&good));
        let mut broken = Vec::new();
        for (pointer, value) in [
            ("/version", serde_json::json!("2.0")),
            ("/source", serde_json::json!("batchbox")),
            ("/content/textType", serde_json::json!("markdown")),
            ("/content/nextSteps", serde_json::json!("one step")),
            (
                "/metadata/additionalContext/graceMinutes",
                serde_json::json!(60),
            ),
        ] {
            let mut bad = good.clone();
            *bad.pointer_mut(pointer).unwrap() = value;
            broken.push(bad);
        }
        let mut no_description = good.clone();
        no_description["content"]
            .as_object_mut()
            .unwrap()
            .remove("description");
        broken.push(no_description);
        let mut unknown = good.clone();
        unknown["content"]["body"] = serde_json::json!("?");
        broken.push(unknown);
        for bad in broken {
            assert!(!schema.is_valid(&bad), "accepted: {bad:#}");
        }
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
