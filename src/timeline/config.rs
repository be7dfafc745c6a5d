//! `REPORT_*`: where `history-report` (and `demo`) put the time line page, and the schedules it
//! draws. Terraform sets them on the report's task definition only, as it sets `WATCH_*` on the
//! watcher's; `REPORT_SCHEDULES` has the very format of `WATCH_SCHEDULES`, read by the same code.

use serde::Deserialize;

use crate::config::settings::{Problems, Setting, Var, field_names, read};
use crate::missed_runs::config::{EnvironmentName, Watched};
use crate::storage::ObjectKey;

/// The key the page goes to when `REPORT_KEY` is unset.
pub const DEFAULT_KEY: &str = "reports/timeline.html";

/// `REPORT_*`: the time line report.
#[derive(Debug, Clone)]
pub struct ReportConfig {
    /// `REPORT_KEY`: the object key of the page, in the export's bucket (or under
    /// `EXPORT_LOCAL_DIR` on the embedded default).
    pub key: ObjectKey,
    /// `REPORT_SCHEDULES`: the entries whose fire times are drawn (the format of
    /// `WATCH_SCHEDULES`); `None` when unset.
    pub schedules: Option<Vec<Watched>>,
    /// `REPORT_ENVIRONMENT`: the environment's name, for the page's title.
    pub environment: Option<String>,
}

impl Default for ReportConfig {
    fn default() -> Self {
        ReportConfig {
            key: ObjectKey::parse(DEFAULT_KEY).expect("the default key is valid"),
            schedules: None,
            environment: None,
        }
    }
}

/// `REPORT_KEY`: a whole key, checked with the rules of every other object key.
impl Setting for ObjectKey {
    fn parse(raw: &str) -> Result<Self, String> {
        ObjectKey::parse(raw).map_err(|why| {
            format!(
                "expected an object key such as {DEFAULT_KEY}, whose every part is a plain name (it {why})"
            )
        })
    }
}

#[derive(Deserialize)]
struct ReportVars {
    #[serde(default)]
    key: Var<ObjectKey>,
    #[serde(default)]
    schedules: Var<Vec<Watched>>,
    #[serde(default)]
    environment: Var<EnvironmentName>,
}

impl ReportConfig {
    /// The names this group reads after `REPORT_`, for the unknown-variable check.
    pub(crate) fn variables() -> &'static [&'static str] {
        field_names::<ReportVars>()
    }

    /// Reads `REPORT_*`, adding every problem to `p`.
    pub(crate) fn from_vars(vars: &[(String, String)], p: &mut Problems) -> Option<ReportConfig> {
        let report: ReportVars = read("REPORT_", vars, p)?;
        Some(ReportConfig {
            key: p.or_default("REPORT_KEY", report.key, ReportConfig::default().key),
            schedules: p.optional("REPORT_SCHEDULES", report.schedules),
            environment: p
                .optional("REPORT_ENVIRONMENT", report.environment)
                .map(|e| e.0),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::config::tests::vars;

    #[test]
    fn the_key_defaults_to_reports_timeline_html_and_is_checked_like_every_key() {
        let config = Config::from_vars(&[]).unwrap();
        assert_eq!(config.report.key.as_str(), "reports/timeline.html");
        let config = Config::from_vars(&vars(&[("REPORT_KEY", "運用/🚚 <時刻表>.html")])).unwrap();
        assert_eq!(config.report.key.as_str(), "運用/🚚 <時刻表>.html");
        for bad in [
            "",
            "reports/",
            "/reports/t.html",
            "a/../t.html",
            "a//t.html",
        ] {
            let problems = Config::from_vars(&vars(&[("REPORT_KEY", bad)])).unwrap_err();
            assert_eq!(problems.variables(), ["REPORT_KEY"], "{bad:?}");
        }
        let problems = Config::from_vars(&vars(&[(
            "REPORT_SCHEDULES",
            r#"{"canary": {"schedule": "cron(0 * * * *)", "grace_minutes": 30}}"#,
        )]))
        .unwrap_err();
        assert_eq!(problems.variables(), ["REPORT_SCHEDULES"]);
        assert!(
            problems.to_string().contains("entry `canary`"),
            "{problems}"
        );
        let problems = Config::from_vars(&vars(&[("REPORT_KEYS", "x.html")])).unwrap_err();
        assert!(
            problems.to_string().contains("did you mean REPORT_KEY?"),
            "{problems}"
        );
    }
}
