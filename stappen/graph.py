"""Draw a flow's steps and routes as a standalone SVG diagram for authors.

The layout is written here, in plain Python, because no dependency-free
Python library lays out directed graphs as SVG. Graphviz needs a system
binary that the build machines need not have. The pure-Python grandalf 0.8
computes a layered layout but draws nothing and is marked "under
development" on PyPI, so it would save little code. This is the layered
(Sugiyama) method in its simplest form:

1. Find the routes that lead back to a step on the current depth-first path
   and reverse them, so the rest is acyclic. A valid flow has none, but an
   invalid one still gets a diagram, with those routes dashed and red.
2. Put each step one layer below its lowest predecessor (longest path from
   the start). Steps sit on even layers only, so every route crosses at
   least one odd layer, where its condition label goes.
3. Split routes that cross layers into invisible waypoints, one per layer.
   The first waypoint of a labelled route is as wide as its label, so labels
   take part in the layout and do not overlap boxes.
4. Order each layer by the barycenter of its neighbours, sweeping down and
   up a few times, and keep the order with the fewest crossings.
5. Move each node towards the mean x of its neighbours without overlaps.

The output depends only on the flow and the language, so the same input
gives the same bytes.
"""

from __future__ import annotations

import bisect
import dataclasses
import html
import itertools
import json
import logging
import re

from stappen.model import SPECIAL_KINDS, Flow, Step
from stappen.routing import reachable

log = logging.getLogger(__name__)

BOX_WIDTH = 200
LINE_HEIGHT = 16
BOX_PADDING = 10
OUTCOME_RADIUS = 16
MAX_ID_CHARS = 27
MAX_TITLE_CHARS = 28
MAX_TITLE_LINES = 2
MAX_LABEL_CHARS = 40
LABEL_CHAR_WIDTH = 6.2
"""Estimated mean width in px of one character at the 11 px label size."""
LABEL_HEIGHT = 18
LABEL_PADDING = 6
SELF_LOOP_WIDTH = 36
NODE_GAP = 28
WAYPOINT_GAP = 12
PORT_SPACING = 14
LAYER_GAP = 14
MIN_LAYER_HEIGHT = 12
MARGIN = 20
LEGEND_SWATCH = (30, 16)
LEGEND_ROW_HEIGHT = 26
LEGEND_MIN_WIDTH = 480
SWEEPS = 4
FONT = "Arial, Helvetica, sans-serif"
MONOSPACE = "Menlo, Consolas, 'DejaVu Sans Mono', monospace"


@dataclasses.dataclass(frozen=True)
class Style:
    """The colours of one kind of box or edge label, as CSS hex colours."""

    fill: str
    stroke: str
    text: str


STYLES = {
    "plain": Style("#ffffff", "#4d4d4d", "#1b1b1b"),
    "question": Style("#e3eefc", "#2f5f9e", "#1b1b1b"),
    "special": Style("#efe6fa", "#6b3fa0", "#1b1b1b"),
    "positive": Style("#dcf1e1", "#2e7d32", "#1b1b1b"),
    "negative": Style("#fbe0de", "#b3261e", "#1b1b1b"),
    "neutral": Style("#ececec", "#666666", "#1b1b1b"),
    "missing": Style("#fff4f4", "#b3261e", "#8c1d18"),
    "edge": Style("#ffffff", "#4d4d4d", "#1b1b1b"),
    "back": Style("#ffffff", "#b3261e", "#8c1d18"),
}
"""Box styles by name, and ``edge``/``back`` for routes and their labels.

Every text colour has a contrast ratio of at least 4.5:1 with its fill.
"""

LEGEND = {
    "question": "question",
    "plain": "content, summary",
    "special": "wallet, check, application, decision",
    "positive": "outcome, positive",
    "negative": "outcome, negative",
    "neutral": "outcome",
    "missing": "missing step",
}
"""The text of the legend for each box style."""

