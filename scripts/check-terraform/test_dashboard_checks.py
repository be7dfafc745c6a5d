"""Tests of the dashboard checks (insights_query, dashboard_body, log_fields) on good and deliberately
bad input. Run: python3 -m unittest discover -s scripts/check-terraform -p 'test_*.py'"""

import json
import os
import tempfile
import unittest

import dashboard_body
import insights_query
import log_fields

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIELDS = log_fields.read(ROOT)
GROUP = "/ecs/batchbox-test"
ARN = "arn:aws:cloudwatch:ap-northeast-1:123456789012:alarm:batchbox-test-events-dlq-not-empty"


def parse(query, sources=False):
    return insights_query.parse(query, FIELDS, sources=sources)


class QueriesTheDashboardAndSavedQueriesUse(unittest.TestCase):
    def test_the_saved_queries_parse(self):
        parse('fields @timestamp, batch, run_id, status, exit_code, duration_ms, @logStream\n'
              '| filter message = "run finished" and status not in ["succeeded", "skipped"]\n'
              '| sort @timestamp desc\n| limit 200\n')
        parse('filter message = "run finished"\n'
              '| stats count(*) as runs, sum(status = "succeeded") as succeeded, avg(duration_ms) as avg_ms, '
              'pct(duration_ms, 95) as p95_ms, max(duration_ms) as max_ms by batch\n| sort batch\n')
        parse('fields @timestamp, level, message, target, @message\n| filter run_id = "REPLACE-WITH-RUN-ID"\n'
              '| sort @timestamp asc\n| limit 10000\n')

    def test_a_time_series_query_reads_its_fields_and_groups_by_bin_alone(self):
        query = parse(f"SOURCE '{GROUP}' | filter message = \"run finished\" and batch = \"canary\"\n"
                      "| stats sum(strcontains(status, \"failed\")) as failed, max(duration_ms) as max_ms by bin(1h)",
                      sources=True)
        self.assertEqual(query.sources, [GROUP])
        self.assertEqual(query.fields_read, {"message", "batch", "status", "duration_ms"})
        self.assertIsNone(query.time_series_problem())

    def test_nested_counts_comments_quotes_regexes_and_parse(self):
        parse("# the export\nfields counts.rows, `counts.bytes`, 'x' as literal | filter message like /export job/"
              " and error =~ 'timeout' | parse error \"* after *\" as what, when | display what, when")
        parse("parse @message /(?<kind>[a-z]+) finished/ | filter kind = \"run\" | stats count() as n by kind")
        parse("filter not ispresent(error) and -duration_ms < 0 | fields duration_ms / 1000 ^ 2 % 7 as s")

    def test_periods_the_stats_page_lists(self):
        for period in ("30s", "5m", "5min", "5mins", "1h", "2hrs", "1d", "1w", "1mo", "1q", "1y", "100ms"):
            with self.subTest(period=period):
                parse(f"stats count(*) as n by bin({period})")


