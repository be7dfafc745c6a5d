"""The export benchmark; scripts/bench.sh starts the servers and runs this. See docs/performance.md.

Seeds PostgreSQL with one 10-column form per size (bench/seed.sql), then measures on the same
rows, interleaving the programs run after run so that none gets a warmer machine:

  1. `batch export-worker` end to end: database -> workbook -> upload to the S3 server;
  2. rust_xlsxwriter alone writing the same rows from memory (bench/src/write.rs);
  3. Python XlsxWriter (constant_memory) and openpyxl (write_only) reading the same rows from the
     same database and writing the same workbook (bench/peers.py);

and the deflate bound of the sheet XML, the writer's configurations (zip level, crate features,
low-memory mode), one worker with two jobs at EXPORT_CONCURRENCY=2 against 1, and peak RSS from
10k to 2M rows. Every program's workbook is counted (sheets, rows, cells) and must match the
export's before its time is reported. Wall time is measured around each process; CPU time
(user + system) and peak RSS come from the kernel (wait4), except for rust_xlsxwriter alone,
which measures its writing phase itself, after loading its input.
"""

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from report import Failed, Measured, render, secs, targets, write_report

TIME_ZONE = "Asia/Tokyo"
FIRST_DAY = dt.date(2026, 1, 5)
COLUMNS = [
    ("Item", "text"),
    ("Quantity", "integer"),
    ("Amount", "decimal"),
    ("Site", "text"),
    ("Status", "text"),
    ("Completed at", "datetime"),
    ("Category", "text"),
    ("Customer", "text"),
    ("Lot number", "text"),
    ("Notes", "text"),
]
FIXED = [("Record ID", "integer"), ("Recorded at", "datetime"), ("Recorded by", "text")]
BENCH = Path(__file__).resolve().parent
SEED_SQL = (BENCH / "seed.sql").read_text()
# Records are reused from an earlier run on the same database only if seed.sql has not changed
# since: the tenant's slug carries its digest.
TENANT = (f"bench-{hashlib.sha256(SEED_SQL.encode()).hexdigest()[:10]}", "Benchmark Co.")


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --- running and measuring one program -------------------------------------------------------