INFIX_OPERATORS = frozenset(
    {"==", "===", "!=", "!==", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "in"}
)
INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclasses.dataclass
class _Node:
    """A box for a step or a missing target, or a waypoint of a long route."""

    key: str
    style: str = ""
    lines: tuple[tuple[str, str], ...] = ()
    """Each line of text in the box, with its CSS class."""
    tooltip: str = ""
    step_id: str = ""
    unreachable: bool = False
    width: float = 0.0
    height: float = 0.0
    layer: int = 0
    order: int = 0
    x: float = 0.0
    y: float = 0.0
    up: list[str] = dataclasses.field(default_factory=list)
    down: list[str] = dataclasses.field(default_factory=list)

    @property
    def is_box(self) -> bool:
        return bool(self.style)


@dataclasses.dataclass
class _Edge:
    """All routes from one step to one target, with their joined conditions."""

    source: str
    target: str
    label: str
    back: bool = False
    chain: list[str] = dataclasses.field(default_factory=list)
    points: list[tuple[float, float]] = dataclasses.field(default_factory=list)

    @property
    def is_self_loop(self) -> bool:
        return self.source == self.target


@dataclasses.dataclass
class _Graph:
    nodes: dict[str, _Node] = dataclasses.field(default_factory=dict)
    edges: list[_Edge] = dataclasses.field(default_factory=list)
    layers: list[list[str]] = dataclasses.field(default_factory=list)


def render_svg(flow: Flow, lang: str) -> str:
    """Lay out ``flow`` top to bottom and return it as an SVG document.

    Texts are in ``lang``. Invalid flows render too: routes to a step that
    does not exist end in a red "missing" box, and routes that close a cycle
    are dashed and red.
    """
    graph = _build_graph(flow, lang)
    preorder = _mark_back_edges(graph, _step_key(flow.start))
    _assign_layers(graph, preorder)
    _insert_waypoints(graph)
    _order_layers(graph, preorder)

    _assign_x(graph)
    width = _normalise_x(graph)
    height = _assign_y(graph)
    _route_edges(graph)
    legend, width, height = _svg_legend(graph, width, height)
    log.debug(
        "laid out flow %r: %d nodes in %d layers, %dx%d px",
        flow.id,
        len(graph.nodes),
        len(graph.layers),
        width,
        height,
    )
    return _write_svg(flow, lang, graph, legend, (width, height))


def condition_text(condition) -> str:
    """Write a JSON Logic expression compactly, e.g. ``inkomen < 1533.5``.

    Comparisons, arithmetic and ``in`` are written infix, ``!`` as ``not``,
    and every other operator as a call: ``and(a == 1, b > 2)``.
    """
    if isinstance(condition, list):
        return "[" + ", ".join(condition_text(item) for item in condition) + "]"
    if not isinstance(condition, dict) or len(condition) != 1:
        return json.dumps(condition, ensure_ascii=False, sort_keys=True)

    operator, args = next(iter(condition.items()))
    args = args if isinstance(args, list) else [args]
    if operator == "var":
        name = args[0] if args else ""
        if name in ("", None):
            return "data"
        return name if isinstance(name, str) else condition_text(name)
    if operator == "!" and len(args) == 1:
        return f"not {_operand(args[0])}"
    if operator in INFIX_OPERATORS and len(args) == 2:
        return f"{_operand(args[0])} {operator} {_operand(args[1])}"
    if operator in ("<", "<=") and len(args) == 3:
        first, middle, last = (_operand(arg) for arg in args)
        return f"{first} {operator} {middle} {operator} {last}"
    return f"{operator}({', '.join(condition_text(arg) for arg in args)})"


def _operand(condition) -> str:
    text = condition_text(condition)
    if isinstance(condition, dict) and len(condition) == 1:
        operator, args = next(iter(condition.items()))
        if operator in INFIX_OPERATORS or operator == "!":
            return f"({text})"
    return text


# Building the graph


def _step_key(step_id: str) -> str:
    return f"step:{step_id}"


def _build_graph(flow: Flow, lang: str) -> _Graph:
    graph = _Graph()
    reachable_ids = reachable(flow)
    for step in flow.steps.values():
        node = _step_node(flow, step, lang, unreachable=step.id not in reachable_ids)
        graph.nodes[node.key] = node
    if flow.start not in flow.steps:
        _missing_node(graph, flow.start)

    for step in flow.steps.values():
        for target, label in _route_groups(step):
            if target in flow.steps:
                target_key = _step_key(target)
            else:
                target_key = _missing_node(graph, target)
            graph.edges.append(_Edge(_step_key(step.id), target_key, label))
    return graph


