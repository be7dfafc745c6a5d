//! Time zones of schedules and the engine that reads them.
//!
//! A catalog entry's cron is read in its `timezone` (an IANA name), else the catalog's
//! `default_timezone`, else UTC. EventBridge scheduled rules (the `rules` engine) read every cron
//! in UTC; EventBridge Scheduler (the `scheduler` engine) reads it in the schedule's
//! `ScheduleExpressionTimezone`. The catalog check refuses a zone other than UTC under the rules
//! engine, as the Terraform of batch_environment does: a cron is never converted silently.

use chrono_tz::Tz;

/// The names that mean UTC, to both engines (the Terraform of batch_environment lists the same).
pub const UTC_NAMES: [&str; 2] = ["UTC", "Etc/UTC"];

/// Whether `name` is one of [`UTC_NAMES`].
pub fn is_utc(name: &str) -> bool {
    UTC_NAMES.contains(&name)
}

/// An IANA time zone name, e.g. `America/New_York`; an unknown one is refused with the closest
/// known name when one is close (`America/NewYork`).
pub fn parse_zone(name: &str) -> Result<Tz, String> {
    if let Ok(zone) = name.parse::<Tz>() {
        return Ok(zone);
    }
    let closest = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|zone| zone.name())
        .map(|known| {
            (
                strsim::jaro_winkler(&name.to_lowercase(), &known.to_lowercase()),
                known,
            )
        })
        .filter(|(score, _)| *score > 0.9)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let hint = closest.map_or(String::new(), |(_, known)| {
        format!(" (did you mean `{known}`?)")
    });
    Err(format!(
        "`{name}` is not an IANA time zone name such as `Asia/Tokyo` or `America/New_York`{hint}"
    ))
}

/// Which AWS service fires an environment's schedules (`schedule_engine` in its tfvars).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// CloudWatch Events (EventBridge) scheduled rules: every cron in UTC. The default.
    #[default]
    Rules,
    /// EventBridge Scheduler: each cron in its entry's time zone.
    Scheduler,
}

impl Engine {
    /// Its name in `schedule_engine`.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Rules => "rules",
            Engine::Scheduler => "scheduler",
        }
    }

    pub fn parse(raw: &str) -> Result<Engine, String> {
        match raw {
            "rules" => Ok(Engine::Rules),
            "scheduler" => Ok(Engine::Scheduler),
            other => Err(format!(
                "schedule_engine `{other}` is neither \"rules\" nor \"scheduler\""
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_names_are_iana_names_and_a_near_miss_gets_a_hint() {
        assert_eq!(
            parse_zone("America/New_York"),
            Ok(chrono_tz::America::New_York)
        );
        assert_eq!(parse_zone("Etc/UTC"), Ok(chrono_tz::Etc::UTC));
        let error = parse_zone("America/NewYork").unwrap_err();
        assert!(error.contains("did you mean `America/New_York`"), "{error}");
        for bad in ["", "Tokyo", "JST+9", "../etc/passwd", "🚚", "𠮷/野家"] {
            let error = parse_zone(bad).unwrap_err();
            assert!(error.contains("not an IANA time zone"), "{bad}: {error}");
        }
    }

    #[test]
    fn only_the_two_utc_names_are_utc() {
        assert!(is_utc("UTC") && is_utc("Etc/UTC"));
        for other in ["Europe/London", "GMT", "utc", "Etc/GMT", ""] {
            assert!(!is_utc(other), "{other}");
        }
    }

    #[test]
    fn engines_are_rules_or_scheduler() {
        assert_eq!(Engine::parse("rules"), Ok(Engine::Rules));
        assert_eq!(Engine::parse("scheduler"), Ok(Engine::Scheduler));
        assert!(Engine::parse("Scheduler").unwrap_err().contains("neither"));
    }
}
