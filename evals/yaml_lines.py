"""YAML loading that remembers where each value was written, so schema errors can name a line and column.

`yaml.safe_load` forgets positions; composing the node tree first keeps them (every node has a start mark).
The map goes from a path of keys and indices, e.g. ("sessions", 0, "turns", 3, "probe", "tag"), to the
1-based (line, column) of the key (for mapping values) or of the item (for sequence items).
"""

from __future__ import annotations

import yaml

KeyPath = tuple[str | int, ...]
Position = tuple[int, int]


class DuplicateKey(ValueError):
    """A mapping names the same key twice; plain YAML keeps the last one silently, which would hide a typo."""

    def __init__(self, path: KeyPath, position: Position):
        super().__init__(f"duplicate key {path[-1]!r}")
        self.path, self.position = path, position


def _position(node: yaml.Node) -> Position:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _walk(node: yaml.Node, path: KeyPath, out: dict[KeyPath, Position]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            # non-scalar keys (`? [a, b]`) are legal YAML but never valid here; name them by their text
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "<complex key>"
            child = (*path, key)
            if child in out:
                raise DuplicateKey(child, _position(key_node))
            out[child] = _position(key_node)
            _walk(value_node, child, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            out[(*path, index)] = _position(item)
            _walk(item, (*path, index), out)


def load_with_positions(text: str) -> tuple[object, dict[KeyPath, Position]]:
    """(data, positions). Raises yaml.MarkedYAMLError on bad syntax and DuplicateKey on a repeated key."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:  # empty document
            return None, {(): (1, 1)}
        positions: dict[KeyPath, Position] = {(): _position(node)}
        _walk(node, (), positions)
        return loader.construct_document(node), positions
    finally:
        loader.dispose()


def position_of(path: KeyPath, positions: dict[KeyPath, Position]) -> Position:
    """The position of `path`, or of its nearest recorded ancestor (a missing key points at its parent)."""
    while path not in positions:
        path = path[:-1]
    return positions[path]