def _step_node(flow: Flow, step: Step, lang: str, *, unreachable: bool) -> _Node:
    title = _one_line(flow.text(step.title, lang))
    # The shape of a special step does not show which of the kinds it is.
    name = f"{step.kind} · {step.id}" if step.kind in SPECIAL_KINDS else step.id
    lines = [("id", _shorten(name, MAX_ID_CHARS))]
    lines += [("", line) for line in _wrap(title, MAX_TITLE_CHARS, MAX_TITLE_LINES)]
    state = step.kind
    if unreachable:
        lines.append(("note", "unreachable"))
        state += ", unreachable"

    return _Node(
        key=_step_key(step.id),
        style=_style_name(step),
        lines=tuple(lines),
        tooltip=f"{step.id} ({state}): {title}",
        step_id=step.id,
        unreachable=unreachable,
        width=BOX_WIDTH,
        height=_box_height(len(lines)),
    )


def _missing_node(graph: _Graph, step_id: str) -> str:
    key = f"missing:{step_id}"
    if key not in graph.nodes:
        graph.nodes[key] = _Node(
            key=key,
            style="missing",
            lines=(
                ("", _shorten(f"missing: {step_id}", MAX_TITLE_CHARS)),
                ("note", "no such step"),
            ),
            tooltip=f"missing: {step_id}: the flow has no step with this id",
            step_id=step_id,
            width=BOX_WIDTH,
            height=_box_height(2),
        )
    return key


def _style_name(step: Step) -> str:
    if step.kind == "question":
        return "question"
    if step.kind in SPECIAL_KINDS:
        return "special"
    if step.kind == "outcome":
        return step.tone if step.tone in ("positive", "negative") else "neutral"
    return "plain"


def _box_height(line_count: int) -> float:
    return 2 * BOX_PADDING + line_count * LINE_HEIGHT


def _route_groups(step: Step) -> list[tuple[str, str]]:
    """Group a step's routes by target, each with its conditions joined.

    A route without a condition is labelled "otherwise" when the step has
    conditional routes too, because it is taken only when none of them holds.
    """
    conditions: dict[str, list[str]] = {}
    for route in step.routes:
        if route.condition is None:
            text = "otherwise"
        else:
            text = condition_text(route.condition)
        conditions.setdefault(route.goto, []).append(text)

    if all(route.condition is None for route in step.routes):
        return [(target, "") for target in conditions]
    return [(target, " or ".join(texts)) for target, texts in conditions.items()]


# Layers and order


def _mark_back_edges(graph: _Graph, start: str) -> list[str]:
    """Mark edges that close a cycle, and return the depth-first preorder.

    The search starts at the start step, then at each node it has not
    reached, in the flow's order. It keeps its own stack, so that a long
    chain of steps cannot exceed Python's recursion limit.
    """
    outgoing: dict[str, list[_Edge]] = {key: [] for key in graph.nodes}
    for edge in graph.edges:
        outgoing[edge.source].append(edge)
    on_path: set[str] = set()
    preorder: list[str] = []
    visited: set[str] = set()

    roots = [start, *graph.nodes] if start in graph.nodes else list(graph.nodes)
    for root in roots:
        if root in visited:
            continue
        visited.add(root)
        on_path.add(root)
        preorder.append(root)
        stack = [(root, iter(outgoing[root]))]
        while stack:
            key, edges = stack[-1]
            edge = next(edges, None)
            if edge is None:
                on_path.discard(key)
                stack.pop()
            elif edge.target in on_path:
                edge.back = True
            elif edge.target not in visited:
                visited.add(edge.target)
                on_path.add(edge.target)
                preorder.append(edge.target)
                stack.append((edge.target, iter(outgoing[edge.target])))
    return preorder


def _downward(edge: _Edge) -> tuple[str, str]:
    """Return the edge's upper and lower end in the layout."""
    return (edge.target, edge.source) if edge.back else (edge.source, edge.target)


