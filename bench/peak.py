"""The month-start peak; `scripts/bench.sh --peak` starts the servers and runs this. See
docs/performance.md, "The month-start peak".

Seeds several hundred (tenant, form) targets with records on one day, their sizes from a skewed
law (many of a few hundred rows, a few of about a million; bench/peak_model.py), and queues them
once with `batch export-enqueue` (timed on its own). Then, for 1 and 2 workers and three claim
orders (FIFO, smallest first, largest first), it puts every job back to pending, deletes the
uploaded workbooks and times the whole flow: `batch export-enqueue --date DAY` with LAUNCH_* set
finds the jobs already queued, starts the workers (child processes of the same binary, one lane
each: EXPORT_CONCURRENCY=1) and waits for them. The claim order is set without any production
knob, through the column the claim sorts on (`ORDER BY record_count DESC, next_attempt_at, id`):
0 for every job (FIFO: the enqueue's order), minus the record count (smallest first), or the
record count itself (largest first, the production order).

Each run is checked (every job succeeded exactly once, with all its rows, and its workbook is in
the bucket) and reported against the lower bound max(total job time / lanes, longest job), with
the most database connections batchbox held at once (polled every 100 ms) against the configured
bound. Finally a cost per job and per row, fitted to the measured jobs, drives a simulation of
list scheduling for a month-start volume with 1 and 20 workers.
"""

import argparse
import collections
import datetime as dt
import hashlib
import json
import shutil
import sys
import threading
import time
from pathlib import Path

import peak_model as model
import psycopg
from peak_model import Shape
from report import Failed, secs, table, write_report
from run import SEED_SQL, Bench, add_setup_arguments, create_form, insert_records, log, measure, versions

# The day of the peak's records (and of its jobs): any day; this one starts a month.
DAY = dt.date(2026, 2, 1)
# Seeds the order in which the jobs are dealt out to tenants and the simulation's FIFO orders.
SEED = 20260201
SHAPES = {
    # 480 jobs: median 475 rows, 90% under 7,000, the 3 largest at about 1,000,000; 6.0M rows.
    "full": Shape(jobs=480, smallest=150, alpha=0.6, largest=1_000_000),
    # The same law scaled down for development: 60 jobs, the largest 50,000 rows.
    "quick": Shape(jobs=60, smallest=150, alpha=0.6, largest=50_000),
}
WORKERS = (1, 2)
ORDERS = model.ORDERS
ORDER_NAMES = {"fifo": "FIFO", "smallest-first": "smallest first", "largest-first": "largest first"}
# DATABASE_MAX_CONNECTIONS of the enqueue and of every worker (the documented default).
POOL = 4
PREFIX = "peak/"
# The simulation: the bound on workers at once that protects the shared database, each with the
# default EXPORT_CONCURRENCY, and a month's days.
FLEET = 20
MONTH_DAYS = 30
FIFO_ORDERS = 101


class Connections:
    """While a run lasts, polls pg_stat_activity every 100 ms for batchbox's connections (each
    process names itself `batchbox/<batch>`): the most at once, and which batches held them."""

    def __init__(self, dsn):
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.peak, self.at_peak, self.samples = 0, {}, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.poll, daemon=True)
        self.error = None

    def poll(self):
        try:
            while True:
                held = dict(self.conn.execute(
                    "SELECT application_name, count(*) FROM pg_stat_activity "
                    "WHERE application_name LIKE 'batchbox/%' GROUP BY application_name"
                ).fetchall())
                self.samples += 1
                if sum(held.values()) > self.peak:
                    self.peak, self.at_peak = sum(held.values()), held
                if self.stop.wait(0.1):
                    return
        except psycopg.Error as e:
            self.error = e

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stop.set()
        self.thread.join()
        self.conn.close()
        if self.error:
            raise Failed(f"polling pg_stat_activity failed: {self.error}")


