#!/usr/bin/env python3
"""Helpers of scripts/check-image.sh (standard library only). Every subcommand exits non-zero
with a message on stderr when what it reads is not what it expects.

  mirror                       Debian archive and security URLs apt uses on this machine
  from-image DOCKERFILE STAGE  the image reference of the FROM line of stage STAGE, normalized
  catalog FILE                 scheduled entries: "entry<TAB>batch<TAB>task_count<TAB>arg<TAB>arg..." lines
  catalog-names FILE           every batch the catalog runs, local_only included (once each)
  watch-schedules FILE         WATCH_SCHEDULES as Terraform sets it on the missed-runs watcher
  (FILE: the output of `batch schedule --json`, the one reading of the catalog)
  task-env FILE|-               the container environment defaults, from tf-eval.sh's JSON (KEY=VALUE lines)
  image-config FILE            checks an OCI image config (skopeo inspect --config)
  default-command FILE         Entrypoint + Cmd of an OCI image config, one word per line
  list-output FILE NAME...     checks `batch list` output names every NAME
  logs NAME FILE...            checks each FILE (stdout of one run) is JSON log lines of NAME
"""

import glob
import json
import re
import sys


def read_text(path, errors="strict"):
    with open(path, encoding="utf-8", errors=errors) as f:
        return f.read()


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def fail(message):
    print(f"helpers.py: {message}", file=sys.stderr)
    sys.exit(1)


# --- apt sources --------------------------------------------------------------------------------

def apt_entries():
    """(uri, suites) of every enabled `deb` entry, one-line and deb822 formats."""
    entries = []
    for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
        try:
            lines = read_text(path).splitlines()
        except FileNotFoundError:
            continue
        for line in lines:
            line = line.split("#", 1)[0].strip()
            line = re.sub(r"\[[^\]]*\]", " ", line)  # [signed-by=... arch=...]
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb":
                entries.append((parts[1], [parts[2]]))
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        text = read_text(path)
        for stanza in re.split(r"\n\s*\n", text):
            fields, key = {}, None
            for line in stanza.splitlines():
                if line.startswith("#") or not line.strip():
                    continue
                if line[0] in " \t" and key:
                    fields[key] += " " + line.strip()
                    continue
                key, _, value = line.partition(":")
                key = key.strip().lower()
                fields[key] = value.strip()
            if "deb" not in fields.get("types", "").split():
                continue
            if fields.get("enabled", "yes").lower() == "no":
                continue
            for uri in fields.get("uris", "").split():
                entries.append((uri, fields.get("suites", "").split()))
    return entries


def cmd_mirror():
    archive = security = None
    for uri, suites in apt_entries():
        for suite in suites:
            if suite.endswith("-security"):
                security = security or uri
            elif re.fullmatch(r"[a-z]+", suite) and "security" not in uri:
                archive = archive or uri
    if not archive:
        fail("no Debian archive (a `deb URI <codename>` entry) in /etc/apt/sources.list*")
    print(archive.rstrip("/"))
    print((security or "").rstrip("/"))


# --- Dockerfile ---------------------------------------------------------------------------------

def normalize_reference(ref):
    """docker.io/library/... form, as buildah and Docker resolve a short name."""
    first, _, rest = ref.partition("/")
    if not rest or ("." not in first and ":" not in first and first != "localhost"):
        ref = "docker.io/" + (ref if rest else "library/" + ref)
    return ref


def cmd_from_image(path, stage):
    found = None
    for line in read_text(path).splitlines():
        m = re.match(r"\s*FROM\s+(?:--platform=\S+\s+)?(\S+)\s+AS\s+(\S+)\s*$", line, re.I)
        if m and m.group(2).lower() == stage.lower():
            found = m.group(1)
    if not found:
        fail(f"{path}: no `FROM <image> AS {stage}` line")
    if "$" in found:
        fail(f"{path}: stage {stage} is FROM {found}: a variable, not an image name")
    print(normalize_reference(found))


# --- Terraform catalog, as `batch schedule --json` reads it ----------------------------------

WATCHER = "missed-runs"  # the watcher's batch; its entry may have any name