def _assign_layers(graph: _Graph, preorder: list[str]) -> None:
    """Put each node two layers below its lowest predecessor."""
    below: dict[str, list[str]] = {key: [] for key in graph.nodes}
    waiting = dict.fromkeys(graph.nodes, 0)
    for edge in graph.edges:
        if not edge.is_self_loop:
            upper, lower = _downward(edge)
            below[upper].append(lower)
            waiting[lower] += 1

    # Kahn's algorithm: a node is placed once all its predecessors are.
    ready = [key for key in preorder if waiting[key] == 0]
    for key in ready:
        for lower in below[key]:
            node = graph.nodes[lower]
            node.layer = max(node.layer, graph.nodes[key].layer + 2)
            waiting[lower] -= 1
            if waiting[lower] == 0:
                ready.append(lower)


def _insert_waypoints(graph: _Graph) -> None:
    """Split each edge into a chain of nodes on consecutive layers."""
    for index, edge in enumerate(graph.edges):
        if edge.is_self_loop:
            _widen_for_self_loop(graph.nodes[edge.source], edge.label)
            continue
        upper, lower = _downward(edge)
        chain = [upper]
        for layer in range(graph.nodes[upper].layer + 1, graph.nodes[lower].layer):
            waypoint = _Node(key=f"waypoint:{index}:{layer}", layer=layer)
            if len(chain) == 1 and edge.label:
                waypoint.width = _label_width(edge.label)
                waypoint.height = LABEL_HEIGHT
            graph.nodes[waypoint.key] = waypoint
            chain.append(waypoint.key)
        chain.append(lower)

        edge.chain = chain
        for upper_key, lower_key in itertools.pairwise(chain):
            graph.nodes[upper_key].down.append(lower_key)
            graph.nodes[lower_key].up.append(upper_key)


def _widen_for_self_loop(node: _Node, label: str) -> None:
    extra = SELF_LOOP_WIDTH + (_label_width(label) if label else 0)
    node.width += 2 * extra


def _label_width(label: str) -> float:
    truncated = _shorten(label, MAX_LABEL_CHARS)
    return len(truncated) * LABEL_CHAR_WIDTH + 2 * LABEL_PADDING


def _order_layers(graph: _Graph, preorder: list[str]) -> None:
    """Reduce crossings with barycenter sweeps, keeping the best order seen."""
    layer_count = 1 + max(node.layer for node in graph.nodes.values())
    graph.layers = [[] for _ in range(layer_count)]
    boxes = list(preorder)
    waypoints = [key for key, node in graph.nodes.items() if not node.is_box]
    for key in boxes + waypoints:
        graph.layers[graph.nodes[key].layer].append(key)
    _number(graph)

    best = [list(layer) for layer in graph.layers]
    fewest = _crossings(graph)
    for _ in range(SWEEPS):
        if fewest == 0:
            break
        for layer in graph.layers[1:]:
            _sort_by_barycenter(graph, layer, "up")
        for layer in reversed(graph.layers[:-1]):
            _sort_by_barycenter(graph, layer, "down")
        crossings = _crossings(graph)
        if crossings < fewest:
            best = [list(layer) for layer in graph.layers]
            fewest = crossings

    graph.layers = best
    _number(graph)


def _number(graph: _Graph) -> None:
    for layer in graph.layers:
        for position, key in enumerate(layer):
            graph.nodes[key].order = position


def _sort_by_barycenter(graph: _Graph, layer: list[str], side: str) -> None:
    """Sort ``layer`` by the mean position of its neighbours on ``side``.

    A node without neighbours there keeps its position, and ties keep the
    current order.
    """

    def barycenter(key: str) -> tuple[float, int]:
        node = graph.nodes[key]
        neighbours = node.up if side == "up" else node.down
        if not neighbours:
            return node.order, node.order
        total = sum(graph.nodes[other].order for other in neighbours)
        return total / len(neighbours), node.order

    layer.sort(key=barycenter)
    for position, key in enumerate(layer):
        graph.nodes[key].order = position