class Peak:
    def __init__(self, bench, shape):
        self.bench, self.shape, self.conn = bench, shape, bench.conn
        self.args = bench.args
        self.sizes = model.sizes(shape)
        digest = hashlib.sha256(f"{SEED_SQL}{shape}{SEED}".encode()).hexdigest()[:10]
        # The peak's tenants are a rollout group of their own: the enqueue sees only them.
        self.group = f"peak-{digest}"
        self.jobs = {}  # job id -> records, in the enqueue's order

    def env(self, **extra):
        return self.bench.batch_env(
            EXPORT_PREFIX=PREFIX, EXPORT_TENANT_ALLOWLIST=f"group:{self.group}", EXPORT_CONCURRENCY=1,
            DATABASE_MAX_CONNECTIONS=POOL, LOG_FORMAT="json", **extra)

    def seed(self):
        """The targets and their records (reused when a previous run on this database seeded them)."""
        conn, group = self.conn, self.group
        have = conn.execute(
            "SELECT count(DISTINCT r.form_id), count(*) FROM records r JOIN tenants t ON t.id = r.tenant_id "
            "WHERE t.rollout_group = %s", (group,)).fetchone()
        if tuple(have) == (len(self.sizes), sum(self.sizes)):
            log(f"reusing the {have[0]} targets seeded earlier (group {group})")
            return None
        self.drop()
        dealt = model.tenants(self.sizes, SEED)
        log(f"seeding {sum(self.sizes):,} records for {len(self.sizes)} targets of {len(dealt)} tenants on {DAY}")
        started = time.perf_counter()
        with conn.transaction():
            for k, forms in enumerate(dealt, 1):
                (tenant_id,) = conn.execute(
                    "INSERT INTO tenants (slug, name, rollout_group) VALUES (%s, %s, %s) RETURNING id",
                    (f"{group}-{k:03d}", f"Peak tenant {k}", group)).fetchone()
                for f, rows in enumerate(forms, 1):
                    insert_records(conn, tenant_id, create_form(conn, tenant_id, f"Peak form {f}"), rows, DAY)
        # Fresh rows would make the first run slower than the others: it would set their hint bits
        # and race autovacuum. Vacuumed now, every run reads the same settled table.
        conn.execute("VACUUM (ANALYZE) records")
        seconds = time.perf_counter() - started
        log(f"  seeded and vacuumed in {seconds:.1f} s")
        return seconds

    def drop(self):
        """Removes the group's tenants with everything they own (a previous shape's)."""
        tenants = "SELECT id FROM tenants WHERE rollout_group = %(g)s"
        forms = f"SELECT id FROM forms WHERE tenant_id IN ({tenants})"
        with self.conn.transaction():
            for sql in (f"DELETE FROM export_jobs WHERE tenant_id IN ({tenants})",
                        f"DELETE FROM records WHERE tenant_id IN ({tenants})",
                        f"DELETE FROM form_columns WHERE form_id IN ({forms})",
                        f"DELETE FROM forms WHERE tenant_id IN ({tenants})",
                        "DELETE FROM tenants WHERE rollout_group = %(g)s"):
                self.conn.execute(sql, {"g": self.group})

    def enqueue(self):
        """Queues the jobs once, as the month-start enqueue would, with no workers: its time."""
        self.conn.execute(
            "DELETE FROM export_jobs WHERE tenant_id IN (SELECT id FROM tenants WHERE rollout_group = %s)",
            (self.group,))
        wall, _, _, stdout = measure([self.args.batch, "export-enqueue", "--date", str(DAY)], env=self.env(),
                                     log_path=self.bench.work / "peak-enqueue.log")
        enqueued = [line for line in parse(stdout) if line.get("message") == "period enqueued"]
        if not enqueued or enqueued[0]["inserted"] != len(self.sizes):
            raise Failed(f"the enqueue queued {enqueued[0]['inserted'] if enqueued else 0} jobs, "
                         f"expected {len(self.sizes)}")
        self.jobs = dict(self.conn.execute(
            "SELECT j.id, j.record_count FROM export_jobs j JOIN tenants t ON t.id = j.tenant_id "
            "WHERE t.rollout_group = %s ORDER BY j.next_attempt_at, j.id", (self.group,)).fetchall())
        if sorted(self.jobs.values(), reverse=True) != self.sizes:
            raise Failed("the queued jobs' record counts are not the seeded sizes")
        return wall

    def claim_order(self, order):
        """The job ids in the order the claim takes them."""
        return model.in_order(list(self.jobs), order, size=self.jobs.get)

    def reset(self, order):
        """Every job pending again, due in the enqueue's order, with the record count that makes
        the claim take them in `order`; the uploaded workbooks deleted."""
        ids = list(self.jobs)
        sign = {"fifo": 0, "smallest-first": -1, "largest-first": 1}[order]
        self.conn.execute(
            """UPDATE export_jobs j
               SET status = 'pending', attempts = 0, lease_owner = NULL, lease_expires_at = NULL,
                   next_attempt_at = j.created_at, last_error = NULL, object_key = NULL, row_count = NULL,
                   byte_size = NULL, finished_at = NULL, updated_at = now(), record_count = v.claim_size
               FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, claim_size) WHERE j.id = v.id""",
            (ids, [sign * self.jobs[i] for i in ids]))
        shutil.rmtree(Path(self.args.s3_root) / self.args.bucket / PREFIX.strip("/"), ignore_errors=True)

    def run(self, workers, order):
        """One timed run: the enqueue launches `workers` workers and waits for them."""
        self.reset(order)
        log_path = self.bench.work / f"peak-{workers}-{order}.log"
        env = self.env(LAUNCH_BATCH="export-worker", LAUNCH_MAX_TASKS=workers, LAUNCH_JOBS_PER_TASK=1)
        with Connections(self.args.dsn) as connections:
            wall, cpu, _, stdout = measure([self.args.batch, "export-enqueue", "--date", str(DAY)], env=env,
                                           log_path=log_path)
        lines = parse(stdout)
        launch = [line for line in lines if line.get("message") == "launching tasks for the waiting jobs"]
        if len(launch) != 1 or launch[0]["tasks"] != workers:
            raise Failed(f"expected one launch of {workers} worker(s); see {log_path}")
        done = [line for line in lines if line.get("message") == "export job succeeded"]
        claims = sorted((line for line in lines if line.get("message") == "export job claimed"),
                        key=lambda line: line["timestamp"])
        self.check(done, claims, workers, order, log_path)
        started = timestamp(launch[0])
        makespan = max(timestamp(line) for line in done) - started
        durations = {line["job_id"]: line["duration_ms"] / 1000 for line in done}
        bound = workers * (POOL + 1) + POOL + 1
        if connections.peak > bound:
            raise Failed(f"{connections.peak} database connections at once ({connections.at_peak}), above the "
                         f"configured bound of {bound}; see {log_path}")
        return {
            "workers": workers, "order": order, "wall": wall, "cpu": cpu, "makespan": makespan,
            "work": sum(durations.values()), "longest": max(durations.values()),
            "bound": model.lower_bound(list(durations.values()), workers),
            "scheduled": model.list_schedule([durations[i] for i in self.claim_order(order)], workers),
            "connections": connections.peak, "at_peak": connections.at_peak, "samples": connections.samples,
            "connection_bound": bound,
            "points": [(self.jobs[i], durations[i]) for i in self.jobs],
        }

    def check(self, done, claims, workers, order, log_path):
        """Every job succeeded exactly once, on its first attempt, with all its rows, its workbook in
        the bucket; the first claims were the first jobs of the order measured."""
        times = collections.Counter(line["job_id"] for line in done)
        if set(times) != set(self.jobs) or max(times.values()) != 1:
            again = sorted(i for i, n in times.items() if n > 1)
            raise Failed(f"{len(set(self.jobs) - set(times))} job(s) did not succeed and {len(again)} succeeded "
                         f"more than once; see {log_path}")
        rows = self.conn.execute(
            "SELECT id, status, attempts, row_count, object_key, byte_size FROM export_jobs WHERE id = ANY(%s)",
            (list(self.jobs),)).fetchall()
        bucket = Path(self.args.s3_root) / self.args.bucket
        for job_id, status, attempts, row_count, key, size in rows:
            if (status, attempts, row_count) != ("succeeded", 1, self.jobs[job_id]):
                raise Failed(f"job {job_id}: {status} after {attempts} attempt(s) with {row_count} rows, expected "
                             f"succeeded after 1 with {self.jobs[job_id]}; see {log_path}")
            path = bucket / key
            if not path.is_file() or path.stat().st_size != size:
                raise Failed(f"job {job_id}: no workbook of {size} bytes at {path}")
        first = {line["job_id"] for line in claims[:workers]}
        if first != set(self.claim_order(order)[:workers]):
            raise Failed(f"{ORDER_NAMES[order]}: the first claims were jobs {sorted(first)}, not the first "
                         f"{workers} of the order; see {log_path}")