def read_schedule_json(path):
    try:
        data = read_json(path)
        return data["entries"], data["local_only"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        fail(f"{path}: not the output of `batch schedule --json` ({e})")


def cmd_catalog(path):
    entries, _ = read_schedule_json(path)
    scheduled = [e for e in entries if e["schedule"]]
    if not scheduled:
        fail(f"{path}: no entry has a schedule")
    for e in scheduled:
        for a in e["args"]:
            if "\t" in a or "\n" in a:
                fail(f"{path}: entry {e['name']}: an argument holds a tab or newline")
        print("\t".join([e["name"], e["batch"], str(e["task_count"]), *e["args"]]))


def cmd_catalog_names(path):
    entries, local = read_schedule_json(path)
    for name in dict.fromkeys([e["batch"] for e in entries] + local):
        print(name)


def cmd_watch_schedules(path):
    entries, _ = read_schedule_json(path)
    watched = {
        e["name"]: {"batch": e["batch"], "grace_minutes": e["grace_minutes"], "schedule": e["schedule"]}
        for e in entries
        if e["batch"] != WATCHER and e["schedule"] and e["enabled"] and e["grace_minutes"] is not None
    }
    print(json.dumps(watched, sort_keys=True, separators=(",", ":")))


def cmd_task_env(path):
    """The defaults as `tf-eval.sh file ...` prints them (one JSON object), as KEY=VALUE lines."""
    text = sys.stdin.read() if path == "-" else read_text(path)
    try:
        env = json.loads(text)
    except ValueError as e:
        fail(f"{path}: not a JSON object of the task environment defaults ({e})")
    if not isinstance(env, dict) or env.get("LOG_FORMAT") != "json":
        fail(f"{path}: the container environment defaults do not set LOG_FORMAT = \"json\"")
    for k, v in env.items():
        print(f"{k}={v}")


# --- image checks -------------------------------------------------------------------------------

def cmd_image_config(path):
    cfg = read_json(path).get("config") or {}
    problems = []
    user = cfg.get("User") or ""
    uid = user.split(":", 1)[0]
    if not uid.isdigit():
        problems.append(f"User is {user!r}: want a numeric UID (ECS/Kubernetes can then tell it is not root)")
    elif int(uid) == 0:
        problems.append("User is root (UID 0)")
    if cfg.get("Entrypoint") != ["/usr/local/bin/batch"]:
        problems.append(f"Entrypoint is {cfg.get('Entrypoint')!r}, want ['/usr/local/bin/batch']")
    if cfg.get("Cmd") != ["list"]:
        problems.append(f"Cmd is {cfg.get('Cmd')!r}, want ['list']")
    if "/tmp" not in (cfg.get("Volumes") or {}):
        problems.append("no VOLUME /tmp (a Fargate bind mount on /tmp would be root-owned 0755)")
    if problems:
        fail("image config: " + "; ".join(problems))
    print(f"User={user} Entrypoint={json.dumps(cfg['Entrypoint'])} Cmd={json.dumps(cfg['Cmd'])} "
          f"WorkingDir={cfg.get('WorkingDir', '')} Volumes={sorted(cfg['Volumes'])}")


def cmd_default_command(path):
    cfg = read_json(path).get("config") or {}
    words = (cfg.get("Entrypoint") or []) + (cfg.get("Cmd") or [])
    if not words or any("\n" in w for w in words):
        fail("image config: no usable Entrypoint/Cmd")
    for w in words:
        print(w)


def cmd_list_output(path, names):
    listed = {line.split()[0] for line in read_text(path).splitlines() if line.strip()}
    missing = [n for n in names if n not in listed]
    if missing:
        fail(f"`batch list` does not list: {', '.join(missing)}")
    print(f"lists all {len(names)} catalog batches")


def cmd_logs(name, paths):
    for path in paths:
        lines = read_text(path, errors="replace").splitlines()
        if not lines:
            fail(f"{path}: no output at all on stdout")
        run_ids, status, counts = set(), None, None
        for n, line in enumerate(lines, 1):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                fail(f"{path}:{n}: not a JSON line: {line[:200]!r}")
            if not isinstance(obj, dict):
                fail(f"{path}:{n}: not a JSON object")
            if obj.get("batch") != name:
                fail(f"{path}:{n}: batch is {obj.get('batch')!r}, want {name!r}")
            if not isinstance(obj.get("run_id"), str) or not obj["run_id"]:
                fail(f"{path}:{n}: no run_id")
            run_ids.add(obj["run_id"])
            if obj.get("message") == "run finished":
                status = obj.get("status")
                counts = obj.get("counts")
        if len(run_ids) != 1:
            fail(f"{path}: {len(run_ids)} different run_ids in one run")
        detail = f"status={status}" + (f" counts={json.dumps(counts, separators=(',', ':'))}"
                                       if status and counts else "")
        print(f"{len(lines)} JSON lines, run_id {run_ids.pop()}, {detail}")


def main(argv):
    if not argv:
        fail("usage: helpers.py SUBCOMMAND ...")
    cmd, args = argv[0], argv[1:]
    table = {
        "mirror": (0, lambda: cmd_mirror()),
        "from-image": (2, lambda: cmd_from_image(*args)),
        "catalog": (1, lambda: cmd_catalog(*args)),
        "catalog-names": (1, lambda: cmd_catalog_names(*args)),
        "watch-schedules": (1, lambda: cmd_watch_schedules(*args)),
        "task-env": (1, lambda: cmd_task_env(*args)),
        "image-config": (1, lambda: cmd_image_config(*args)),
        "default-command": (1, lambda: cmd_default_command(*args)),
        "list-output": (None, lambda: cmd_list_output(args[0], args[1:])),
        "logs": (None, lambda: cmd_logs(args[0], args[1:])),
    }
    if cmd not in table:
        fail(f"unknown subcommand {cmd}")
    nargs, fn = table[cmd]
    if (nargs is not None and len(args) != nargs) or (nargs is None and len(args) < 2):
        fail(f"{cmd}: wrong number of arguments")
    fn()


if __name__ == "__main__":
    main(sys.argv[1:])
