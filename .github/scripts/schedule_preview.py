"""Schedule preview of a pull request, in Markdown, from two `batch schedule --markdown` tables.

    python3 schedule_preview.py BASE.md HEAD.md ENVIRONMENT

BASE.md is the table of the pull request's base (empty when the base has no catalog), HEAD.md the
table of the pull request, both printed by the pull request's binary: one row per catalog entry,
with the batch it runs. An entry is "new" when only the head has it, "changed" when its batch, its
schedule (including an environment override) or its description (which includes what it launches)
differs, "removed" when only the base has it. The next fire times are not compared: they depend on
the moment each table was printed.

Prints the schedule engine (and says so when the pull request switches it), the changed and new
entries with their next runs in UTC and in local time (the entry's own zone, else Tokyo time), the
removed ones, and the whole head table folded below.
"""

import sys


def read_engine(path):
    """The `Schedule engine: ...` line printed before the table ("" when there is none)."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("Schedule engine:"):
                return line.strip()
    return ""


def read_table(path):
    """Returns (header lines, {entry: (signature, row)}) of a `batch schedule --markdown` table;
    the signature is (schedule, batch, description)."""
    with open(path, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f if line.startswith("|")]
    if len(lines) < 2:
        return [], {}
    rows = {}
    for line in lines[2:]:
        # | `entry` | `batch` | `schedule` (override) | next UTC | next local | description |
        cells = line.split("|")
        if len(cells) < 8:
            raise SystemExit(f"unexpected row in {path}: {line}")
        name = cells[1].strip().strip("`")
        batch = cells[2].strip()
        schedule = cells[3].strip()
        description = "|".join(cells[6:-1]).strip()
        rows[name] = ((schedule, batch, description), line)
    return lines[:2], rows


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    _, base = read_table(sys.argv[1])
    header, head = read_table(sys.argv[2])
    environment = sys.argv[3]
    engine, base_engine = read_engine(sys.argv[2]), read_engine(sys.argv[1])
    if not header:
        raise SystemExit(f"no table in {sys.argv[2]}")

    new, changed = [], []
    for name, (signature, row) in head.items():
        if name not in base:
            new.append(f"| **new** {row}")
        elif base[name][0] != signature:
            changed.append(f"| **changed** (was {base[name][0][0]}) {row}")
    removed = [(name, signature[0]) for name, (signature, _) in base.items() if name not in head]
    change_header = ["| change " + header[0], "|---" + header[1]]

    out = [f"### Schedules on {environment}", ""]
    out.append(
        (f"{engine}. " if engine else "")
        + "An entry written in a time zone shows it beside its schedule; the local column is "
        "its own zone, else Tokyo time (Asia/Tokyo, UTC+9). One row per catalog entry; "
        "several entries may run the same batch. "
        f"This pull request: {len(new)} new, {len(changed)} changed, {len(removed)} removed."
    )
    out.append("")
    if base_engine and base_engine != engine:
        out += [
            f"**This pull request switches the schedule engine** (was: {base_engine.removeprefix('Schedule engine: ')}): "
            "the plan removes every schedule of one engine and adds them in the other; "
            "docs/operations.md, section 'Switching the schedule engine', says how to do it "
            "without a missed or doubled run.",
            "",
        ]
    if new or changed:
        out += change_header + changed + new
        out.append("")
    if removed:
        out.append("Removed (no more task definition, rule or alarm):")
        out += [f"- `{name}` (was {schedule})" for name, schedule in removed]
        out.append("")
    if not new and not changed and not removed:
        out += ["No schedule changes.", ""]
    out.append(f"<details><summary>Every catalog entry on {environment} ({len(head)})</summary>")
    out.append("")
    out += header + [row for _, row in head.values()]
    out.append("")
    out.append("</details>")
    print("\n".join(out))


if __name__ == "__main__":
    main()
