"""The benchmark's report: the measurements of one run (`Measured`), their medians, the Markdown
tables written into docs/performance.md, and the targets."""

import datetime as dt
import statistics
from dataclasses import dataclass

MIB = 1024


class Failed(Exception):
    pass


@dataclass
class Measured:
    """Everything one benchmark run measured, as bench/run.py collected it."""

    command: str
    runs: int
    versions: dict
    level: int
    data: list
    sizes: list
    peers: list
    results: dict
    shapes: dict
    configs: dict
    concurrency: dict
    memory: dict
    elapsed: float


def summary(results):
    """Median wall and CPU over the runs, the largest peak RSS, the file's size."""
    return {
        "wall": statistics.median(r["wall"] for r in results),
        "cpu": statistics.median(r["cpu"] for r in results),
        "rss": max(r.get("rss", 0) for r in results),
        "runs": len(results),
        **{k: results[-1][k] for k in ("bytes", "held") if k in results[-1]},
    }


def mib(kib):
    return f"{kib / MIB:.1f} MiB"


def secs(s):
    return f"{s:.2f} s" if s < 10 else f"{s:.1f} s"


def size(b):
    return f"{b / 1e6:.1f} MB"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def targets(m):
    """The targets docs/performance.md sets, each with what was measured."""
    results, concurrency, memory = m.results, m.concurrency, m.memory
    largest = max(m.sizes)
    export = summary(results[largest]["export"])["wall"]
    alone = summary(results[largest]["alone"])["wall"]
    lines = [f"end to end / rust_xlsxwriter alone at {largest:,} rows: {export / alone:.2f}x (target <= 1.3x)"]
    if "xlsxwriter" in results[largest]:
        peer = summary(results[largest]["xlsxwriter"])["wall"]
        lines.append(f"Python XlsxWriter / end to end: {peer / export:.1f}x faster (target >= 10x)")
    peak = max(summary(rs)["rss"] for rs in memory.values())
    lines.append(f"largest peak RSS of the export: {mib(peak)} (target < 64 MiB)")
    ratio = summary(concurrency[2])["wall"] / summary(concurrency[1])["wall"]
    lines.append(f"two jobs at once / one after the other: {ratio:.2f} (target <= 0.6)")
    return lines