class QueriesItRejects(unittest.TestCase):
    BAD = {
        "fields nosuchfield": "field 'nosuchfield'",
        "filter counts.nosuch > 0": "field 'counts.nosuch'",
        "fields @timestamp | sort runs desc": "field 'runs'",
        "stats count(*) as n by batch | sort duration_ms": "not a result of the stats",
        "filter max(duration_ms) > 1": "allowed only in stats",
        "stats sum(max(duration_ms)) as x": "aggregation inside an aggregation",
        "stats duration_ms": "must be an aggregation",
        "stats count(*) by bin(1fortnight)": "neither a number nor a period",
        "stats count(*) by bin(batch)": "bin() takes a period",
        "fields bin(1h) as t": "bin() at line 1",
        "filter foo(batch)": "unknown function foo()",
        "filter strcontains(batch)": "takes 2 arguments, not 1",
        "filter batch = \"canary": "unterminated",
        "filter batch = 'canary\"": "unterminated",
        "fields batch | | limit 1": "expected a command",
        "fields batch |": "expected a command",
        "dedup batch": "expected a command",
        "FIELDS batch": "expected a command",
        "limit 0": "whole number from 1 to 10000",
        "limit 10001": "whole number from 1 to 10000",
        "limit 1.5": "whole number",
        "fields batch limit 1": "expected '|' or the end",
        "filter batch in \"canary\"": "expected '['",
        "filter batch not \"canary\"": "expected 'in' after 'not'",
        "filter batch like 3": "string\" or /regex/",
        "fields duration_ms * 2": "needs 'as <name>'",
        "parse error \"* *\" as one": "has 2 * but 1 names",
        "parse error /no groups/": "name its groups",
        "filter batch = 🚚": "unexpected character '🚚'",
        "filter batch = \"𠮷\" & 1": "unexpected character '&'",
        "": "the query is empty",
        "   # only a comment": "the query is empty",
    }

    def test_each_bad_query_is_rejected_naming_the_culprit(self):
        for query, culprit in self.BAD.items():
            with self.subTest(query=query):
                with self.assertRaises(insights_query.QueryError) as caught:
                    parse(query)
                self.assertIn(culprit, str(caught.exception))

    def test_every_cut_and_splice_of_a_query_parses_or_is_refused_never_crashes(self):
        good = ("SOURCE '/ecs/x' | fields @timestamp, `counts.rows` as r # c\n| filter message like /a/ and "
                "status not in [\"succeeded\"] | parse error \"* *\" as a, b | stats sum(strcontains(status, "
                "'x')) as n, pct(duration_ms, 95) as p by bin(1h) | sort n desc | limit 5")
        for i in range(len(good) + 1):
            for piece in (good[:i], good[i:], good[:i] + good[i + 1:], good[:i] + "🚚" + good[i:]):
                for sources in (False, True):
                    try:
                        parse(piece, sources=sources)
                    except insights_query.QueryError:
                        pass

    def test_a_dashboard_query_must_start_with_its_source(self):
        for query, culprit in {"fields batch": "starts with SOURCE", "SOURCE '' | fields batch": "SOURCE takes",
                               f"SOURCE '{GROUP}' fields batch": "expected '|'", 42: "not a string"}.items():
            with self.subTest(query=query):
                with self.assertRaises(insights_query.QueryError) as caught:
                    parse(query, sources=True)
                self.assertIn(culprit, str(caught.exception))

    def test_a_time_series_needs_stats_by_bin_alone(self):
        self.assertIn("no stats", parse("fields batch").time_series_problem())
        self.assertIn("not by bin() alone", parse("stats count(*) as n by bin(1h), batch").time_series_problem())
        self.assertIn("not by bin() alone", parse("stats count(*) as n by batch").time_series_problem())


def widget(kind, properties, x=0, y=0, width=12, height=6):
    return {"type": kind, "x": x, "y": y, "width": width, "height": height, "properties": properties}


def log(query="stats count(*) as n by bin(1h)", view="timeSeries", **place):
    return widget("log", {"region": "ap-northeast-1", "title": "t", "view": view,
                          "query": f"SOURCE '{GROUP}' | {query}"}, **place)


def body_problems(widgets, **top):
    return dashboard_body.check_body(json.dumps({"widgets": widgets, **top}), FIELDS, {GROUP}, {ARN}).problems


