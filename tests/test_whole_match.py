"""Ids are matched whole: a pattern anchored with "$" and used with re.match also accepts a final newline
("T-1\n" passed for "T-1"), so product code compiles patterns without "$" and matches them with fullmatch."""
from __future__ import annotations

import ast

from tests.test_layers import product_modules

RE_CALLS = {"compile", "match", "search", "fullmatch"}


def dollar_anchored_patterns(source: str) -> list[int]:
    """Lines where a re.compile/match/search gets a literal pattern that ends in an unescaped "$"."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RE_CALLS
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "re" and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            pattern = node.args[0].value
            if pattern.endswith("$") and not pattern.endswith("\\$"):
                lines.append(node.lineno)
    return lines


def test_the_check_finds_a_dollar_anchored_pattern_and_passes_a_whole_match():
    assert dollar_anchored_patterns('import re\nID = re.compile(r"^[a-z]{1,4}$")\n') == [2]
    assert dollar_anchored_patterns('import re\nID = re.compile(r"[a-z]{1,4}")\nPRICE = re.compile(r"\\$")\n') == []


def test_no_product_module_matches_an_id_with_a_dollar_anchor():
    found = {name: lines for name, path in product_modules().items()
             if (lines := dollar_anchored_patterns(path.read_text(encoding="utf-8")))}
    assert found == {}, f"use fullmatch without '$' (a '$' accepts a trailing newline): {found}"
