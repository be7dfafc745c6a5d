"""A tally of named checks, shared by the check scripts: each failure is printed as it is found,
and the summary says how many of how many failed (exit 1) or that all passed."""
import sys


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