def _crossings(graph: _Graph) -> int:
    """Count the crossings between each pair of consecutive layers."""
    total = 0
    for layer in graph.layers[:-1]:
        pairs = sorted(
            (graph.nodes[key].order, graph.nodes[lower].order)
            for key in layer
            for lower in graph.nodes[key].down
        )
        # Two segments cross when their lower ends are in the opposite order.
        seen: list[int] = []
        for _, lower_order in pairs:
            total += len(seen) - bisect.bisect_right(seen, lower_order)
            bisect.insort(seen, lower_order)
    return total


# Coordinates


def _assign_x(graph: _Graph) -> None:
    """Centre each node under its neighbours, sweeping down, up and down."""
    for layer in graph.layers:
        _place(graph, layer, [0.0] * len(layer))
    for side in ("up", "down", "up"):
        layers = graph.layers if side == "up" else list(reversed(graph.layers))
        for layer in layers:
            _place(graph, layer, [_mean_x(graph, key, side) for key in layer])


def _mean_x(graph: _Graph, key: str, side: str) -> float:
    node = graph.nodes[key]
    neighbours = node.up if side == "up" else node.down
    if not neighbours:
        return node.x
    return sum(graph.nodes[other].x for other in neighbours) / len(neighbours)


def _place(graph: _Graph, layer: list[str], desired: list[float]) -> None:
    """Set x as close to ``desired`` as the minimum separation allows.

    A left-to-right pass pushes nodes right and a right-to-left pass pushes
    them left. Both keep the separation, and so does their mean, which
    spreads the push evenly over both sides.
    """
    nodes = [graph.nodes[key] for key in layer]
    pushed_right = list(desired)
    for i in range(1, len(nodes)):
        lower_bound = pushed_right[i - 1] + _separation(nodes[i - 1], nodes[i])
        pushed_right[i] = max(pushed_right[i], lower_bound)
    pushed_left = list(desired)
    for i in range(len(nodes) - 2, -1, -1):
        upper_bound = pushed_left[i + 1] - _separation(nodes[i], nodes[i + 1])
        pushed_left[i] = min(pushed_left[i], upper_bound)

    for node, right, left in zip(nodes, pushed_right, pushed_left, strict=True):
        node.x = (right + left) / 2


def _separation(left: _Node, right: _Node) -> float:
    gap = NODE_GAP if left.is_box and right.is_box else WAYPOINT_GAP
    return (left.width + right.width) / 2 + gap


def _normalise_x(graph: _Graph) -> float:
    """Shift the layout to the right of the margin and return its width."""
    nodes = graph.nodes.values()
    left = min(node.x - node.width / 2 for node in nodes)
    right = max(node.x + node.width / 2 for node in nodes)
    for node in nodes:
        node.x += MARGIN - left
    return round(right - left + 2 * MARGIN)


def _assign_y(graph: _Graph) -> float:
    """Stack the layers, centring each node in its layer, and return the height."""
    top = MARGIN
    for layer in graph.layers:
        nodes = [graph.nodes[key] for key in layer]
        height = max([MIN_LAYER_HEIGHT] + [node.height for node in nodes])
        for node in nodes:
            node.y = top + (height - node.height) / 2
            if not node.is_box and node.layer % 2 == 0:
                # A route passes a layer of steps straight down, so that its
                # bends fall in the gaps and do not cut through a box.
                node.y, node.height = top, height
        top += height + LAYER_GAP
    return round(top - LAYER_GAP + MARGIN)


def _route_edges(graph: _Graph) -> None:
    """Set each edge's points, spreading its ends along the box edges."""
    leaving: dict[str, list[_Edge]] = {}
    entering: dict[str, list[_Edge]] = {}
    for edge in graph.edges:
        if edge.chain:
            leaving.setdefault(edge.chain[0], []).append(edge)
            entering.setdefault(edge.chain[-1], []).append(edge)

    starts = _ports(graph, leaving, neighbour=1, bottom=True)
    ends = _ports(graph, entering, neighbour=-2, bottom=False)
    for edge in graph.edges:
        if edge.chain:
            middle = [_waypoint(graph.nodes[key]) for key in edge.chain[1:-1]]
            points = [starts[id(edge)], *itertools.chain(*middle), ends[id(edge)]]
            edge.points = points[::-1] if edge.back else points


