"""The arithmetic of the month-start peak (bench/peak.py): the queue's job sizes, the lower bound of
a makespan, list scheduling, and the cost per job fitted to measured jobs. Standard library only,
no servers: `python3 bench/peak_model.py` runs the self-check against hand-computed cases
(scripts/test.sh does, and bench/peak.py before it measures anything)."""

import heapq
import random
import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Shape:
    """A queue of `jobs` jobs whose sizes follow a Pareto law: `smallest` rows at the least, shape
    `alpha` (the smaller, the more skewed), capped at `largest` rows (the largest tenants)."""

    jobs: int
    smallest: int
    alpha: float
    largest: int


def sizes(shape):
    """Rows per job, largest first: the law's quantile at the middle of each of `jobs` equal slices
    of probability, so the same shape always gives the same queue, with no sampling noise."""
    n = shape.jobs
    return [min(shape.largest, round(shape.smallest * ((i + 0.5) / n) ** (-1 / shape.alpha))) for i in range(n)]


def tenants(job_sizes, seed):
    """Deals the jobs out to tenants of 1 to 5 forms each, in a seeded random order: the enqueue's
    order (by tenant, then form) is then unrelated to size, as it is for real tenants."""
    rng = random.Random(seed)
    order = list(job_sizes)
    rng.shuffle(order)
    dealt, i = [], 0
    while i < len(order):
        forms = rng.randint(1, 5)
        dealt.append(order[i : i + forms])
        i += forms
    return dealt


def percentile(values, p):
    """The nearest-rank percentile p (0-100) of the values."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def describe(job_sizes):
    return {
        "jobs": len(job_sizes),
        "rows": sum(job_sizes),
        "smallest": min(job_sizes),
        "p50": percentile(job_sizes, 50),
        "p90": percentile(job_sizes, 90),
        "p99": percentile(job_sizes, 99),
        "largest": max(job_sizes),
    }


def lower_bound(durations, lanes):
    """No schedule of these jobs on `lanes` lanes ends sooner: the lanes cannot share out more than
    the total work, and no job can be split."""
    return max(sum(durations) / lanes, max(durations))


def list_schedule(durations, lanes):
    """The makespan when each lane, as soon as it is free, takes the next job in this order (what
    workers claiming from the queue do), with no time between jobs."""
    free = [0.0] * lanes
    end = 0.0
    for d in durations:
        start = heapq.heappop(free)
        heapq.heappush(free, start + d)
        end = max(end, start + d)
    return end


ORDERS = ("fifo", "smallest-first", "largest-first")


def in_order(jobs, order, size=lambda job: job):
    """The jobs in the claim order named: `fifo` keeps the queue's order (the enqueue's)."""
    if order == "fifo":
        return list(jobs)
    return sorted(jobs, key=size, reverse=order == "largest-first")


def fifo_median(durations, lanes, seed, orders=101):
    """The median makespan over `orders` seeded random orders: first in, first out when the
    enqueue's order is unrelated to size."""
    rng = random.Random(seed)
    spans = []
    for _ in range(orders):
        shuffled = list(durations)
        rng.shuffle(shuffled)
        spans.append(list_schedule(shuffled, lanes))
    return statistics.median(spans)


@dataclass(frozen=True)
class Cost:
    """Seconds per job: `per_job` + `per_row` x rows, fitted by least squares (`r2`: how much of
    the variation of the measured durations the line explains; `points`: measured jobs)."""

    per_job: float
    per_row: float
    r2: float
    points: int

    def seconds(self, rows):
        return self.per_job + self.per_row * rows


def fit(rows, seconds):
    """The least-squares line through (rows, seconds)."""
    n = len(rows)
    mx, my = sum(rows) / n, sum(seconds) / n
    sxx = sum((x - mx) ** 2 for x in rows)
    sxy = sum((x - mx) * (y - my) for x, y in zip(rows, seconds, strict=True))
    per_row = sxy / sxx
    per_job = my - per_row * mx
    total = sum((y - my) ** 2 for y in seconds)
    residual = sum((y - per_job - per_row * x) ** 2 for x, y in zip(rows, seconds, strict=True))
    return Cost(per_job, per_row, 1 - residual / total if total else 1.0, n)