def fifo_places(peak):
    """Where the three largest jobs are in the enqueue's order (FIFO), 1-based."""
    order = peak.claim_order("fifo")
    largest = peak.claim_order("largest-first")[:3]
    return sorted(order.index(i) + 1 for i in largest)


def parse(stdout):
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def timestamp(line):
    return dt.datetime.fromisoformat(line["timestamp"]).timestamp()


# --- the simulation ---------------------------------------------------------------------------


def simulate(shape, costs):
    """Minutes of list scheduling for two month-start volumes, with the cost per job fitted to
    one lane per worker (`costs[1]`) and to two lanes sharing two cores (`costs[2]`)."""
    daily = model.sizes(shape)
    volumes = {
        f"{4 * shape.jobs} daily jobs (4x the jobs, the same law)": model.sizes(
            Shape(jobs=4 * shape.jobs, smallest=shape.smallest, alpha=shape.alpha, largest=shape.largest)),
        f"{shape.jobs} monthly jobs ({MONTH_DAYS} days of each target's volume)": [MONTH_DAYS * r for r in daily],
    }
    rows = []
    for volume, job_sizes in volumes.items():
        for tasks, lanes in ((1, 1), (FLEET, 1), (1, 2), (FLEET, 2)):
            durations = [costs[lanes].seconds(r) for r in job_sizes]  # largest first
            total = tasks * lanes
            rows.append({
                "volume": volume, "jobs": len(job_sizes), "rows": sum(job_sizes), "largest": max(job_sizes),
                "tasks": tasks, "lanes": lanes,
                "bound": model.lower_bound(durations, total),
                "largest-first": model.list_schedule(durations, total),
                "fifo": model.fifo_median(durations, total, SEED, FIFO_ORDERS),
                "smallest-first": model.list_schedule(durations[::-1], total),
            })
    return rows


