"""Read the Terraform configurations under infra/ with python-hcl2 (8.x) for the tests.

Values keep HCL's distinction between literals and expressions:
  * a quoted string literal is returned with its quotes, e.g. '"AllTraffic"';
  * an expression is returned as '${...}', e.g. '${var.variant_name}';
  * numbers and booleans are Python numbers and booleans; blocks are lists of dicts.
Use lit() and expr() to take them apart.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Iterator

import hcl2

INFRA = Path(__file__).resolve().parent.parent
MODULES = INFRA / "modules"
MODULE_DIRS = sorted(p for p in MODULES.iterdir() if p.is_dir())
EXAMPLE_CONFIG_DIRS = sorted(p for p in (INFRA / "examples").iterdir() if p.is_dir() and any(p.glob("*.tf")))
CONFIG_DIRS = [INFRA, *MODULE_DIRS, *EXAMPLE_CONFIG_DIRS]

_OPTIONS = hcl2.SerializationOptions(strip_string_quotes=False, explicit_blocks=False, with_comments=False)


def _unquote_label(label: str) -> str:
    return label[1:-1] if len(label) >= 2 and label[0] == label[-1] == '"' else label


def lit(value: Any) -> Any:
    """The Python value of a literal; raises AssertionError for an expression."""
    if isinstance(value, str):
        assert not value.startswith("${"), f"expected a literal, found expression {value}"
        assert value.startswith('"') and value.endswith('"'), f"unexpected token {value!r}"
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if isinstance(value, list):
        return [lit(v) for v in value]
    return value


def expr(value: Any) -> str:
    """The source text of an expression ('${x}' -> 'x'); raises AssertionError for a literal."""
    assert isinstance(value, str) and value.startswith("${") and value.endswith("}"), f"expected an expression, found {value!r}"
    return value[2:-1]


@functools.lru_cache(maxsize=None)
def load_file(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return hcl2.load(handle, serialization_options=_OPTIONS)


class Config:
    """All .tf files of one directory (a Terraform module), indexed by block kind."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.files = sorted(directory.glob("*.tf"))
        self.variables: dict[str, dict] = {}
        self.outputs: dict[str, dict] = {}
        self.locals: dict[str, Any] = {}
        self.resources: dict[tuple[str, str], dict] = {}
        self.data: dict[tuple[str, str], dict] = {}
        self.modules: dict[str, dict] = {}
        self.terraform: list[dict] = []
        self.providers: list[dict] = []
        self.where: dict[tuple[str, ...], str] = {}
        for path in self.files:
            doc = load_file(path)
            for block in doc.get("variable", []):
                for name, body in block.items():
                    self._add(self.variables, ("variable", _unquote_label(name)), _unquote_label(name), body, path)
            for block in doc.get("output", []):
                for name, body in block.items():
                    self._add(self.outputs, ("output", _unquote_label(name)), _unquote_label(name), body, path)
            for block in doc.get("locals", []):
                for name, value in block.items():
                    self._add(self.locals, ("local", name), name, value, path)
            for kind, index in (("resource", self.resources), ("data", self.data)):
                for block in doc.get(kind, []):
                    for rtype, named in block.items():
                        for rname, body in named.items():
                            key = (_unquote_label(rtype), _unquote_label(rname))
                            self._add(index, (kind, *key), key, body, path)
            for block in doc.get("module", []):
                for name, body in block.items():
                    self._add(self.modules, ("module", _unquote_label(name)), _unquote_label(name), body, path)
            self.terraform.extend(doc.get("terraform", []))
            self.providers.extend(doc.get("provider", []))

    def _add(self, index: dict, where_key: tuple, key: Any, body: Any, path: Path) -> None:
        assert key not in index, f"{where_key} declared twice in {self.directory}"
        index[key] = body
        self.where[where_key] = path.name

    def resource(self, rtype: str, name: str) -> dict:
        return self.resources[(rtype, name)]

    def resources_of_type(self, rtype: str) -> dict[str, dict]:
        return {name: body for (t, name), body in self.resources.items() if t == rtype}


@functools.lru_cache(maxsize=None)
def config(directory: Path) -> Config:
    return Config(directory)


def module_dir(name: str) -> Path:
    return MODULES / name


def strings(value: Any) -> Iterator[str]:
    """Every string (literal or expression) inside a parsed value, depth first."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def statements(policy_document: dict) -> list[dict]:
    """The statement blocks of an aws_iam_policy_document, static and dynamic ones."""
    found = list(policy_document.get("statement", []))
    for dynamic in policy_document.get("dynamic", []):
        for label, body in dynamic.items():
            if _unquote_label(label) == "statement":
                found.extend(body["content"])
    return found