def _ports(graph: _Graph, edges_by_node, *, neighbour: int, bottom: bool) -> dict:
    """Return the point where each edge meets a box, keyed by ``id(edge)``.

    The ends are sorted by the x of the next node on the edge, so that they
    do not cross right at the box.
    """
    ports = {}
    for key, edges in edges_by_node.items():
        node = graph.nodes[key]
        edges.sort(key=lambda edge: graph.nodes[edge.chain[neighbour]].x)
        spacing = min(PORT_SPACING, (BOX_WIDTH - 40) / max(len(edges) - 1, 1))
        y = node.y + node.height if bottom else node.y
        for position, edge in enumerate(edges):
            offset = (position - (len(edges) - 1) / 2) * spacing
            ports[id(edge)] = (node.x + offset, y)
    return ports


def _waypoint(node: _Node) -> list[tuple[float, float]]:
    if node.layer % 2 == 0:
        return [(node.x, node.y), (node.x, node.y + node.height)]
    return [_centre(node)]


def _centre(node: _Node) -> tuple[float, float]:
    return node.x, node.y + node.height / 2


# SVG output


def _write_svg(flow: Flow, lang: str, graph: _Graph, legend: str, size) -> str:
    width, height = size
    title = f"Steps of flow {_one_line(flow.text(flow.title, lang))}"
    box = f'viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
    labelled_by = 'aria-labelledby="stappen-graph-title stappen-graph-desc"'
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" {labelled_by} {box}'
        f' font-family="{_escape(FONT)}" font-size="13">',
        f'<title id="stappen-graph-title">{_escape(title)}</title>',
        f'<desc id="stappen-graph-desc">{_escape(_description(flow, graph))}</desc>',
        _defs(),
        '<rect width="100%" height="100%" fill="#ffffff"/>',
    ]
    parts += [_svg_edge(graph, edge) for edge in graph.edges]
    parts += [_svg_label(graph, edge) for edge in graph.edges if edge.label]
    parts += [_svg_box(node) for node in graph.nodes.values() if node.is_box]
    parts.append(legend)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _description(flow: Flow, graph: _Graph) -> str:
    boxes = [node for node in graph.nodes.values() if node.is_box]
    unreachable = [node.step_id for node in boxes if node.unreachable]
    missing = [node.step_id for node in boxes if node.style == "missing"]
    back = [
        f"{graph.nodes[edge.source].step_id} → {graph.nodes[edge.target].step_id}"
        for edge in graph.edges
        if edge.back
    ]

    sentences = [
        f"{len(flow.steps)} steps, from start step {flow.start} at the top down"
        " to the outcomes. Each arrow is a route, labelled with its condition."
    ]
    if unreachable:
        sentences.append(f"Unreachable steps: {', '.join(unreachable)}.")
    if missing:
        sentences.append(f"Routes to missing steps: {', '.join(missing)}.")
    if back:
        sentences.append(f"Routes back to an earlier step: {', '.join(back)}.")
    return " ".join(sentences)


def _defs() -> str:
    markers = [
        f'<marker id="stappen-arrow-{name}" viewBox="0 0 10 10" refX="10"'
        ' refY="5" markerWidth="9" markerHeight="9"'
        ' markerUnits="userSpaceOnUse" orient="auto">'
        f'<path d="M0 0L10 5L0 10z" fill="{STYLES[name].stroke}"/></marker>'
        for name in ("edge", "back")
    ]
    return "<defs>\n" + "\n".join(markers) + f"\n<style>{_css()}</style>\n</defs>"


def _css() -> str:
    rules = [
        f".{name} .shape{{fill:{style.fill};stroke:{style.stroke}}}"
        f" .{name} text{{fill:{style.text}}}"
        for name, style in STYLES.items()
        if name not in ("edge", "back")
    ]
    rules += [
        ".shape{stroke-width:1.5}",
        ".unreachable .shape,.missing .shape{stroke-dasharray:6 4}",
        f".id{{font-family:{MONOSPACE};font-size:11px}}",
        ".note{font-style:italic;font-size:11px}",
        f".edge{{fill:none;stroke:{STYLES['edge'].stroke};stroke-width:1.5}}",
        f".edge.back{{stroke:{STYLES['back'].stroke};stroke-dasharray:6 4}}",
        ".label rect{fill:#ffffff}",
        f".label text{{fill:{STYLES['edge'].text};font-size:11px}}",
        f".label.back text{{fill:{STYLES['back'].text}}}",
    ]
    return "\n".join(rules)


