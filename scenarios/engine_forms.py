"""What an engine's frozen ``Config`` dataclass offers a form: fields, kinds, defaults and help text.

Read from the engine module's source (``ast``), not by importing it: the deep engines import torch, and a
page that only shows a form must not pay for that (the training service imports the engine when the run
starts, and ``registry.make_config`` remains the one validation of a config). Help text comes from the
dataclass docstring (``name: text`` entries, or the clause that starts with ``name``) and from
the comments on or just above the field's line. tests/portal/test_develop_train.py compares this reading
with ``dataclasses.fields`` of every engine, so a Config this reader misreads fails a test.
"""

from __future__ import annotations

import ast
import importlib.util
import io
import re
import tokenize
from dataclasses import dataclass
from functools import cache
from typing import Any

from scenarios.engines.registry import ENGINE_MODULES

# The kinds a form knows how to ask for; anything else is typed as JSON.
SCALAR_KINDS = ("bool", "int", "float", "str")


@dataclass(frozen=True)
class ConfigField:
    name: str
    kind: str  # "bool" | "int" | "float" | "str" | "json"
    annotation: str  # as written in the source, e.g. "tuple[int, ...]"
    default: Any
    optional: bool  # "X | None": an empty entry means None
    help: str


@dataclass(frozen=True)
class ConfigSchema:
    engine: str
    doc: str  # the Config docstring, as written
    fields: tuple[ConfigField, ...]

    def field(self, name: str) -> ConfigField | None:
        return next((f for f in self.fields if f.name == name), None)


def _kind(annotation: str) -> tuple[str, bool]:
    parts = [p.strip() for p in annotation.split("|")] if "[" not in annotation else [annotation]
    if annotation.startswith("Optional[") and annotation.endswith("]"):
        parts = [annotation[len("Optional["):-1], "None"]
    optional = "None" in parts
    rest = [p for p in parts if p != "None"]
    if len(rest) == 1 and rest[0] in SCALAR_KINDS:
        return rest[0], optional
    return "json", optional


def _comments(source_lines: list[str], node: ast.AST) -> str:
    """The comment on the field's own line(s), else the run of comment lines just above it."""
    trailing = []
    for line in source_lines[node.lineno - 1:node.end_lineno]:
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline))
        except (tokenize.TokenError, IndentationError, SyntaxError):
            continue
        trailing += [t.string.lstrip("#").strip() for t in tokens if t.type == tokenize.COMMENT]
    above = []
    index = node.lineno - 2
    while index >= 0 and source_lines[index].strip().startswith("#"):
        above.insert(0, source_lines[index].strip().lstrip("#").strip())
        index -= 1
    return " ".join(above + trailing).strip()


def _from_docstring(doc: str, name: str, names: list[str]) -> str:
    """``name: text`` up to the next field's entry (docstring lists and ``a: ...; b: ...`` lines alike),
    else the clause that starts with ``name``."""
    flat = " ".join(doc.split())
    entry = re.search(rf"(?<![\w.`]){re.escape(name)}:\s", flat)
    if entry:
        rest = flat[entry.end():]
        others = [m.start() for other in names if other != name
                  for m in [re.search(rf"(?<![\w.`]){re.escape(other)}:\s", rest)] if m]
        text = rest[:min(others)] if others else rest
        return text.strip().rstrip(";").strip()
    for clause in re.split(r"(?<=[;.])\s+", flat):
        if clause.startswith(f"``{name}``"):
            return clause.replace("``", "").strip()
    return ""


@cache
def config_schema(engine: str) -> ConfigSchema:
    """The form-facing description of ``engine``'s Config; ValueError for an unknown engine."""
    if engine not in ENGINE_MODULES:
        raise ValueError(f"unknown engine {engine!r}; available: {', '.join(sorted(ENGINE_MODULES))}")
    spec = importlib.util.find_spec(ENGINE_MODULES[engine])
    if spec is None or not spec.origin:
        raise ValueError(f"the module of engine {engine!r} cannot be found")
    with open(spec.origin, encoding="utf-8") as handle:
        source = handle.read()
    tree = ast.parse(source)
    config = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Config"), None)
    if config is None:
        raise ValueError(f"engine {engine!r} has no Config dataclass")
    lines = source.splitlines()
    doc = ast.get_docstring(config) or ""
    assigns = [n for n in config.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
               and not ast.unparse(n.annotation).startswith("ClassVar")]
    names = [n.target.id for n in assigns]
    fields = []
    for node in assigns:
        annotation = ast.unparse(node.annotation)
        kind, optional = _kind(annotation)
        try:
            default = ast.literal_eval(node.value) if node.value is not None else None
        except ValueError:
            default = None  # an expression default: the form leaves it to the Config (sent empty → omitted)
        help_text = " ".join(h for h in (_from_docstring(doc, node.target.id, names), _comments(lines, node)) if h)
        fields.append(ConfigField(name=node.target.id, kind=kind, annotation=annotation, default=default,
                                  optional=optional, help=help_text))
    return ConfigSchema(engine=engine, doc=doc, fields=tuple(fields))
