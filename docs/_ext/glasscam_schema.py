"""The configuration reference, generated from ``workflow/schemas/config.schema.yaml``.

``rows(schema, config)`` walks the JSON schema the workflow validates every configuration
against and yields one row per key — dotted key (``<name>`` where the key is free, e.g. a system's
name), type with its bounds, the default (``default`` in the schema, else the value in the
workflow's ``config.yaml``), units and description. The Sphinx directive
``glasscam-config-reference`` renders the rows as one table per top-level key, so the reference
cannot drift from the schema; ``tests/test_docs.py`` checks that every key of ``config.yaml`` and
of the demo configuration has a row."""

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from docutils import nodes
from docutils.parsers.rst import Directive, directives

from glasscam.config.load import load_yaml

ROOT = Path(__file__).resolve().parents[2]
MISSING = object()

# units stated in a description: "(τ)", "(σ)", "(σ²)", "τ; …", "units of σ_ab", "(default 60 s)"
_UNIT_PATTERNS = (
    re.compile(r"\((τ|σ²|σ|ε/k_B|ε|1/σ)\)"),
    re.compile(r"^(τ|σ)[;,]"),
    re.compile(r"units of (σ_ab)"),
    re.compile(r"\((τ|σ|ε/k_B)\s*[,;]"),
    re.compile(r"\bdefault [\d.]+ (s)\)"),
    re.compile(r"this many (τ)"),
)


@dataclass(frozen=True)
class Row:
    key: str
    type: str
    default: str
    units: str
    description: str


def _resolve(node: dict, schema: dict) -> dict:
    """``node`` with its ``$ref`` and ``allOf`` merged in (the node's own keys win)."""
    if not isinstance(node, dict):
        return {}
    node = dict(node)
    while "$ref" in node:
        ref = node.pop("$ref")
        target = schema
        for part in ref.lstrip("#/").split("/"):
            target = target[part]
        node = {**target, **node}
    for part in node.pop("allOf", []):
        part = _resolve(part, schema)
        props = {**node.get("properties", {}), **part.get("properties", {})}  # the earlier parts' order first
        merged = {**part, **node}
        if props:
            merged["properties"] = {k: _merge(part.get("properties", {}).get(k), node.get("properties", {}).get(k), schema)
                                    for k in props}
        node = merged
    return node


def _merge(a, b, schema):
    a, b = _resolve(a or {}, schema), _resolve(b or {}, schema)
    merged = {**a, **b}
    if "properties" in a and "properties" in b:
        merged["properties"] = {k: _merge(a["properties"].get(k), b["properties"].get(k), schema)
                                for k in {**a["properties"], **b["properties"]}}
    return merged


