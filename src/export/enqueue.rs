//! Finding what to export: one job per (tenant, form) with records in a period.

use chrono::Utc;
use chrono_tz::Tz;

use super::config::{AllowEntry, ExportConfig};
use super::queue::{self, NewJob, Requeue};
use crate::calendar::Period;
use crate::db::Db;
use crate::on_pool;
use crate::runtime::counts::Counts;

/// How to enqueue.
#[derive(Debug, Clone)]
pub struct EnqueuePlan {
    pub periods: Vec<Period>,
    pub time_zone: Tz,
    pub allowlist: Vec<AllowEntry>,
    pub max_attempts: u32,
    pub requeue_failed: bool,
}

impl EnqueuePlan {
    /// The plan for `periods` (local to `time_zone`) with this run's export settings.
    pub fn new(
        export: &ExportConfig,
        time_zone: Tz,
        periods: Vec<Period>,
        requeue_failed: bool,
    ) -> EnqueuePlan {
        EnqueuePlan {
            periods,
            time_zone,
            allowlist: export.tenant_allowlist.clone(),
            max_attempts: export.max_attempts,
            requeue_failed,
        }
    }
}

#[derive(sqlx::FromRow)]
struct Target {
    tenant_id: i64,
    form_id: i64,
    slug: String,
    rollout_group: String,
    records: i64,
}

/// Inserts the missing jobs of every period. Counts: `found` (targets inside the allow-list),
/// `inserted`, `already_present`, `requeued`, `outside_allowlist`.
pub async fn enqueue(db: &Db, plan: &EnqueuePlan, counts: &Counts) -> anyhow::Result<()> {
    for period in &plan.periods {
        let (from, to) = period.utc_bounds(plan.time_zone);
        let targets: Vec<Target> = on_pool!(db, |pool| sqlx::query_as(
            "SELECT r.tenant_id, r.form_id, t.slug, t.rollout_group, count(*) AS records
             FROM records r JOIN tenants t ON t.id = r.tenant_id
             WHERE r.recorded_at >= $1 AND r.recorded_at < $2
             GROUP BY r.tenant_id, r.form_id, t.slug, t.rollout_group
             ORDER BY r.tenant_id, r.form_id"
        )
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await)?;
        let (mut inserted, mut present, mut requeued, mut outside) = (0, 0, 0, 0);
        for target in &targets {
            if !allowed(&plan.allowlist, target) {
                outside += 1;
                continue;
            }
            let job = NewJob {
                tenant_id: target.tenant_id,
                form_id: target.form_id,
                period: *period,
                time_zone: plan.time_zone.name().to_owned(),
                max_attempts: plan.max_attempts as i32,
                record_count: target.records,
            };
            let now = Utc::now();
            if queue::insert(db, &job, now).await? {
                inserted += 1;
            } else {
                present += 1;
                if plan.requeue_failed {
                    let key = Requeue::Key {
                        tenant_id: job.tenant_id,
                        form_id: job.form_id,
                        period: job.period,
                    };
                    requeued += queue::requeue(db, key, now).await? as i64;
                }
            }
        }
        counts.add("found", (targets.len() - outside) as i64);
        counts.add("inserted", inserted);
        counts.add("already_present", present);
        counts.add("requeued", requeued);
        counts.add("outside_allowlist", outside as i64);
        tracing::info!(
            period = period.label(),
            found = targets.len() - outside,
            inserted,
            already_present = present,
            requeued,
            outside_allowlist = outside,
            "period enqueued"
        );
    }
    Ok(())
}

/// An empty allow-list admits every tenant.
fn allowed(allowlist: &[AllowEntry], target: &Target) -> bool {
    allowlist.is_empty()
        || allowlist.iter().any(|entry| match entry {
            AllowEntry::Tenant(slug) => *slug == target.slug,
            AllowEntry::Group(group) => *group == target.rollout_group,
        })
}