def measure(cmd, env=None, log_path=None):
    """Runs cmd; returns (wall s, cpu s, peak RSS KiB, stdout). Fails, with its output, unless it
    exits 0."""
    with contextlib.ExitStack() as files:
        out = files.enter_context(open(log_path, "w+")) if log_path else subprocess.PIPE
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.PIPE, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        stderr = proc.stderr.read()
        if log_path:
            out.seek(0)
            stdout = out.read()
        else:
            stdout = proc.stdout.read()
    if proc.returncode != 0:
        tail = "\n".join((stdout + stderr).splitlines()[-15:])
        raise Failed(f"{' '.join(map(str, cmd[:2]))} exited {proc.returncode}:\n{tail}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, stdout


def tool_json(cmd):
    return json.loads(measure(cmd)[3].strip().splitlines()[-1])


# --- the data ---------------------------------------------------------------------------------


def create_form(conn, tenant_id, name):
    """The tenant's form `name` with the benchmark's 10 columns (COLUMNS); its id, created if missing."""
    found = conn.execute("SELECT id FROM forms WHERE tenant_id = %s AND name = %s", (tenant_id, name)).fetchone()
    if found:
        return found[0]
    (form_id,) = conn.execute(
        "INSERT INTO forms (tenant_id, name) VALUES (%s, %s) RETURNING id", (tenant_id, name)
    ).fetchone()
    for position, (label, kind) in enumerate(COLUMNS):
        conn.execute(
            "INSERT INTO form_columns (form_id, position, label, kind) VALUES (%s, %s, %s, %s)",
            (form_id, position, label, kind),
        )
    return form_id


def insert_records(conn, tenant_id, form_id, rows, day):
    """`rows` records of the form, spread over `day` (bench/seed.sql), the same ones every time for
    the same form id: the random generator is seeded from it."""
    conn.execute("SELECT setseed(%s)", (0.5 - 1 / (form_id + 2),))
    conn.execute(SEED_SQL, {"tenant_id": tenant_id, "form_id": form_id, "rows": rows, "day": day})


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = Path(args.work)
        self.tmp = self.work / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.conn = psycopg.connect(args.dsn, autocommit=True)
        self.forms = {}  # name -> (form id, day)

    def batch_env(self, **extra):
        env = {
            "PATH": os.environ["PATH"],
            "DATABASE_URL": self.args.dsn,
            "EXPORT_BUCKET": self.args.bucket,
            "EXPORT_S3_FORCE_PATH_STYLE": "true",
            "EXPORT_PREFIX": "bench/",
            "AWS_ENDPOINT_URL": self.args.s3_endpoint,
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": self.args.s3_access_key,
            "AWS_SECRET_ACCESS_KEY": self.args.s3_secret_key,
            "EXPORT_TIME_ZONE": TIME_ZONE,
            "EXPORT_TEMP_DIR": str(self.tmp),
            "EXPORT_TENANT_ALLOWLIST": TENANT[0],
            "BATCH_MAX_RUNTIME": "2h",
        }
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def batch(self, *args, **env):
        return measure([self.args.batch, *args], env=self.batch_env(**env))

    def seed(self, name, rows):
        """The form `name` with `rows` records on a day of its own; reused when already seeded."""
        day = FIRST_DAY + dt.timedelta(days=len(self.forms))
        conn = self.conn
        conn.execute(
            "INSERT INTO tenants (slug, name) VALUES (%s, %s) ON CONFLICT (slug) DO NOTHING", TENANT
        )
        (tenant_id,) = conn.execute("SELECT id FROM tenants WHERE slug = %s", (TENANT[0],)).fetchone()
        form_id = create_form(conn, tenant_id, name)
        (have,) = conn.execute("SELECT count(*) FROM records WHERE form_id = %s", (form_id,)).fetchone()
        if have != rows:
            log(f"seeding {rows:,} records for form {form_id} ({name}) on {day}")
            started = time.perf_counter()
            with conn.transaction():
                conn.execute("DELETE FROM records WHERE form_id = %s", (form_id,))
                insert_records(conn, tenant_id, form_id, rows, day)
            conn.execute("ANALYZE records")
            log(f"  seeded in {time.perf_counter() - started:.1f} s")
        self.forms[name] = (form_id, day)
        return form_id

    def describe_data(self, form_id):
        """What the text columns look like: character lengths, distinct values, NULLs. Fails when
        the data is not what the benchmark promises (text of 12-30 characters)."""
        facts = []
        for i, (label, kind) in enumerate(COLUMNS):
            if kind != "text":
                continue
            lo, hi, distinct, nulls, total = self.conn.execute(
                f"""SELECT min(char_length(field_values->>{i})), max(char_length(field_values->>{i})),
                           count(DISTINCT field_values->>{i}), count(*) FILTER (WHERE field_values->>{i} IS NULL),
                           count(*)
                    FROM records WHERE form_id = %s""",
                (form_id,),
            ).fetchone()
            if lo < 12 or hi > 30:
                raise Failed(f"column {label}: text of {lo}-{hi} characters, expected 12-30")
            facts.append((label, lo, hi, distinct, nulls / total))
        return facts

    def dump(self, name, path):
        """The form's rows as the workbook shows them, for rust_xlsxwriter alone (bench/src/rows.rs)."""
        form_id, day = self.forms[name]
        cols = [
            "id",
            f"to_char(recorded_at AT TIME ZONE '{TIME_ZONE}', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')",
            "recorded_by",
        ]
        for i, (_, kind) in enumerate(COLUMNS):
            if kind == "datetime":
                cols.append(
                    f"to_char((field_values->>{i})::timestamptz AT TIME ZONE '{TIME_ZONE}', "
                    "'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
                )
            else:
                cols.append(f"field_values->>{i}")
        start, end = self.bounds(day)
        query = (
            f"COPY (SELECT {', '.join(cols)} FROM records WHERE form_id = {int(form_id)} "
            f"AND recorded_at >= '{start}' AND recorded_at < '{end}' ORDER BY recorded_at, id) TO STDOUT"
        )
        with open(path, "wb") as f, self.conn.cursor() as cursor:
            f.write(("\t".join(f"{label}:{kind}" for label, kind in FIXED + COLUMNS) + "\n").encode())
            with cursor.copy(query) as copy:
                for data in copy:
                    f.write(data)

    @staticmethod
    def bounds(day):
        start = f"{day} 00:00:00 {TIME_ZONE}"
        end = f"{day + dt.timedelta(days=1)} 00:00:00 {TIME_ZONE}"
        return start, end

    # --- the programs -------------------------------------------------------------------------

    def queue(self, *names):
        """Exactly one pending job per named form (a previous run's job is removed first)."""
        ids = [self.forms[n][0] for n in names]
        self.conn.execute("DELETE FROM export_jobs WHERE form_id = ANY(%s)", (ids,))
        for name in names:
            self.batch("export-enqueue", "--date", str(self.forms[name][1]))
        (pending,) = self.conn.execute(
            "SELECT count(*) FROM export_jobs WHERE form_id = ANY(%s) AND status = 'pending'", (ids,)
        ).fetchone()
        if pending != len(names):
            raise Failed(f"expected {len(names)} pending jobs, found {pending}")

    def export(self, names, level, concurrency=1):
        """`batch export-worker` for the forms' jobs: wall, CPU, peak RSS, the objects' paths, the
        zip level it used (level None: its default)."""
        self.queue(*names)
        log_path = self.work / "export-worker.log"
        settings = {"EXPORT_CONCURRENCY": concurrency}
        if level is not None:
            settings["EXPORT_ZIP_LEVEL"] = level
        wall, cpu, rss, stdout = measure(
            [self.args.batch, "export-worker"], env=self.batch_env(**settings), log_path=log_path
        )
        ready = [json.loads(line) for line in stdout.splitlines() if '"export worker ready"' in line]
        if not ready:
            raise Failed(f"no `export worker ready` line in {log_path}")
        ids = [self.forms[n][0] for n in names]
        rows = self.conn.execute(
            "SELECT status, object_key FROM export_jobs WHERE form_id = ANY(%s) ORDER BY form_id", (ids,)
        ).fetchall()
        if any(status != "succeeded" for status, _ in rows):
            raise Failed(f"export jobs did not all succeed: {rows}; see {log_path}")
        objects = [Path(self.args.s3_root) / self.args.bucket / key for _, key in rows]
        return {"wall": wall, "cpu": cpu, "rss": rss, "path": objects[0], "bytes": os.path.getsize(objects[0]),
                "level": ready[0]["zip_level"]}

    def alone(self, tsv, level, tool=None, low_memory=False):
        out = self.work / "alone.xlsx"
        cmd = [tool or self.args.tool, "write", tsv, out, "--level", str(level), "--tempdir", self.tmp]
        if low_memory:
            cmd.append("--low-memory")
        figures = tool_json([str(c) for c in cmd])
        # The writer's own peak: what its writing phase added to the rows it holds in memory.
        return {
            "wall": figures["wall_s"],
            "cpu": figures["cpu_s"],
            "rss": figures["peak_kib"] - figures["rss_before_kib"],
            "held": figures["rss_before_kib"],
            "path": out,
            "bytes": os.path.getsize(out),
        }

    def peer(self, writer, name):
        form_id, day = self.forms[name]
        out = self.work / f"{writer}.xlsx"
        start, end = self.bounds(day)
        wall, cpu, rss, _ = measure(
            [self.args.python, BENCH / "peers.py", writer, self.args.dsn, str(form_id), start, end, TIME_ZONE,
             str(out), str(self.tmp)]
        )
        return {"wall": wall, "cpu": cpu, "rss": rss, "path": out, "bytes": os.path.getsize(out)}

    def deflate(self, book, level):
        figures = tool_json([self.args.tool, "deflate", str(book), "--level", str(level)])
        return {"wall": figures["wall_s"], "cpu": figures["cpu_s"], "xml_bytes": figures["xml_bytes"],
                "deflated_bytes": figures["deflated_bytes"]}

    def inspect(self, book):
        return tool_json([self.args.tool, "inspect", str(book)])


def versions(args):
    def first_line(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[0]
        except (OSError, subprocess.CalledProcessError, IndexError):
            return "unknown"

    peers = subprocess.run(
        [args.python, "-c", "import xlsxwriter, openpyxl, psycopg, sys; "
         "print(xlsxwriter.__version__, openpyxl.__version__, psycopg.__version__, sys.version.split()[0])"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    lock = (BENCH.parent / "Cargo.lock").read_text()
    crate = lambda name: re.search(rf'name = "{name}"\nversion = "([^"]+)"', lock).group(1)  # noqa: E731
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    commit = first_line(["git", "-C", str(BENCH.parent), "rev-parse", "--short", "HEAD"])
    # Only what is measured counts: prose edited during a run does not make the build "modified".
    dirty = first_line(["git", "-C", str(BENCH.parent), "status", "--porcelain", "--untracked-files=no", "--",
                        "src", "migrations", "Cargo.toml", "Cargo.lock", "bench", "scripts"])
    return {
        "machine": f"{cpu}, {os.cpu_count()} cores, {mem_kib / 1024 / 1024:.0f} GiB RAM, "
                   f"Linux {platform.release()}",
        "rustc": first_line(["rustc", "--version"]),
        "batchbox": commit + (" (with uncommitted changes)" if dirty != "unknown" else ""),
        "rust_xlsxwriter": crate("rust_xlsxwriter"),
        "zip": crate("zip"),
        "flate2": crate("flate2"),
        "zlib-rs": crate("zlib-rs"),
        "sqlx": crate("sqlx"),
        "aws-sdk-s3": crate("aws-sdk-s3"),
        "python": peers[3],
        "XlsxWriter": peers[0],
        "openpyxl": peers[1],
        "psycopg": peers[2],
        "postgresql": first_line([args.pg_bin + "/postgres", "--version"]) if args.pg_bin else "unknown",
        "s3s-fs": first_line([args.s3s_fs, "--version"]) if args.s3s_fs else "unknown",
    }


# --- the benchmark ----------------------------------------------------------------------------


def add_setup_arguments(parser):
    """What scripts/bench.sh hands every benchmark: the database, the batch binary, the S3 server
    and the work directory."""
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--batch", required=True, help="the batch binary (release build)")
    parser.add_argument("--s3-endpoint", required=True)
    parser.add_argument("--s3-root", required=True, help="the S3 server's directory")
    parser.add_argument("--s3-access-key", required=True)
    parser.add_argument("--s3-secret-key", required=True)
    parser.add_argument("--s3s-fs", default="")
    parser.add_argument("--pg-bin", default="")
    parser.add_argument("--bucket", default="bench")
    parser.add_argument("--work", required=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_setup_arguments(parser)
    parser.add_argument("--tool", required=True, help="xlsx-bench, default features")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=PATH",
                        help="xlsx-bench built with a rust_xlsxwriter feature (zlib, ryu, zmij)")
    parser.add_argument("--python", required=True, help="the virtualenv's python with the peers")
    parser.add_argument("--sizes", default="100000,1000000", help="sizes of the comparison table")
    parser.add_argument("--memory-sizes", default="10000,100000,1000000,2000000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peer-runs", type=int, default=None,
                        help="run the Python peers in only the first N runs (default: every run)")
    parser.add_argument("--level", type=int, default=None, help="zip level of the export (default: batch's)")
    parser.add_argument("--levels", default="6,3,1", help="zip levels compared")
    parser.add_argument("--peers", default="xlsxwriter,openpyxl")
    parser.add_argument("--report", help="write the results into this Markdown file, between its markers")
    parser.add_argument("--command", default="scripts/bench.sh", help="the command, for the report")
    args = parser.parse_args()

    sizes = [int(s) for s in args.sizes.split(",")]
    memory_sizes = [int(s) for s in args.memory_sizes.split(",") if s]
    levels = [int(s) for s in args.levels.split(",") if s]
    peers = [p for p in args.peers.split(",") if p]
    variants = dict(v.split("=", 1) for v in args.variant)
    largest = max(sizes)

    bench = Bench(args)
    began = time.time()
    log("migrating the database")
    bench.batch("migrate")
    name = lambda n: f"Bench {n:,} rows"  # noqa: E731
    for n in sorted(set(sizes) | set(memory_sizes)):
        bench.seed(name(n), n)
    pair = f"Bench pair {largest:,} rows"
    bench.seed(pair, largest)
    data = bench.describe_data(bench.forms[name(largest)][0])
    # A first export warms the caches and tells the export's zip level (its default unless --level).
    level = bench.export([name(min(sizes))], args.level)["level"]
    log(f"zip level {level}")
    tsv = {}
    for n in sizes:
        tsv[n] = bench.work / f"rows-{n}.tsv"
        bench.dump(name(n), tsv[n])

    # 1-3: the comparison, programs interleaved run by run.
    results = {n: {p: [] for p in ["export", "alone", "deflate", *peers]} for n in sizes}
    shapes = {}
    for run in range(1, args.runs + 1):
        for n in sizes:
            log(f"run {run}/{args.runs}, {n:,} rows")
            e = bench.export([name(n)], level)
            shape = bench.inspect(e["path"])
            shapes[n] = shape
            results[n]["export"].append(e)
            results[n]["deflate"].append(bench.deflate(e["path"], level))
            a = bench.alone(tsv[n], level)
            check_same(shape, bench.inspect(a["path"]), "rust_xlsxwriter alone")
            results[n]["alone"].append(a)
            for p in peers if run <= (args.peer_runs or args.runs) else []:
                r = bench.peer(p, name(n))
                check_same(shape, bench.inspect(r["path"]), p)
                results[n][p].append(r)
            log("  " + ", ".join(f"{p} {secs(rs[-1]['wall'])}" for p, rs in results[n].items() if rs))

    # The writer's configurations, at the largest size: zip levels, features, low-memory mode.
    log(f"configurations, {largest:,} rows")
    configs = {}
    for run in range(args.runs):
        for lv in levels:
            configs.setdefault(("alone", f"level {lv}"), []).append(bench.alone(tsv[largest], lv))
            configs.setdefault(("export", f"level {lv}"), []).append(bench.export([name(largest)], lv))
        for feature, tool in variants.items():
            configs.setdefault(("alone", f"level {level} + feature `{feature}`"), []).append(
                bench.alone(tsv[largest], level, tool=tool))
        configs.setdefault(("alone", f"level {level}, low-memory worksheet (shared strings)"), []).append(
            bench.alone(tsv[largest], level, low_memory=True))
        log(f"  configurations run {run + 1}/{args.runs} done")

    # Two jobs in one worker: two lanes against one.
    log(f"concurrency: two {largest:,}-row jobs")
    concurrency = {1: [], 2: []}
    for _ in range(args.runs):
        for lanes in (1, 2):
            concurrency[lanes].append(bench.export([name(largest), pair], level, concurrency=lanes))
        log(f"  lanes 1: {secs(concurrency[1][-1]['wall'])}, lanes 2: {secs(concurrency[2][-1]['wall'])}")

    # Peak RSS by size.
    memory = {}
    for n in memory_sizes:
        if n in results:
            memory[n] = results[n]["export"]
            continue
        log(f"memory: {n:,} rows")
        memory[n] = [bench.export([name(n)], level) for _ in range(args.runs)]

    measured = Measured(command=args.command, runs=args.runs, versions=versions(args), level=level, data=data,
                        sizes=sizes, peers=peers, results=results, shapes=shapes, configs=configs,
                        concurrency=concurrency, memory=memory, elapsed=time.time() - began)
    report = render(measured)
    print(report)
    if args.report:
        write_report(Path(args.report), report)
        log(f"wrote {args.report}")
    for line in targets(measured):
        log(line)


def check_same(expected, got, who):
    for key in ("sheets", "rows", "cells"):
        if expected[key] != got[key]:
            raise Failed(f"{who} wrote a different workbook: {key} {got[key]} vs the export's {expected[key]}")


if __name__ == "__main__":
    try:
        main()
    except Failed as e:
        log(f"error: {e}")
        sys.exit(1)