def _number(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def type_text(node: dict, schema: dict) -> str:
    """Type of a schema node with its bounds, e.g. ``integer ≥ 3``, ``list of number > 0``."""
    node = _resolve(node, schema)
    if "const" in node:
        return repr(node["const"]) if not isinstance(node["const"], str) else node["const"]
    if "enum" in node:
        return "one of " + ", ".join("null" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
                                     for v in node["enum"])
    for alt in ("oneOf", "anyOf"):
        if alt in node:
            return " or ".join(type_text(n, schema) for n in node[alt])
    kind = node.get("type")
    if isinstance(kind, list):
        text = " or ".join(kind)
    elif kind == "array":
        items = type_text(node.get("items", {}), schema)
        text = f"list of {items}" if items else "list"
        n_min, n_max = node.get("minItems"), node.get("maxItems")
        if n_min is not None and n_min == n_max:
            text += f" ({n_min} items)"
        elif n_min:
            text += f" (≥ {n_min} items)"
        return text
    elif kind == "object" or "properties" in node or "additionalProperties" in node:
        return "mapping"
    else:
        text = kind or ""
    bounds = [f"{op} {_number(node[k])}" for k, op in (("minimum", "≥"), ("exclusiveMinimum", ">"),
                                                       ("maximum", "≤"), ("exclusiveMaximum", "<")) if k in node]
    return " ".join([text, ", ".join(bounds)]).strip() if bounds else text


def units_text(description: str) -> str:
    for pattern in _UNIT_PATTERNS:
        m = pattern.search(description)
        if m:
            return m.group(1)
    return ""


def _value_text(value) -> str:
    if value is MISSING:
        return ""
    if isinstance(value, (dict, list)):
        text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip()
        return text if len(text) <= 80 else text[:77] + "…"
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    return _number(value)


def rows(schema: dict, config: dict):
    """One :class:`Row` per key of the schema, depth first, in the schema's order."""

    def walk(node, key, value):
        node = _resolve(node, schema)
        description = " ".join(str(node.get("description", "")).split())
        props = node.get("properties")
        free = node.get("additionalProperties")
        if props:
            if description and key:
                yield Row(key, "mapping", "", units_text(description), description)
            for name, child in props.items():
                child_value = value.get(name, MISSING) if isinstance(value, dict) else MISSING
                yield from walk(child, f"{key}.{name}" if key else name, child_value)
        elif node.get("type") == "array" and _resolve(node.get("items", {}), schema).get("properties"):
            default = node["default"] if "default" in node else value
            yield Row(key, type_text(node, schema), _value_text(default), units_text(description), description)
            yield from walk(node["items"], f"{key}[]", MISSING)
        elif isinstance(free, dict) and _resolve(free, schema).get("properties"):
            yield Row(key, "mapping of name → entry", "", "", description)
            yield from walk(free, f"{key}.<name>", MISSING)
        else:
            default = node["default"] if "default" in node else value
            yield Row(key, type_text(node, schema), _value_text(default), units_text(description), description)

    yield from walk(schema, "", config)


def load(schema_path: Path = ROOT / "workflow/schemas/config.schema.yaml", config_path: Path = ROOT / "config.yaml"):
    return yaml.safe_load(schema_path.read_text()), load_yaml(config_path)  # YAML 1.2 numbers, as the pipeline


def _paragraph(text: str) -> nodes.paragraph:
    """Text with `backtick` spans as inline literals."""
    para = nodes.paragraph()
    for k, part in enumerate(re.split(r"`([^`]*)`", text)):
        if part:
            para += nodes.literal(part, part) if k % 2 else nodes.Text(part)
    return para


def _table(header, body, widths) -> nodes.table:
    table = nodes.table(classes=["glasscam-config"])
    group = nodes.tgroup(cols=len(header))
    table += group
    for width in widths:
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    for cells, parent in ([header], head), (body, None):
        if parent is None:
            parent = nodes.tbody()
            group += parent
        for cells_row in cells:
            row = nodes.row()
            for k, cell in enumerate(cells_row):
                entry = nodes.entry()
                if k == 0 and parent is not head:
                    entry += nodes.paragraph("", "", nodes.literal(cell, cell))
                else:
                    entry += _paragraph(cell)
                row += entry
            parent += row
    return table


class ConfigReference(Directive):
    """``.. glasscam-config-reference::`` — tables of every configuration key, from the schema."""

    option_spec = {"schema": directives.unchanged, "config": directives.unchanged}

    def run(self):
        schema_path = ROOT / self.options.get("schema", "workflow/schemas/config.schema.yaml")
        config_path = ROOT / self.options.get("config", "config.yaml")
        env = self.state.document.settings.env
        env.note_dependency(str(schema_path))
        env.note_dependency(str(config_path))
        schema, config = load(schema_path, config_path)
        groups: dict[str, list[Row]] = {"top-level keys": []}
        for row in rows(schema, config):
            groups.setdefault(row.key.split(".")[0], []).append(row)
        for top in list(groups):  # single keys (seed, engine, …) share one table
            if len(groups[top]) == 1 and "." not in groups[top][0].key:
                groups["top-level keys"] += groups.pop(top)
        out = []
        for top, members in groups.items():
            target_id = nodes.make_id(f"config-{top}")
            rubric = nodes.rubric("", "", nodes.literal(top, top))
            rubric["ids"].append(target_id)
            out.append(rubric)
            body = [[r.key, r.type, r.default, r.units, r.description] for r in members]
            out.append(_table(["key", "type", "default (config.yaml)", "units", "description"], body, [22, 16, 14, 6, 42]))
        return out


def setup(app):
    app.add_directive("glasscam-config-reference", ConfigReference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