def _svg_edge(graph: _Graph, edge: _Edge) -> str:
    source = graph.nodes[edge.source]
    target = graph.nodes[edge.target]
    tooltip = f"{source.step_id} → {target.step_id}"
    if edge.label:
        tooltip += f": {edge.label}"
    data = _self_loop_path(source) if edge.is_self_loop else _path_data(edge.points)

    css_class = "edge back" if edge.back else "edge"
    marker = "back" if edge.back else "edge"
    return (
        f'<path class="{css_class}" data-from="{_escape(source.step_id)}"'
        f' data-to="{_escape(target.step_id)}" d="{data}"'
        f' marker-end="url(#stappen-arrow-{marker})">'
        f"<title>{_escape(tooltip)}</title></path>"
    )


def _path_data(points: list[tuple[float, float]]) -> str:
    """Join the points with curves that are vertical at every point."""
    x, y = points[0]
    parts = [f"M{_num(x)} {_num(y)}"]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        middle = _num((y0 + y1) / 2)
        parts.append(f"C{_num(x0)} {middle} {_num(x1)} {middle} {_num(x1)} {_num(y1)}")
    return "".join(parts)


def _self_loop_path(node: _Node) -> str:
    right = node.x + BOX_WIDTH / 2
    top = node.y + node.height * 0.3
    bottom = node.y + node.height * 0.7
    bend = right + SELF_LOOP_WIDTH
    return (
        f"M{_num(right)} {_num(top)}"
        f"C{_num(bend)} {_num(top - 12)} {_num(bend)} {_num(bottom + 12)}"
        f" {_num(right)} {_num(bottom)}"
    )


def _svg_label(graph: _Graph, edge: _Edge) -> str:
    truncated = _shorten(edge.label, MAX_LABEL_CHARS)
    width = _label_width(edge.label)
    if edge.is_self_loop:
        node = graph.nodes[edge.source]
        left = node.x + BOX_WIDTH / 2 + SELF_LOOP_WIDTH
        middle = node.y + node.height / 2
    else:
        x, middle = _centre(graph.nodes[edge.chain[1]])
        left = x - width / 2

    css_class = "label back" if edge.back else "label"
    top = middle - LABEL_HEIGHT / 2
    return (
        f'<g class="{css_class}"><title>{_escape(edge.label)}</title>'
        f'<rect x="{_num(left)}" y="{_num(top)}" width="{_num(width)}"'
        f' height="{LABEL_HEIGHT}" rx="3"/>'
        f'<text x="{_num(left + width / 2)}" y="{_num(middle + 4)}"'
        f' text-anchor="middle">{_escape(truncated)}</text></g>'
    )


def _svg_box(node: _Node) -> str:
    left = node.x - BOX_WIDTH / 2
    classes = f"node {node.style}"
    if node.unreachable:
        classes += " unreachable"
    prefix = "missing" if node.style == "missing" else "step"

    parts = [
        f'<g id="{prefix}-{_escape(node.step_id)}" class="{classes}"'
        f' data-step="{_escape(node.step_id)}" data-layer="{node.layer // 2}"'
        f' transform="translate({_num(left)} {_num(node.y)})">',
        f"<title>{_escape(node.tooltip)}</title>",
        _shape(node.style, BOX_WIDTH, node.height),
    ]
    for index, (css_class, line) in enumerate(node.lines):
        parts.append(_box_line(index, css_class, line))
    parts.append("</g>")
    return "".join(parts)


def _box_line(index: int, css_class: str, line: str) -> str:
    y = BOX_PADDING + (index + 1) * LINE_HEIGHT - 4
    attribute = f' class="{css_class}"' if css_class else ""
    return (
        f'<text x="{BOX_WIDTH // 2}" y="{y}" text-anchor="middle"{attribute}>'
        f"{_escape(line)}</text>"
    )