class DashboardBodies(unittest.TestCase):
    def test_a_body_by_the_documented_structure_passes(self):
        self.assertEqual(body_problems([
            widget("text", {"markdown": "# <b>&\"'</b> 🚚 𠮷", "background": "transparent"}, width=24, height=2),
            widget("alarm", {"alarms": [ARN], "sortBy": "stateUpdatedTimestamp", "states": ["ALARM"], "title": "a"}, y=2),
            log(x=12, y=2),
            log("fields batch, @logStream | sort @timestamp desc | limit 5", view="table", y=8, width=24),
            log("stats count(*) as n by batch", view="bar", y=14),
        ], start="-P14D", periodOverride="inherit"), [])

    def test_each_broken_rule_is_reported(self):
        cases = {
            "unknown top-level property 'title'": ([], {"title": "x"}),
            "start '-14d'": ([], {"start": "-14d"}),
            "end '2026-01-01T00:00:00Z' needs a start": ([], {"end": "2026-01-01T00:00:00Z"}),
            "periodOverride 'never'": ([], {"periodOverride": "never"}),
            "type 'metric' is not one this check knows": ([widget("metric", {})], {}),
            "x and y must be given together": ([{"type": "text", "x": 0, "properties": {"markdown": "m"}}], {}),
            "x 24 is not an integer from 0 to 23": ([log(x=24, width=1)], {}),
            "width 25": ([log(width=25)], {}),
            "width True": ([log(width=True)], {}),
            "height 0": ([log(height=0)], {}),
            "y -1": ([log(y=-1)], {}),
            "goes past the 24-column grid": ([log(x=20, width=6)], {}),
            "overlaps widget 0": ([log(), log(x=6, y=3)], {}),
            "unknown property 'stacked'": ([widget("log", {"region": "r", "query": f"SOURCE '{GROUP}' | fields batch",
                                                           "stacked": False})], {}),
            "log widget without 'region'": ([widget("log", {"query": f"SOURCE '{GROUP}' | fields batch"})], {}),
            "view 'line'": ([log(view="line")], {}),
            "log group '/ecs/elsewhere' does not exist": ([widget("log", {"region": "r", "query": "SOURCE '/ecs/elsewhere' | fields batch"})], {}),
            "the query does not parse": ([log("fields nosuchfield", view="table")], {}),
            "a timeSeries view needs stats grouped by bin() alone": ([log("stats count(*) as n by batch")], {}),
            "a pie view needs a stats command": ([log("fields batch", view="pie")], {}),
            "alarm widget without 'alarms'": ([widget("alarm", {})], {}),
            "alarms is not a list of 1 to 100 ARNs": ([widget("alarm", {"alarms": [ARN] * 101})], {}),
            "is not an alarm ARN": ([widget("alarm", {"alarms": ["batchbox-test-events-dlq-not-empty"]})], {}),
            "does not exist": ([widget("alarm", {"alarms": [ARN + "-gone"]})], {}),
            "sortBy 'name'": ([widget("alarm", {"alarms": [ARN], "sortBy": "name"})], {}),
            "states ['RED']": ([widget("alarm", {"alarms": [ARN], "states": ["RED"]})], {}),
            "markdown is empty": ([widget("text", {"markdown": " "})], {}),
            "background 'red'": ([widget("text", {"markdown": "m", "background": "red"})], {}),
            "properties missing": ([{"type": "text"}], {}),
        }
        for culprit, (widgets, top) in cases.items():
            with self.subTest(culprit=culprit):
                problems = body_problems(widgets, **top)
                self.assertTrue(any(culprit in p for p in problems), problems)

    def test_any_json_gives_problems_never_an_exception(self):
        odd = [None, True, 1, -1, 1.5, "", "🚚", "<>&\"'", [], [None], {}, {"a": []}, ["x", {}]]
        keys = ["type", "x", "y", "width", "height", "properties", "query", "region", "view", "alarms", "states",
                "sortBy", "markdown", "background", "title", "start", "end", "periodOverride", "widgets"]
        for value in odd:
            for key in keys:
                bodies = [{"widgets": [{key: value}]}, {"widgets": [{"type": "log", "properties": {key: value}}]},
                          {"widgets": [{"type": "alarm", "properties": {key: value}}]},
                          {"widgets": [{"type": "text", "properties": {key: value}}]}, {key: value}, value]
                for body in bodies:
                    with self.subTest(body=body):
                        report = dashboard_body.check_body(json.dumps(body), FIELDS, {GROUP}, {ARN})
                        self.assertIsInstance(report.problems, list)

    def test_not_json_and_no_widgets(self):
        self.assertIn("not JSON", dashboard_body.check_body("{", FIELDS, set(), set()).problems[0])
        self.assertIn("no widgets array", dashboard_body.check_body("{}", FIELDS, set(), set()).problems[0])
        self.assertIn("at most 500", body_problems([widget("text", {"markdown": "m"}) for _ in range(501)], )[0])


class TheFieldList(unittest.TestCase):
    def root_with(self, rows, source='counts.add("rows", 1); let status = 0;'):
        root = tempfile.mkdtemp()
        os.makedirs(os.path.join(root, "docs"))
        os.makedirs(os.path.join(root, "src"))
        with open(os.path.join(root, "docs", "operations.md"), "w", encoding="utf-8") as f:
            f.write(f"# Ops\n\n{log_fields.HEADING}\n\n| field | on | what |\n|---|---|---|\n{rows}\n## Next\n| `later` | x | y |\n")
        with open(os.path.join(root, "src", "lib.rs"), "w", encoding="utf-8") as f:
            f.write(source)
        return root

    def test_the_project_list_holds_the_run_finished_fields(self):
        self.assertTrue({"batch", "run_id", "status", "exit_code", "duration_ms", "error", "counts.rows"} <= FIELDS)

    def test_a_field_the_code_does_not_log_is_refused(self):
        for row, culprit in {"| `counts.rowz` | x | y |": "no batch adds the count 'rowz'",
                             "| `statuz` | x | y |": "statuz: not a name the Rust code logs",
                             "| `@nothing` | x | y |": "@nothing: not a field CloudWatch Logs discovers",
                             "| `status` | x | y |\n| `status` | x | y |": "status: listed twice"}.items():
            with self.subTest(row=row):
                with self.assertRaises(log_fields.FieldListError) as caught:
                    log_fields.read(self.root_with(row))
                self.assertIn(culprit, str(caught.exception))

    def test_the_list_ends_at_the_next_heading(self):
        self.assertEqual(log_fields.read(self.root_with("| `status` | x | y |\n| `counts.rows` | x | y |")),
                         {"status", "counts.rows"})

    def test_a_missing_section_is_named(self):
        root = self.root_with("")
        with self.assertRaises(log_fields.FieldListError) as caught:
            log_fields.read(root)
        self.assertIn("lists no field", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
