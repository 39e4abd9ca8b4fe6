"""Read glasscam's docstrings as what they are: plain text with Unicode equations.

The docstrings write absolute values and norms as ``|Δr_i|``, which reStructuredText would take
for substitution references (``|name|``), and they never use substitutions. This extension
escapes ``|`` in docstring prose — not in inline literals, roles, literal blocks or tables — after
napoleon has turned the numpy-style sections into reST, so a docstring reads the same in
``help()`` and on the API pages."""

import re

# inline literals, interpreted text with or without a role, already escaped characters
_PROTECTED = re.compile(r"``.+?``|:[\w:.-]+:`[^`]*`|`[^`]*`_{0,2}|\\.")


def _escape_prose(line: str) -> str:
    out, pos = [], 0
    for m in _PROTECTED.finditer(line):
        out.append(line[pos:m.start()].replace("|", r"\|"))
        out.append(m.group(0))
        pos = m.end()
    out.append(line[pos:].replace("|", r"\|"))
    return "".join(out)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def escape_bars(lines: list[str]) -> None:
    """Escape ``|`` in place in the prose lines of a docstring (literal blocks and tables kept)."""
    literal_from = None  # indentation of the paragraph that opened a literal block
    opens_literal = False
    for k, line in enumerate(lines):
        stripped = line.strip()
        if literal_from is not None:
            if not stripped or _indent(line) > literal_from:
                continue
            literal_from = None
        if opens_literal and stripped and _indent(line) > opened_at:
            literal_from = opened_at
            opens_literal = False
            continue
        if stripped:
            opens_literal = stripped.endswith("::") or stripped.startswith(".. math::") or stripped.startswith(".. code")
            opened_at = _indent(line)
            if stripped.startswith(("+-", "+=", "|")) and stripped.endswith(("+", "|")):
                continue  # grid table or line block
            lines[k] = _escape_prose(line)


def _process(app, what, name, obj, options, lines):
    escape_bars(lines)


def setup(app):
    # after napoleon (priority 500), which turns numpy sections into reST
    app.connect("autodoc-process-docstring", _process, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
