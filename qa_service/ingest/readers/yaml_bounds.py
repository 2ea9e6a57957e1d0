"""Load YAML front matter with aliases and nesting bounded (no "billion laughs")."""

from __future__ import annotations

from qa_service.ingest.readers.limits import (
    MAX_YAML_ALIAS_NODES,
    MAX_YAML_DEPTH,
    OverLimitError,
)


def load_bounded(text: str):
    """Return the YAML document in `text`, refused when aliases or nesting pass the bounds."""
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    try:
        # Composed first: an alias is then a second reference to one node, so the graph
        # stays as small as the text; only constructing and copying the fields out would
        # expand it. It is measured before that.
        node = loader.get_single_node()
        if node is None:
            return None
        _check(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check(root) -> None:
    """Refuse a node graph whose expanded size or depth passes the bounds."""
    import yaml

    # The expanded size of each node, counted once per node however often it is referred
    # to: linear in the written nodes even for nested aliases.
    expanded: dict[int, int] = {}
    written = 0
    # Iterative post-order walk: deep nesting must not recurse in Python either.
    stack = [(root, 1, False)]
    while stack:
        node, depth, children_done = stack.pop()
        if id(node) in expanded:
            continue
        if depth > MAX_YAML_DEPTH:
            raise OverLimitError(f"YAML front matter nests deeper than {MAX_YAML_DEPTH} "
                                 "levels (MAX_YAML_DEPTH)")
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            children = []
        if children_done or not children:
            expanded[id(node)] = 1 + sum(expanded[id(child)] for child in children)
            written += 1
            continue
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in children
                     if id(child) not in expanded)
    added = expanded[id(root)] - written
    if added > MAX_YAML_ALIAS_NODES:
        raise OverLimitError(f"YAML aliases in the front matter expand it by {added:,} "
                             f"nodes, over the limit of {MAX_YAML_ALIAS_NODES:,} "
                             "(MAX_YAML_ALIAS_NODES)")
