"""Helpers for the report tests: a hostile estate and a small HTML tree built with html.parser."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import yaml

from nbdpath import labs
from nbdpath.model import Snapshot, parse



def fleetgen():
    """benchmarks/fleetgen.py: generated estates of any size."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "benchmarks", "fleetgen.py")
    spec = importlib.util.spec_from_file_location("fleetgen", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["fleetgen"] = mod
    spec.loader.exec_module(mod)
    return mod


# Names an estate could really hold (they are free text in vCenter) that would
# turn into markup, break a table row or close a code span if not escaped.
HOSTILE = {
    "esx01.corp.local": "esx01\"'><script>alert(1)</script>&co|x",
    "rubrik-node1": "node<img src=x onerror=alert(1)>|&amp;*b*",
    "VLAN28-RUBRIK_DATA": "RUB|RIK `data` <b>_x_</b>",
    "fw1": "fw<script>1",
}


def _rename(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _rename(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v) for v in value]
    if isinstance(value, str):
        for old, new in HOSTILE.items():
            value = value.replace(old, new)
    return value


def hostile_snapshot() -> Snapshot:
    """trick-through-firewall (a failing step, an error finding) with hostile names everywhere."""
    doc = _rename(yaml.safe_load(labs.text("trick-through-firewall")))
    doc["name"] = "lab <script>x</script> & co"
    return parse(yaml.safe_dump(doc), "hostile.yaml")


_VOID = {"meta", "br", "img", "link", "hr", "input", "col", "area", "base", "wbr", "source"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    children: list[Node | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self) -> Iterator[Node]:
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.iter()

    def find_all(self, tag: str, cls: str | None = None) -> list[Node]:
        return [n for n in self.iter() if n.tag == tag and (cls is None or cls in n.classes)]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]
        self.start_tags: list[str] = []
        self.mismatched: list[str] = []
        self.decl: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.decl.append(decl)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs))
        self.start_tags.append(tag)
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.start_tags.append(tag)
        self.stack[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if self.stack[-1].tag != tag:
            self.mismatched.append(f"</{tag}> closes <{self.stack[-1].tag}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


@dataclass
class Parsed:
    root: Node
    start_tags: list[str]
    mismatched: list[str]
    unclosed: list[str]
    decl: list[str]


def parse_html(text: str) -> Parsed:
    b = _Builder()
    b.feed(text)
    b.close()
    return Parsed(b.root, b.start_tags, b.mismatched, [n.tag for n in b.stack[1:]], b.decl)
