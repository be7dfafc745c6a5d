"""LocalStack's own EventBridge code, loaded so that it runs without a LocalStack server.

The pattern engine (localstack.services.events.event_rule_engine) imports cleanly. The input
transformer functions live in localstack/services/events/target.py, which imports the whole
service (models.py uses Python 3.12 syntax, and boto clients), so the few functions that render an
InputTransformer are taken from LocalStack's source files unchanged and compiled on their own.
"""

import __future__

import ast
import datetime
import json
import logging
import re
from pathlib import Path
from typing import Any

import localstack.services.events as events_package
from localstack.services.events.event_rule_engine import EventPatternCompiler, EventRuleEngine
from localstack.utils.json import extract_jsonpath

_EVENTS_DIR = Path(events_package.__file__).parent

_FROM_TARGET = {
    "AWS_PREDEFINED_PLACEHOLDERS_STRING_VALUES",
    "AWS_PREDEFINED_PLACEHOLDERS_JSON_VALUES",
    "PREDEFINED_PLACEHOLDERS",
    "TRANSFORMER_PLACEHOLDER_PATTERN",
    "get_template_replacements",
    "replace_template_placeholders",
}
_FROM_UTILS = {"EventJSONEncoder", "to_json_str", "event_time_to_time_string", "is_nested_in_string"}


def _definitions(path, names):
    tree = ast.parse(path.read_text(), str(path))
    picked = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in names:
            picked.append(node)
        elif isinstance(node, ast.Assign) and any(getattr(t, "id", None) in names for t in node.targets):
            picked.append(node)
        elif isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) in names:
            picked.append(node)
    found = {getattr(n, "name", None) or getattr(getattr(n, "target", None), "id", None) or n.targets[0].id for n in picked}
    missing = names - found
    if missing:
        raise ImportError(f"{path}: LocalStack no longer defines {sorted(missing)}")
    return ast.Module(body=picked, type_ignores=[])


def _load_transformer():
    namespace = {
        "json": json,
        "re": re,
        "datetime": datetime.datetime,
        "Any": Any,
        "LOG": logging.getLogger("localstack-transformer"),
        "extract_jsonpath": extract_jsonpath,
    }
    flags = __future__.annotations.compiler_flag  # annotations name types we do not load
    for path, names in ((_EVENTS_DIR / "utils.py", _FROM_UTILS), (_EVENTS_DIR / "target.py", _FROM_TARGET)):
        exec(compile(_definitions(path, names), str(path), "exec", flags=flags, dont_inherit=True), namespace)
    # target.py refers to `datetime.datetime`; utils.py to `datetime` the class.
    namespace["datetime"] = datetime
    return namespace


_TRANSFORMER = _load_transformer()


def pattern_matches(pattern, event):
    """LocalStack's EventBridge pattern engine: does the event pattern (a dict) match the event?"""
    compiled = EventPatternCompiler().compile_event_pattern(pattern)
    return EventRuleEngine().evaluate_pattern_on_event(compiled, event)


def render(input_paths, input_template, event):
    """LocalStack's InputTransformer rendering (the functions of its target.py, unchanged)."""
    replacements = _TRANSFORMER["get_template_replacements"]({"InputPathsMap": input_paths}, event)
    return _TRANSFORMER["replace_template_placeholders"](input_template, replacements)


class _LenientJson:
    """json for LocalStack's JSON-template path: after substituting, LocalStack turns every `\\n`
    escape of the rendered text into a raw line break (a step meant for string templates), which a
    strict parser refuses inside a JSON string. Parsed with strict=False, such a line break is the
    newline character the escape stood for, so the result is what the template means."""

    dumps = staticmethod(json.dumps)

    @staticmethod
    def loads(text, **kwargs):
        return json.loads(text, strict=False, **kwargs)

    JSONDecodeError = json.JSONDecodeError


def render_json(input_paths, input_template, event):
    """LocalStack's rendering of a JSON input template (its functions, unchanged): the decoded
    object, or None where LocalStack finds the result is not JSON."""
    replacements = _TRANSFORMER["get_template_replacements"]({"InputPathsMap": input_paths}, event)
    saved = _TRANSFORMER["json"]
    _TRANSFORMER["json"] = _LenientJson
    try:
        return _TRANSFORMER["replace_template_placeholders"](input_template, replacements)
    finally:
        _TRANSFORMER["json"] = saved
