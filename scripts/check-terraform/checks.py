"""What the check scripts share: a tally of named checks (each failure is printed as it is found,
and the summary says how many of how many failed, exit 1, or that all passed), and the rules they
restate independently of Terraform to judge what it planned or applied."""
import sys

WATCHER = "missed-runs"  # the watcher's batch; its entry may have any name
UTC_ZONES = ("UTC", "Etc/UTC")  # the names of UTC; any other zone is named in WATCH_SCHEDULES


def watched_entries(batches):
    """WATCH_SCHEDULES as it must be, from an environment's effective entries (the module output
    `batches`): every entry scheduled and enabled here with a grace, except the watcher itself,
    with its time zone only when that is not UTC."""
    return {
        name: {"batch": b["batch"], "schedule": b["schedule"], "grace_minutes": b["grace_minutes"]}
        | ({} if b["timezone"] in UTC_ZONES else {"timezone": b["timezone"]})
        for name, b in batches.items()
        if b["batch"] != WATCHER and b["schedule"] is not None and b["enabled"] and b["grace_minutes"] is not None
    }


class Checks:
    def __init__(self):
        self.failures = []
        self.count = 0

    def __call__(self, condition, message):
        self.count += 1
        if not condition:
            self.failures.append(message)
            print(f"    FAIL {message}", file=sys.stderr)

    def finish(self, what, detail):
        if self.failures:
            print(f"    {what}: {len(self.failures)} of {self.count} checks FAILED", file=sys.stderr)
            sys.exit(1)
        print(f"    {what}: {self.count} checks passed {detail}")
