#!/usr/bin/env python3
"""Input/output tables of the READMEs, rendered from variables.tf and outputs.tf.

Each README holds its tables between <!-- BEGIN_TF_DOCS --> and <!-- END_TF_DOCS -->.
test_docs.py fails when they are stale; refresh them with

    .venvs/infra-tests/bin/python infra/tests/docs.py --write
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tfparse import CONFIG_DIRS, Config, config, lit  # noqa: E402

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _type(body: dict) -> str:
    value = body.get("type", "any")
    return value[2:-1] if isinstance(value, str) and value.startswith("${") else str(value)


def _default(body: dict) -> str:
    if "default" not in body:
        return "n/a"
    value = body["default"]
    if isinstance(value, str) and value.startswith("${"):
        shown = value[2:-1]
    elif isinstance(value, str):
        shown = json.dumps(lit(value))
    elif value is None:
        shown = "null"
    else:
        shown = json.dumps(value)
    return f"`{shown}`"


def render(cfg: Config) -> str:
    lines = ["## Inputs", "", "| Name | Description | Type | Default | Required |", "|------|-------------|------|---------|:--------:|"]
    for name in sorted(cfg.variables, key=lambda n: ("default" in cfg.variables[n], n)):
        body = cfg.variables[name]
        required = "no" if "default" in body else "yes"
        lines.append(f"| `{name}` | {_cell(lit(body['description']))} | `{_cell(_type(body))}` | {_cell(_default(body))} | {required} |")
    lines += ["", "## Outputs", "", "| Name | Description |", "|------|-------------|"]
    for name in sorted(cfg.outputs):
        lines.append(f"| `{name}` | {_cell(lit(cfg.outputs[name]['description']))} |")
    return "\n".join(lines)


def expected_readme(readme: Path, cfg: Config) -> str:
    text = readme.read_text(encoding="utf-8")
    assert BEGIN in text and END in text, f"{readme} lacks the {BEGIN} / {END} markers"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{render(cfg)}\n{END}{tail}"


def main(argv: list[str]) -> int:
    write = "--write" in argv
    stale = []
    for directory in CONFIG_DIRS:
        readme = directory / "README.md"
        if not readme.exists():
            continue
        wanted = expected_readme(readme, config(directory))
        if readme.read_text(encoding="utf-8") != wanted:
            stale.append(readme)
            if write:
                readme.write_text(wanted, encoding="utf-8")
    for readme in stale:
        print(("updated " if write else "stale ") + str(readme))
    return 0 if write or not stale else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
