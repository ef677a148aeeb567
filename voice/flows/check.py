"""What ``cti flow check`` rejects in a parsed flow, each problem naming the node.

* a link (``next``, ``keys.1``, ``rules[2].goto`` …) or the entry naming no node;
* a node no path from the entry reaches (a forgotten or misspelt node);
* a loop a caller could go round for ever without pressing a key: a cycle of links that are
  not key presses, unless a node on it has ``max_visits`` (a limit). A menu's ``default``
  and its retries count as "no key" — a menu that falls back to itself on silence would
  otherwise ring up a bill with nobody there;
* a group, agent or external number the deployment does not know (``known`` callbacks,
  so this module needs no database).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from voice.flows.model import Flow, Problem

Known = Callable[[str, str], str]  # (kind, value) -> "" or what is wrong


def check(flow: Flow, lines: Mapping[str, int] | None = None,
          known: Known | None = None) -> list[Problem]:
    """Every problem of ``flow``; an empty list means it can be used."""
    lines = lines or {}
    problems = _missing_targets(flow, lines)
    if flow.entry not in flow.nodes:
        problems.append(Problem("", "flow.entry", f"no node {flow.entry!r}", lines.get("")))
    else:
        reached = _reachable(flow)
        problems += [Problem(node_id, "", "unreachable: no path from the entry "
                             f"{flow.entry!r} leads here", lines.get(node_id))
                     for node_id in flow.nodes if node_id not in reached]
    problems += _loops(flow, lines)
    if known is not None:
        problems += _unknown_references(flow, lines, known)
    return problems


def _missing_targets(flow: Flow, lines: Mapping[str, int]) -> list[Problem]:
    return [Problem(node.id, name, f"no node {target!r}", lines.get(node.id))
            for node in flow.nodes.values() for name, target, _ in node.links()
            if target not in flow.nodes]


def _reachable(flow: Flow) -> set[str]:
    seen, todo = {flow.entry}, [flow.entry]
    while todo:
        for _, target, _ in flow.nodes[todo.pop()].links():
            if target in flow.nodes and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _loops(flow: Flow, lines: Mapping[str, int]) -> list[Problem]:
    """Cycles of links without a key press through nodes without a limit (Tarjan's SCCs)."""
    limited = {n.id for n in flow.nodes.values() if n.get("max_visits")}
    edges = {node.id: sorted({t for _, t, by_key in node.links()
                              if not by_key and t in flow.nodes and t not in limited})
             for node in flow.nodes.values() if node.id not in limited}
    problems = []
    for component in _components(edges):
        looped = len(component) > 1 or component[0] in edges.get(component[0], ())
        if looped:
            first = min(component, key=lambda n: list(flow.nodes).index(n))
            path = " → ".join(sorted(component, key=list(flow.nodes).index))
            problems.append(Problem(first, "", f"endless loop without a key press: {path}; "
                                    "add max_visits (and on_limit) to one of these nodes",
                                    lines.get(first)))
    return problems


def _components(edges: Mapping[str, list[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:
        # Iterative, so a long chain of nodes cannot hit the recursion limit.
        work = [(start, iter(edges.get(start, ())))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                found.append(component)

    for node in edges:
        if node not in index:
            visit(node)
    return found


def _unknown_references(flow: Flow, lines: Mapping[str, int], known: Known) -> list[Problem]:
    problems = []
    for node in flow.nodes.values():
        for name in ("group", "agent", "number", "caller_id", "audio", "crm", "template"):
            value = node.get(name)
            if value:
                wrong = known(name, value)
                if wrong:
                    problems.append(Problem(node.id, name, wrong, lines.get(node.id)))
    return problems
