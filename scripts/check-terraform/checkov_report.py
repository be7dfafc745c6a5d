"""Reads checkov's JSON report: every failed check and every skip without a reason fails."""

import json
import sys

with open(sys.argv[1]) as f:
    data = json.load(f)
reports = data if isinstance(data, list) else [data]
passed = failed = parsing_errors = 0
skipped = []
for r in reports:
    res = r.get("results", {})
    passed += len(res.get("passed_checks", []))
    failed += len(res.get("failed_checks", []))
    parsing_errors += r.get("summary", {}).get("parsing_errors", 0)
    for c in res.get("failed_checks", []):
        print(f"    FAILED {c['check_id']} {c['check_name']}: {c['resource']} ({c['file_path']}:{c['file_line_range']})", file=sys.stderr)
    for c in res.get("skipped_checks", []):
        skipped.append((c["check_id"], c["resource"], c["check_result"].get("suppress_comment", "")))
print(f"    checkov: {passed} passed, {failed} failed, {len(skipped)} skipped, {parsing_errors} parsing errors")
for check_id, resource, reason in sorted(set(skipped)):
    print(f"    skip {check_id} on {resource}: {reason}")
    if not reason.strip():
        print("    ^ a skip without a reason", file=sys.stderr)
        failed += 1
if parsing_errors:
    print("    checkov could not parse some files", file=sys.stderr)
sys.exit(1 if failed or parsing_errors or passed == 0 else 0)
