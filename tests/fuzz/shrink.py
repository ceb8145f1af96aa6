"""Shrinks a diverging program: deletes statements (anywhere: top level, function and class
bodies, loop and `try` bodies) one at a time, keeping each deletion after which the program
still diverges, until no single deletion does. A body left empty becomes `pass`.

Works on the AST (`ast.unparse` writes the result), so comments and the generator's layout
are lost; what is left is the smallest program this greedy search finds.
"""

import ast
import copy


def _bodies(tree):
    """Every statement list in `tree`, as (node, field name) pairs."""
    out = []
    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            value = getattr(node, name, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                out.append((node, name))
        for handler in getattr(node, "handlers", []):
            out.append((handler, "body"))
    return out


def _without(tree, index, position):
    """A copy of `tree` without statement `position` of its `index`-th body (None if there
    is no such statement)."""
    tree = copy.deepcopy(tree)
    bodies = _bodies(tree)
    if index >= len(bodies):
        return None
    node, name = bodies[index]
    body = getattr(node, name)
    if position >= len(body) or (len(body) == 1 and isinstance(body[0], ast.Pass)):
        return None
    del body[position]
    if not body and name == "body":
        body.append(ast.Pass())
    return tree


def shrink(source, diverges, max_checks=2000):
    """The smallest program found that still `diverges(source) -> bool`. `source` itself
    must diverge (checked: else it is returned as is)."""
    tree = ast.parse(source)
    best = ast.unparse(tree)
    if not diverges(best):
        # The unparsed form lost the divergence (line numbers moved): keep the original.
        return source
    checks = 0
    changed = True
    while changed and checks < max_checks:
        changed = False
        index = 0
        while index < len(_bodies(tree)) and checks < max_checks:
            position = 0
            while checks < max_checks:
                candidate = _without(tree, index, position)
                if candidate is None:
                    break
                text = ast.unparse(candidate)
                checks += 1
                if diverges(text):
                    tree, best, changed = candidate, text, True
                else:
                    position += 1
            index += 1
    return best + "\n"
