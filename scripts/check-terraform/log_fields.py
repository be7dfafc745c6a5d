"""The fields a Logs Insights query of batchbox may read: the table "Fields the queries may read" in
docs/operations.md (the log contract), each checked against the code that logs it, so the list
cannot name a field no batch writes.

    read(root) -> set of field names                 raises FieldListError

A `counts.<name>` field must be added by some batch (`counts.add("<name>", ...)` under src/); any other
field must be a name the Rust code uses (the runtime, telemetry and batches log their fields by
name); `@` fields must be ones CloudWatch Logs discovers itself.
"""

import glob
import os
import re

HEADING = "### Fields the queries may read"
# CloudWatch Logs User Guide, "Supported logs and discovered fields": every log event has these.
DISCOVERED = {"@timestamp", "@message", "@logStream", "@log", "@ingestionTime"}
ROW = re.compile(r"^\| `([^`]+)` \|")


class FieldListError(ValueError):
    pass


def rust_sources(root):
    texts = []
    for path in sorted(glob.glob(os.path.join(root, "src", "**", "*.rs"), recursive=True)):
        with open(path, encoding="utf-8") as f:
            texts.append(f.read())
    if not texts:
        raise FieldListError(f"no Rust source under {os.path.join(root, 'src')}")
    return "\n".join(texts)


def table(root):
    path = os.path.join(root, "docs", "operations.md")
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    try:
        start = lines.index(HEADING)
    except ValueError:
        raise FieldListError(f"{path} has no section {HEADING!r}") from None
    names = []
    for line in lines[start + 1:]:
        if line.startswith("#"):
            break
        m = ROW.match(line)
        if m:
            names.append(m.group(1))
    if not names:
        raise FieldListError(f"the section {HEADING!r} of {path} lists no field")
    return names


def read(root):
    names = table(root)
    source = rust_sources(root)
    problems = []
    for name in names:
        if names.count(name) > 1:
            problems.append(f"{name}: listed twice")
        elif name.startswith("@"):
            if name not in DISCOVERED:
                problems.append(f"{name}: not a field CloudWatch Logs discovers ({', '.join(sorted(DISCOVERED))})")
        elif name.startswith("counts."):
            count = name[len("counts."):]
            if not re.search(r'counts\s*\.add\(\s*"' + re.escape(count) + '"', source):
                problems.append(f"{name}: no batch adds the count {count!r} (counts.add(\"{count}\", ...) under src/)")
        elif not re.fullmatch(r"[a-z_]+", name) or not re.search(r"\b" + re.escape(name) + r"\b", source):
            problems.append(f"{name}: not a name the Rust code logs")
    if problems:
        raise FieldListError("docs/operations.md, " + repr(HEADING[4:]) + ": " + "; ".join(sorted(set(problems))))
    return set(names)