# --- the report -------------------------------------------------------------------------------


def minutes(s):
    return f"{s / 60:.1f} min"


def render(m):
    v, d, runs = m["versions"], m["distribution"], m["runs"]
    seeded = "no time (seeded by an earlier run)" if m["seeded"] is None else secs(m["seeded"])
    out = [
        f"Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC in {m['elapsed'] / 60:.0f} min by "
        f"`{m['command']}` (the six timed runs: {m['timed'] / 60:.1f} min; one run each).",
        "",
        f"- Machine: {v['machine']}.",
        f"- batchbox {v['batchbox']}, release build; {v['rustc']}; {v['postgresql']}; {v['s3s-fs']} "
        "(local S3 API server).",
        f"- Every process: DATABASE_MAX_CONNECTIONS={POOL}, EXPORT_CONCURRENCY=1 (one lane per worker); "
        "the enqueue: LAUNCH_BATCH=export-worker, LAUNCH_JOBS_PER_TASK=1, LAUNCH_MAX_TASKS = the workers; "
        "the export's default zip level.",
        "",
        f"The queue: {d['jobs']} jobs ({m['tenants']} tenants, 1 to 5 forms each) for {DAY}, "
        f"{d['rows']:,} rows; sizes from a Pareto law (from {m['shape'].smallest} rows, shape "
        f"{m['shape'].alpha}, capped at {m['shape'].largest:,}):",
        "",
        table(["jobs", "rows in all", "smallest", "median", "90th percentile", "99th percentile", "largest",
               "jobs of 100,000 rows or more", "their share of the rows"],
              [(d["jobs"], f"{d['rows']:,}", f"{d['smallest']:,}", f"{d['p50']:,}", f"{d['p90']:,}",
                f"{d['p99']:,}", f"{d['largest']:,}", m["big"], f"{m['big_share']:.0%}")]),
        "",
        f"Seeding (and vacuuming) the records took {seeded}. Queuing the jobs (`batch export-enqueue --date "
        f"{DAY}`, no workers: one query over the day's records, one insert per job) took {secs(m['enqueue'])}. "
        "Each timed "
        "run repeats that enqueue (it finds every job already queued) and then starts the workers. In the "
        "enqueue's order (FIFO) the three largest jobs are at places "
        f"{', '.join(map(str, m['fifo_places'][:-1]))} and {m['fifo_places'][-1]} of {d['jobs']}.",
        "",
        "### Makespan against the lower bound",
        "",
        table(["workers", "claim order", "wall (enqueue process)", "makespan (launch to last upload)",
               "job time in all", "longest job", "lower bound", "makespan / bound", "list-scheduled",
               "DB connections at the peak (bound)"],
              [(r["workers"], ORDER_NAMES[r["order"]], secs(r["wall"]), secs(r["makespan"]), secs(r["work"]),
                secs(r["longest"]), secs(r["bound"]), f"{r['makespan'] / r['bound']:.2f}x", secs(r["scheduled"]),
                connections(r)) for r in runs]),
        "",
        "Lower bound: max(job time in all / workers, longest job), from the durations the workers logged in "
        "the same run. List-scheduled: the makespan those same durations give when each lane takes the next "
        "job of the order the moment it is free, with no time between jobs; the makespan's excess over it is "
        "what the flow adds (starting the workers, claiming). Connections: the most held by `batchbox/*` at "
        "once, polled every 100 ms; the bound is workers x (DATABASE_MAX_CONNECTIONS + 1) + the enqueue's "
        "DATABASE_MAX_CONNECTIONS + 1 (each process's pool and one lock connection: the enqueue's exclusive "
        "lock, a worker's sweeper lock, taken or tried).",
        "",
        "### Cost per job, fitted to the measured jobs",
        "",
        table(["lanes sharing the 2 cores", "fitted to", "per job", "per 1,000,000 rows", "R²"],
              [(lanes, f"{c.points} jobs of the {lanes}-worker runs", f"{c.per_job * 1000:.0f} ms",
                secs(c.per_row * 1e6), f"{c.r2:.4f}") for lanes, c in m["costs"].items()]),
        "",
        f"### What {FLEET} workers would do at a month start (simulation)",
        "",
        table(["month-start volume", "rows", "largest job", "workers x lanes", "lower bound", "largest first",
               f"FIFO (median of {FIFO_ORDERS} orders)", "smallest first"],
              [(s["volume"], f"{s['rows']:,}", f"{s['largest']:,}", f"{s['tasks']} x {s['lanes']}",
                minutes(s["bound"]), minutes(s["largest-first"]), minutes(s["fifo"]), minutes(s["smallest-first"]))
               for s in m["simulation"]]),
        "",
        "### Targets",
        "",
    ]
    out += [f"- {line}" for line in targets(m)]
    return "\n".join(out)