def self_check():
    """Hand-computed cases; raises AssertionError on the first that fails."""

    def same(got, want, what):
        assert abs(got - want) < 1e-9, f"{what}: got {got}, want {want}"

    # One lane: one job after the other.
    same(list_schedule([3, 1, 2], 1), 6, "one lane")
    # More lanes than jobs: the longest job.
    same(list_schedule([3, 1, 2], 5), 3, "more lanes than jobs")
    # Two lanes, [5, 4, 3, 3, 3] largest first: 5 | 4, the 3s go to the lane free first: lane 2 at
    # 4 (ends 7), lane 1 at 5 (ends 8), lane 2 at 7 (ends 10). The bound is max(18 / 2, 5) = 9.
    same(list_schedule([5, 4, 3, 3, 3], 2), 10, "largest first")
    same(lower_bound([5, 4, 3, 3, 3], 2), 9, "bound of 18 s on 2 lanes")
    # Smallest first: 3 | 3, then 3 on lane 1 (ends 6), 4 on lane 2 (ends 7), 5 on lane 1 at 6
    # (ends 11): the largest job, claimed last, holds the peak open.
    same(list_schedule([3, 3, 3, 4, 5], 2), 11, "smallest first")
    # One long job dominates: the bound is the job, and largest first meets it.
    same(lower_bound([10, 1, 1, 1], 2), 10, "bound of a dominant job")
    same(list_schedule([10, 1, 1, 1], 2), 10, "dominant job first")
    same(list_schedule([1, 1, 1, 10], 2), 11, "dominant job last")
    # Orders.
    assert in_order([2, 5, 1], "fifo") == [2, 5, 1]
    assert in_order([2, 5, 1], "smallest-first") == [1, 2, 5]
    assert in_order([2, 5, 1], "largest-first") == [5, 2, 1]
    # Shuffled orders of equal jobs all end at the same time.
    same(fifo_median([2, 2, 2, 2], 2, seed=1, orders=5), 4, "equal jobs in any order")
    # The fit recovers an exact line: 50 ms per job + 20 us per row.
    cost = fit([100, 1_000, 10_000, 1_000_000], [0.05 + 2e-5 * r for r in (100, 1_000, 10_000, 1_000_000)])
    same(cost.per_job, 0.05, "fitted cost per job")
    same(cost.per_row, 2e-5, "fitted cost per row")
    same(cost.r2, 1.0, "fit of an exact line")
    # Sizes: Pareto(100, 1) at the middles of 4 slices, 1/8, 3/8, 5/8, 7/8: 100 x 8, 100 x 8/3,
    # 100 x 8/5, 100 x 8/7, rounded; capped at 500.
    assert sizes(Shape(jobs=4, smallest=100, alpha=1.0, largest=1_000)) == [800, 267, 160, 114]
    assert sizes(Shape(jobs=4, smallest=100, alpha=1.0, largest=500)) == [500, 267, 160, 114]
    dealt = tenants([1, 2, 3, 4, 5, 6, 7], seed=3)
    assert sorted(s for forms in dealt for s in forms) == [1, 2, 3, 4, 5, 6, 7], "every job dealt once"
    assert all(1 <= len(forms) <= 5 for forms in dealt), "1 to 5 forms per tenant"
    assert dealt == tenants([1, 2, 3, 4, 5, 6, 7], seed=3), "the same seed deals the same"
    # Nearest-rank percentiles of 1..10.
    assert [percentile(range(1, 11), p) for p in (50, 90, 99, 100)] == [5, 9, 10, 10]


if __name__ == "__main__":
    self_check()
    print("peak_model: self-check passed")