def render(m):
    """The Markdown report of one benchmark run."""
    v, level, data, sizes, peers = m.versions, m.level, m.data, m.sizes, m.peers
    results, shapes, configs, concurrency, memory = m.results, m.shapes, m.configs, m.concurrency, m.memory
    names = {"export": "`batch export-worker`, end to end (database -> xlsx -> S3)",
             "alone": "rust_xlsxwriter alone, rows from memory",
             "xlsxwriter": f"Python XlsxWriter {v['XlsxWriter']}, constant_memory",
             "openpyxl": f"Python openpyxl {v['openpyxl']}, write_only (lxml)"}
    out = [
        f"Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC in {m.elapsed / 60:.0f} min by `{m.command}`"
        f" (medians of {m.runs} runs unless the table says fewer).",
        "",
        f"- Machine: {v['machine']}.",
        f"- batchbox {v['batchbox']}, release build; {v['rustc']}; rust_xlsxwriter {v['rust_xlsxwriter']}, "
        f"zip {v['zip']}, flate2 {v['flate2']} on zlib-rs {v['zlib-rs']}, sqlx {v['sqlx']}, "
        f"aws-sdk-s3 {v['aws-sdk-s3']}.",
        f"- Python {v['python']}, XlsxWriter {v['XlsxWriter']}, openpyxl {v['openpyxl']}, psycopg {v['psycopg']}; "
        f"{v['postgresql']}; {v['s3s-fs']} (local S3 API server).",
        f"- Export zip level {level} (EXPORT_ZIP_LEVEL), EXPORT_CONCURRENCY=1 unless said.",
        "",
        "Data: one form of 10 columns (1 integer, 1 decimal, 1 datetime, 7 text) plus the export's three "
        "fixed columns (record id, time, who), so 13 columns per row. Text columns "
        f"at {max(sizes):,} rows:",
        "",
        table(["column", "characters", "distinct values", "empty"],
              [(label, f"{lo}-{hi}", f"{distinct:,}", f"{nulls:.0%}") for label, lo, hi, distinct, nulls in data]),
        "",
    ]
    for n in sizes:
        export = summary(results[n]["export"])
        shape = shapes[n]
        out += [f"### {n:,} rows ({shape['sheets']} sheet, {shape['rows']:,} rows with the header, "
                f"{shape['cells']:,} cells; every program's workbook counted the same)", ""]
        rows = []
        for p in ["export", "alone", *peers]:
            s = summary(results[n][p])
            rss = mib(s["rss"])
            if p == "alone":
                rss = f"+{mib(s['rss'])} (over {mib(s['held'])} of rows held)"
            rows.append((names[p], s["runs"], secs(s["wall"]), secs(s["cpu"]), rss, size(s["bytes"]),
                         f"{s['wall'] / export['wall']:.2f}x"))
        d = summary(results[n]["deflate"])
        xml = results[n]["deflate"][-1]["xml_bytes"]
        rows.append((f"deflate bound: the sheet XML ({size(xml)}) at level {level}, one core", d["runs"],
                     secs(d["wall"]), secs(d["cpu"]), "", size(results[n]["deflate"][-1]["deflated_bytes"]),
                     f"{d['wall'] / export['wall']:.2f}x"))
        out += [table(["program", "runs", "wall (median)", "CPU", "peak RSS", "file", "wall vs end to end"], rows), ""]

    largest = max(sizes)
    out += [f"### Writer configurations, {largest:,} rows", ""]
    base = summary(configs[("alone", f"level {level}")])
    rows = []
    for (what, config), rs in configs.items():
        s = summary(rs)
        who = "end to end" if what == "export" else "rust_xlsxwriter alone"
        rss = mib(s["rss"]) if what == "export" else f"+{mib(s['rss'])}"
        rows.append((who, config, secs(s["wall"]), secs(s["cpu"]), rss, size(s["bytes"]),
                     f"{s['wall'] / base['wall']:.2f}x" if what == "alone" else ""))
    out += [table(["program", "configuration", "wall (median)", "CPU", "peak RSS", "file",
                   f"vs alone at level {level}"], rows), ""]

    one, two = summary(concurrency[1]), summary(concurrency[2])
    out += [f"### Two {largest:,}-row jobs in one worker", "",
            table(["EXPORT_CONCURRENCY", "wall (median)", "CPU", "peak RSS", "vs one at a time"],
                  [(1, secs(one["wall"]), secs(one["cpu"]), mib(one["rss"]), "1.00"),
                   (2, secs(two["wall"]), secs(two["cpu"]), mib(two["rss"]), f"{two['wall'] / one['wall']:.2f}")]),
            ""]
    out += ["### Peak RSS of `batch export-worker` by size", "",
            table(["rows", "wall (median)", "peak RSS (largest of the runs)", "file"],
                  [(f"{n:,}", secs(summary(rs)["wall"]), mib(summary(rs)["rss"]), size(summary(rs)["bytes"]))
                   for n, rs in sorted(memory.items())]),
            ""]
    out += ["### Targets", ""] + [f"- {line}" for line in targets(m)]
    return "\n".join(out)


def write_report(path, report, section="bench"):
    """Puts `report` into the Markdown file between its `<!-- SECTION:begin -->` and
    `<!-- SECTION:end -->` markers (a file that does not exist is created with them)."""
    begin, end = f"<!-- {section}:begin -->", f"<!-- {section}:end -->"
    text = path.read_text() if path.exists() else f"{begin}\n{end}\n"
    if begin not in text or end not in text:
        raise Failed(f"{path} has no {begin} ... {end} markers")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{begin}\n{report}\n{end}{tail}")