def connections(r):
    held = r["at_peak"]
    return (f"{r['connections']} of {r['connection_bound']} (enqueue {held.get('batchbox/export-enqueue', 0)}, "
            f"workers {held.get('batchbox/export-worker', 0)})")


def targets(m):
    lines = []
    for r in m["runs"]:
        if r["order"] == "largest-first":
            lines.append(f"makespan / lower bound, {r['workers']} worker(s), largest first: "
                         f"{r['makespan'] / r['bound']:.2f}x (target <= 1.1x)")
    worst = max(m["runs"], key=lambda r: r["connections"] / r["connection_bound"])
    lines.append(f"database connections at the peak: at most {worst['connections']} of a bound of "
                 f"{worst['connection_bound']} ({worst['workers']} worker(s)); never above it")
    return lines


# --- the benchmark ----------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_setup_arguments(parser)
    parser.add_argument("--python", required=True, help="the benchmark virtualenv's python (for its versions)")
    parser.add_argument("--quick", action="store_true", help=f"a small queue ({SHAPES['quick'].jobs} jobs)")
    parser.add_argument("--report", help="write the results into this Markdown file, between its peak markers")
    parser.add_argument("--command", default="scripts/bench.sh --peak", help="the command, for the report")
    args = parser.parse_args()

    model.self_check()
    began = time.time()
    shape = SHAPES["quick" if args.quick else "full"]
    bench = Bench(args)
    log("migrating the database")
    bench.batch("migrate")
    peak = Peak(bench, shape)
    seeded = peak.seed()
    distribution = model.describe(peak.sizes)
    big = [r for r in peak.sizes if r >= 100_000]
    log("the queue: " + ", ".join(f"{k} {v:,}" for k, v in distribution.items()))
    enqueue = peak.enqueue()
    log(f"queued {len(peak.jobs)} jobs in {secs(enqueue)}")

    runs = []
    timed_from = time.time()
    for workers in WORKERS:
        for order in ORDERS:
            log(f"{workers} worker(s), {ORDER_NAMES[order]}")
            r = peak.run(workers, order)
            runs.append(r)
            log(f"  makespan {secs(r['makespan'])} (wall {secs(r['wall'])}), bound {secs(r['bound'])}: "
                f"{r['makespan'] / r['bound']:.2f}x; {r['connections']} connections (bound {r['connection_bound']})")
    timed = time.time() - timed_from
    peak.reset("largest-first")  # leaves the queue as production would have it

    costs = {w: model.fit(*zip(*[p for r in runs if r["workers"] == w for p in r["points"]], strict=True))
             for w in WORKERS}
    measured = {
        "command": args.command, "versions": versions(args), "shape": shape, "distribution": distribution,
        "tenants": len(model.tenants(peak.sizes, SEED)), "big": len(big), "big_share": sum(big) / sum(peak.sizes),
        "seeded": seeded, "enqueue": enqueue, "runs": runs,
        "fifo_places": fifo_places(peak), "costs": costs, "simulation": simulate(shape, costs),
        "timed": timed, "elapsed": time.time() - began,
    }
    report = render(measured)
    print(report)
    if args.report:
        write_report(Path(args.report), report, section="peak")
        log(f"wrote {args.report}")
    for line in targets(measured):
        log(line)


if __name__ == "__main__":
    try:
        main()
    except Failed as e:
        log(f"error: {e}")
        sys.exit(1)