def _shape(style: str, width: float, height: float) -> str:
    """Draw the outline of a box, whose shape shows the step's kind."""
    w, h = _num(width), _num(height)
    if style == "question":
        inset = min(12, width / 4)
        points = (
            f"{_num(inset)},0 {_num(width - inset)},0 {w},{_num(height / 2)}"
            f" {_num(width - inset)},{h} {_num(inset)},{h} 0,{_num(height / 2)}"
        )
        return f'<polygon class="shape" points="{points}"/>'
    if style == "special":
        inset = min(8, width / 5)
        bars = f"M{_num(inset)} 0V{h}M{_num(width - inset)} 0V{h}"
        return (
            f'<rect class="shape" width="{w}" height="{h}"/>'
            f'<path class="shape" d="{bars}"/>'
        )
    if style in ("positive", "negative", "neutral"):
        radius = OUTCOME_RADIUS
        return f'<rect class="shape" width="{w}" height="{h}" rx="{radius}"/>'
    return f'<rect class="shape" width="{w}" height="{h}" rx="3"/>'


def _svg_legend(graph: _Graph, width: float, height: float) -> tuple[str, int, int]:
    """Draw a key to the box styles in use, in rows below the diagram.

    Returns the SVG and the width and height of the diagram with the key.
    """
    limit = max(width, LEGEND_MIN_WIDTH) - MARGIN
    x, y = MARGIN, height - MARGIN + LAYER_GAP
    right = width - MARGIN
    parts = ['<g class="legend">']
    for css_class, text in _legend_items(graph):
        item_width = LEGEND_SWATCH[0] + 6 + len(text) * LABEL_CHAR_WIDTH
        if x > MARGIN and x + item_width > limit:
            x, y = MARGIN, y + LEGEND_ROW_HEIGHT
        parts.append(_legend_item(css_class, text, x, y))
        right = max(right, x + item_width)
        x += item_width + 2 * NODE_GAP
    parts.append("</g>")
    size = round(right + MARGIN), round(y + LEGEND_ROW_HEIGHT + MARGIN)
    return "".join(parts), *size


def _legend_items(graph: _Graph) -> list[tuple[str, str]]:
    """Return the CSS class and text of each style the diagram uses."""
    boxes = [node for node in graph.nodes.values() if node.is_box]
    used = {node.style for node in boxes}
    items = [(style, text) for style, text in LEGEND.items() if style in used]
    if any(node.unreachable for node in boxes):
        items.append(("plain unreachable", "unreachable step"))
    if any(edge.back for edge in graph.edges):
        items.append(("back", "route back to an earlier step"))
    return items


def _legend_item(css_class: str, text: str, x: float, y: float) -> str:
    width, height = LEGEND_SWATCH
    if css_class == "back":
        swatch = (
            f'<path class="edge back" d="M0 {height // 2}H{width}"'
            ' marker-end="url(#stappen-arrow-back)"/>'
        )
    else:
        swatch = _shape(css_class.split()[0], width, height)
    return (
        f'<g class="{css_class}" transform="translate({_num(x)} {_num(y)})">'
        f'{swatch}<text x="{width + 6}" y="12" font-size="11">{text}</text></g>'
    )


# Text helpers


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _shorten(text: str, limit: int) -> str:
    text = _one_line(text)
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def _wrap(text: str, limit: int, max_lines: int) -> list[str]:
    """Break ``text`` into lines of at most ``limit`` characters.

    Words longer than a line are cut, and text beyond ``max_lines`` lines is
    replaced by an ellipsis at the end of the last line.
    """
    lines: list[str] = []
    current = ""
    for word in _one_line(text).split(" "):
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= limit or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    lines.append(current)

    if len(lines) > max_lines:
        last = " ".join(lines[max_lines - 1 :])
        lines = lines[: max_lines - 1] + [last]
    return [_shorten(line, limit) for line in lines]


def _escape(text: str) -> str:
    """Escape ``text`` for XML, replacing characters XML 1.0 does not allow."""
    return html.escape(INVALID_XML_CHARS.sub("\ufffd", text), quote=True)


def _num(value: float) -> str:
    return format(round(value, 1) + 0.0, ".1f").removesuffix(".0")
