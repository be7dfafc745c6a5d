"""A plan for a new image tag may replace task definitions and change nothing else."""

import json
import sys

with open(sys.argv[1]) as f:
    plan = json.load(f)
changes = [(rc["address"], rc["type"], rc["change"]["actions"]) for rc in plan.get("resource_changes", [])
           if rc["change"]["actions"] not in (["no-op"], ["read"])]
others = [c for c in changes if c[1] != "aws_ecs_task_definition"]
for address, _, actions in others:
    print(f"    unexpected change: {address} {actions}", file=sys.stderr)
task_definitions = [c for c in changes if c[1] == "aws_ecs_task_definition"]
if others or not task_definitions:
    sys.exit(1)
print(f"    new image tag: {len(task_definitions)} task definitions replaced (create before destroy), "
      "no change to rules, targets, alarms or roles")
