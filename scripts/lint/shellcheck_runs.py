"""Runs shellcheck on every `run:` script of GitHub Actions workflow files.

    python shellcheck_runs.py SHELLCHECK FILE...

Each script is checked as GitHub runs it on Linux (bash, `-e -o pipefail`); `${{ ... }}`
expressions are replaced by underscores of the same length, as actionlint does, so positions stay
right. Problems are printed as file:line:col: message, at their place in the workflow file.
Exit status 1 if there is any problem (a YAML syntax error included), 2 when a file cannot be read.
"""

import json
import re
import subprocess
import sys
import tempfile

import yaml

EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)
SHELLS = {None, "bash", "sh"}


def mapping_get(node, key):
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def scalar(node):
    return node.value if isinstance(node, yaml.ScalarNode) else None


def default_shell(node):
    return scalar(mapping_get(mapping_get(mapping_get(node, "defaults"), "run"), "shell"))


def run_scripts(path):
    """Yields (first line, column offset, shell, script) of each run: step of a workflow file."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = text.splitlines()
    root = yaml.compose(text)
    workflow_shell = default_shell(root)
    jobs = mapping_get(root, "jobs")
    if not isinstance(jobs, yaml.MappingNode):
        return
    for _, job in jobs.value:
        job_shell = default_shell(job) or workflow_shell
        steps = mapping_get(job, "steps")
        if not isinstance(steps, yaml.SequenceNode):
            continue
        for step in steps.value:
            run = mapping_get(step, "run")
            if not isinstance(run, yaml.ScalarNode):
                continue
            shell = scalar(mapping_get(step, "shell")) or job_shell
            if run.style in ("|", ">"):
                # A block scalar: the script starts on the line after the indicator.
                first = run.start_mark.line + 1
                body = next((line for line in lines[first:] if line.strip()), "")
                column = len(body) - len(body.lstrip(" "))
            else:
                first = run.start_mark.line
                column = run.start_mark.column
            yield first + 1, column, shell, run.value


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    shellcheck, files = sys.argv[1], sys.argv[2:]
    problems = scripts = 0
    for path in files:
        try:
            found = list(run_scripts(path))
        except OSError as error:
            print(f"{path}: cannot read the workflow: {error}", file=sys.stderr)
            return 2
        except yaml.MarkedYAMLError as error:
            problems += 1
            mark = error.problem_mark
            where = f"{mark.line + 1}:{mark.column + 1}" if mark else "1:1"
            print(f"{path}:{where}: YAML syntax error: {error.problem or error}")
            continue
        for first_line, column, shell, script in found:
            if shell not in SHELLS:
                continue
            scripts += 1
            body = EXPRESSION.sub(lambda m: "_" * len(m.group(0)), script)
            # Line 1 is the shebang: script line N is at first_line + N - 2 in the workflow file.
            with tempfile.NamedTemporaryFile("w", suffix=".sh", encoding="utf-8") as tmp:
                tmp.write("#!/bin/bash\nset -eo pipefail\n" if shell != "sh" else "#!/bin/sh\nset -e\n")
                tmp.write(body)
                tmp.flush()
                result = subprocess.run(
                    [shellcheck, "--format=json1", "--external-sources", tmp.name],
                    capture_output=True,
                    text=True,
                    check=False,
                )
            if result.returncode not in (0, 1):
                print(f"{path}:{first_line}: shellcheck failed: {result.stderr.strip()}", file=sys.stderr)
                return 2
            for c in json.loads(result.stdout or '{"comments": []}')["comments"]:
                problems += 1
                line = first_line + c["line"] - 3
                print(f"{path}:{line}:{column + c['column']}: SC{c['code']} ({c['level']}): {c['message']}")
    print(f"    shellcheck: {scripts} run: scripts in {len(files)} files, {problems} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
