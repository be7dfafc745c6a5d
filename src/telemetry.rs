//! Logs for CloudWatch Logs: one JSON object per line, with the run's `batch` and `run_id`, the
//! fields of every enclosing span and of the event itself at the top level, so a Logs Insights
//! query can say `filter run_id = "…"` without knowing which span recorded what.
//! `LOG_FORMAT=pretty` swaps in tracing-subscriber's human format.
//!
//! The run's own lines (target [`RUN`]) and every ERROR are a contract that alarms, saved queries
//! and on-call read, so they are written whatever `RUST_LOG` says; `RUST_LOG` tunes the rest.
//!
//! The filter is global (a layer in front of the output layer), not a per-layer filter: a
//! per-layer filter remembers its verdict in a thread-local between `enabled` and the event, and
//! `log::log_enabled!` (which sqlx calls after every PostgreSQL statement, through tracing-log's
//! bridge) asks `enabled` for an event that never comes. The stale "disabled" verdict then drops
//! the next event whose callsite skips `enabled` - every `run finished` after a query, with
//! directives such as `batchbox=debug,sqlx=warn` (tokio-rs/tracing#2519). A global filter keeps
//! no such state.

use std::io::Write;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{LogConfig, LogFormat};

/// The target of the run's own lines (`run started`, `run configured`, the lock and stop lines,
/// `run finished`): written whatever `RUST_LOG` says. Only the runtime logs with it.
pub const RUN: &str = "batchbox::run";

/// The target of spans that name what a line is about (an export's lane and job): recorded
/// whatever `RUST_LOG` says, so that an ERROR or WARN line inside them keeps `job_id` and the
/// rest even with `RUST_LOG=warn`. Spans print no lines of their own.
pub const CONTEXT: &str = "batchbox::context";

/// Where log lines go: a batch run logs to stdout (the awslogs driver reads it); commands whose
/// stdout is their answer (`list`, `history`) log to stderr so their output stays parseable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTarget {
    Stdout,
    Stderr,
}

/// Field whose string value is JSON and is embedded as an object (a run's counts), so that
/// Logs Insights sees `counts.deleted` as a number.
const JSON_FIELD: &str = "counts";

/// Installs the global subscriber. `context` is attached to every line of the process: one
/// process is one run, so even a line from a background task of a library carries the run id.
pub fn init(config: LogConfig, target: LogTarget, context: &[(&str, String)]) {
    let filter = ContractFilter {
        tunable: config.filter.0,
    };
    let layer = match config.format {
        LogFormat::Json => {
            let fields = context
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Value::String(v.clone())))
                .collect();
            JsonLayer {
                context: fields,
                target,
            }
            .boxed()
        }
        LogFormat::Pretty => {
            let layer = tracing_subscriber::fmt::layer().with_target(false);
            match target {
                LogTarget::Stdout => layer.with_writer(std::io::stdout as fn() -> _).boxed(),
                LogTarget::Stderr => layer.with_writer(std::io::stderr as fn() -> _).boxed(),
            }
        }
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(layer)
        .try_init()
        .ok();
}

/// `RUST_LOG`, except that the run's own lines and every ERROR always pass.
struct ContractFilter {
    tunable: EnvFilter,
}

impl ContractFilter {
    fn always(metadata: &Metadata<'_>) -> bool {
        metadata.target() == RUN
            || (metadata.is_span() && metadata.target() == CONTEXT)
            || *metadata.level() == Level::ERROR
    }
}

/// A global filter: the `EnvFilter` gets every callback it would get as a layer of its own (span
/// directives such as `[job{tenant_id=7}]=debug` need them).
impl<S: Subscriber> Layer<S> for ContractFilter {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if Self::always(metadata) {
            Interest::always()
        } else {
            Layer::<S>::register_callsite(&self.tunable, metadata)
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        Self::always(metadata) || Layer::<S>::enabled(&self.tunable, metadata, ctx)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // The run's own lines go down to INFO.
        let tunable = Layer::<S>::max_level_hint(&self.tunable).unwrap_or(LevelFilter::TRACE);
        Some(tunable.max(LevelFilter::INFO))
    }

    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        Layer::<S>::on_new_span(&self.tunable, attrs, id, ctx)
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        Layer::<S>::on_record(&self.tunable, id, values, ctx)
    }

    fn on_enter(&self, id: &tracing::span::Id, ctx: Context<'_, S>) {
        Layer::<S>::on_enter(&self.tunable, id, ctx)
    }

    fn on_exit(&self, id: &tracing::span::Id, ctx: Context<'_, S>) {
        Layer::<S>::on_exit(&self.tunable, id, ctx)
    }

    fn on_close(&self, id: tracing::span::Id, ctx: Context<'_, S>) {
        Layer::<S>::on_close(&self.tunable, id, ctx)
    }
}

struct JsonLayer {
    context: Map<String, Value>,
    target: LogTarget,
}

/// A span's recorded fields, kept in the span's extensions.
struct SpanFields(Map<String, Value>);

impl<S> Layer<S> for JsonLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut fields = FieldMap::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields.0));
        }
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        if let Some(span) = ctx.span(id) {
            let mut extensions = span.extensions_mut();
            if let Some(SpanFields(map)) = extensions.get_mut::<SpanFields>() {
                let mut fields = FieldMap(std::mem::take(map));
                values.record(&mut fields);
                *map = fields.0;
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut line = Map::new();
        line.insert(
            "timestamp".into(),
            chrono::Utc::now()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                .into(),
        );
        line.insert("level".into(), meta.level().as_str().into());
        line.insert("message".into(), Value::String(String::new()));
        line.insert("target".into(), meta.target().into());
        line.extend(self.context.clone());
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(SpanFields(map)) = span.extensions().get::<SpanFields>() {
                    line.extend(map.clone());
                }
            }
        }
        let mut fields = FieldMap::default();
        event.record(&mut fields);
        line.extend(fields.0);

        let mut text = Value::Object(line).to_string();
        text.push('\n');
        // One write per line, so lines from concurrent tasks never interleave.
        let _ = match self.target {
            LogTarget::Stdout => std::io::stdout().lock().write_all(text.as_bytes()),
            LogTarget::Stderr => std::io::stderr().lock().write_all(text.as_bytes()),
        };
    }
}

#[derive(Default)]
struct FieldMap(Map<String, Value>);

impl FieldMap {
    fn put(&mut self, field: &Field, value: Value) {
        self.0.insert(field.name().to_owned(), value);
    }
}

impl Visit for FieldMap {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == JSON_FIELD
            && let Ok(parsed @ Value::Object(_)) = serde_json::from_str(value)
        {
            return self.put(field, parsed);
        }
        self.put(field, value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        // The whole cause chain, once, where the error is logged.
        let mut text = value.to_string();
        let mut source = value.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        self.put(field, text.into());
    }
}
