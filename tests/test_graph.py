"""Tests of the SVG diagram of a flow, on flows built directly in code."""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from stappen.graph import STYLES, condition_text, render_svg
from stappen.model import Flow, Organisation, Route, Step

SVG = "{http://www.w3.org/2000/svg}"


def make_step(step_id, kind="content", title=None, routes=(), tone="neutral"):
    title = {"nl": step_id.capitalize()} if title is None else title
    return Step(
        id=step_id,
        kind=kind,
        title=title,
        line=None,
        routes=tuple(routes),
        tone=tone,
    )


def make_flow(*steps, start=None, title="Proef"):
    return Flow(
        id="proef",
        folder=Path("steps/proef"),
        file=Path("steps/proef/flow.yaml"),
        title={"nl": title},
        organisation=Organisation(name={"nl": "Gemeente"}),
        languages=("nl",),
        theme="utrecht",
        start=start or steps[0].id,
        steps={step.id: step for step in steps},
    )


def yes(question):
    return {"==": [{"var": question}, True]}


def branching_flow():
    """A question with two branches that meet again, and a long route."""
    return make_flow(
        make_step("begin", routes=[Route("vraag")]),
        make_step(
            "vraag",
            "question",
            routes=[
                Route("wallet", yes("vraag")),
                Route("klaar", {"<": [{"var": "inkomen"}, 1533.5]}),
                Route("uitleg"),
            ],
        ),
        make_step("wallet", "wallet", routes=[Route("samenvatting")]),
        make_step("uitleg", routes=[Route("samenvatting")]),
        make_step("samenvatting", "summary", routes=[Route("klaar")]),
        make_step("klaar", "outcome", tone="positive"),
    )


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg.encode())


def element_by_id(root: ET.Element, element_id: str) -> ET.Element | None:
    return next((el for el in root.iter() if el.get("id") == element_id), None)


def box_position(root: ET.Element, step_id: str) -> tuple[float, float]:
    box = element_by_id(root, f"step-{step_id}")
    match = re.fullmatch(r"translate\(([-\d.]+) ([-\d.]+)\)", box.get("transform"))
    return float(match[1]), float(match[2])


def texts(element: ET.Element) -> list[str]:
    return [el.text for el in element.iter(f"{SVG}text")]


def edges(root: ET.Element) -> list[ET.Element]:
    """Return the paths of routes, leaving out the legend's sample route."""
    return [el for el in root.iter(f"{SVG}path") if el.get("data-from") is not None]


def relative_luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [
        c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels
    ]
    red, green, blue = linear
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: str, second: str) -> float:
    light, dark = sorted(map(relative_luminance, (first, second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


# The document


def test_svg_parses_as_xml():
    root = parse(render_svg(branching_flow(), "nl"))

    assert root.tag == f"{SVG}svg"


def test_svg_accessible_name():
    root = parse(render_svg(branching_flow(), "nl"))
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")

    assert root.get("role") == "img"
    assert title is not None
    assert title.text == "Steps of flow Proef"
    assert desc is not None
    assert "6 steps" in desc.text


def test_svg_scales_with_viewbox():
    root = parse(render_svg(branching_flow(), "nl"))
    width, height = root.get("width"), root.get("height")

    assert root.get("viewBox") == f"0 0 {width} {height}"
    assert int(width) > 0
    assert int(height) > 0


def test_render_deterministic():
    first = render_svg(branching_flow(), "nl")
    second = render_svg(branching_flow(), "nl")

    assert first == second


# Steps


def test_every_step_id_appears():
    flow = branching_flow()
    root = parse(render_svg(flow, "nl"))

    for step_id in flow.steps:
        box = element_by_id(root, f"step-{step_id}")
        assert box is not None, step_id
        assert box.get("data-step") == step_id
        assert any(step_id in text for text in texts(box)), step_id


def test_title_in_requested_language():
    flow = make_flow(
        make_step("begin", title={"nl": "Welkom", "en": "Welcome"}),
    )
    root = parse(render_svg(flow, "en"))

    assert "Welcome" in texts(element_by_id(root, "step-begin"))


def test_kind_shapes_and_tones():
    flow = make_flow(
        make_step(
            "vraag", "question", routes=[Route("ja", yes("vraag")), Route("nee")]
        ),
        make_step("ja", "outcome", tone="positive"),
        make_step("nee", "outcome", tone="negative"),
    )
    root = parse(render_svg(flow, "nl"))
    question = element_by_id(root, "step-vraag")
    positive = element_by_id(root, "step-ja")
    negative = element_by_id(root, "step-nee")

    assert question.find(f"{SVG}polygon") is not None
    assert "positive" in positive.get("class").split()
    assert "negative" in negative.get("class").split()
    assert positive.find(f"{SVG}rect").get("rx") == "16"


def test_special_kind_named_in_box():
    root = parse(render_svg(branching_flow(), "nl"))

    assert "wallet · wallet" in texts(element_by_id(root, "step-wallet"))


def test_unreachable_step_marked():
    flow = make_flow(
        make_step("begin", routes=[Route("klaar")]),
        make_step("klaar", "outcome"),
        make_step("vergeten", routes=[Route("klaar")]),
    )
    root = parse(render_svg(flow, "nl"))
    forgotten = element_by_id(root, "step-vergeten")
    end = element_by_id(root, "step-klaar")

    assert "unreachable" in forgotten.get("class").split()
    assert "unreachable" in texts(forgotten)
    assert "vergeten" in root.find(f"{SVG}desc").text
    assert "unreachable" not in end.get("class").split()
    assert "unreachable" not in texts(end)


def test_missing_target_drawn():
    flow = make_flow(
        make_step("begin", routes=[Route("bestaat-niet")]),
    )
    root = parse(render_svg(flow, "nl"))
    missing = element_by_id(root, "missing-bestaat-niet")

    assert missing is not None
    assert "missing: bestaat-niet" in texts(missing)
    assert [edge.get("data-to") for edge in edges(root)] == ["bestaat-niet"]


def test_flow_without_steps_renders():
    flow = make_flow(make_step("begin"))
    flow.steps = {}
    root = parse(render_svg(flow, "nl"))

    assert element_by_id(root, "missing-begin") is not None


def test_missing_start_drawn():
    flow = make_flow(make_step("begin"), start="elders")
    root = parse(render_svg(flow, "nl"))

    assert element_by_id(root, "missing-elders") is not None
    assert "unreachable" in element_by_id(root, "step-begin").get("class").split()


def test_long_title_shortened_with_tooltip():
    title = (
        "Heeft u in de afgelopen twaalf maanden een uitkering ontvangen van het UWV?"
    )
    flow = make_flow(make_step("uitkering", title={"nl": title}))
    box = element_by_id(parse(render_svg(flow, "nl")), "step-uitkering")
    visible = texts(box)

    assert title not in visible
    assert visible[-1].endswith("…")
    assert title in box.find(f"{SVG}title").text


# Routes


def test_condition_labels_present():
    root = parse(render_svg(branching_flow(), "nl"))
    labels = [text for group in root.iter(f"{SVG}g") for text in texts(group)]

    assert "vraag == true" in labels
    assert "inkomen < 1533.5" in labels
    assert "otherwise" in labels


def test_unconditional_route_has_no_label():
    flow = make_flow(
        make_step("begin", routes=[Route("klaar")]),
        make_step("klaar", "outcome"),
    )
    root = parse(render_svg(flow, "nl"))

    assert not [g for g in root.iter(f"{SVG}g") if g.get("class") == "label"]


def test_long_label_shortened_with_tooltip():
    condition = {
        "and": [
            {"==": [{"var": "woont-in-utrecht"}, True]},
            {">=": [{"var": "leeftijd"}, 21]},
            {"<": [{"var": "vermogen"}, 7000]},
        ]
    }
    flow = make_flow(
        make_step("vraag", "question", routes=[Route("ja", condition), Route("nee")]),
        make_step("ja", "outcome"),
        make_step("nee", "outcome"),
    )
    root = parse(render_svg(flow, "nl"))
    full = condition_text(condition)
    label = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "label")
    visible = label.find(f"{SVG}text").text

    assert len(visible) <= 40
    assert visible.endswith("…")
    assert label.find(f"{SVG}title").text == full


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (yes("heeft-wallet"), "heeft-wallet == true"),
        ({"<": [{"var": "inkomen"}, 1533.5]}, "inkomen < 1533.5"),
        ({"==": [{"var": "gemeente"}, "één"]}, 'gemeente == "één"'),
        ({"!": {"var": "verstuurd"}}, "not verstuurd"),
        ({"!": yes("a")}, "not (a == true)"),
        ({"var": ["leeftijd", 0]}, "leeftijd"),
        ({"in": ["huur", {"var": "woning"}]}, '"huur" in woning'),
        ({"<=": [18, {"var": "leeftijd"}, 67]}, "18 <= leeftijd <= 67"),
        ({"*": [{"+": [{"var": "a"}, 1]}, 2]}, "(a + 1) * 2"),
        ({"and": [yes("a"), {">": [{"var": "b"}, 2]}]}, "and(a == true, b > 2)"),
        ({"missing": ["a", "b"]}, 'missing("a", "b")'),
        (True, "true"),
    ],
)
def test_condition_text(condition, expected):
    assert condition_text(condition) == expected


def test_routes_to_one_target_share_label():
    flow = make_flow(
        make_step(
            "vraag",
            "question",
            routes=[Route("ja", yes("a")), Route("ja", yes("b")), Route("nee")],
        ),
        make_step("ja", "outcome"),
        make_step("nee", "outcome"),
    )
    root = parse(render_svg(flow, "nl"))
    labels = [text for group in root.iter(f"{SVG}g") for text in texts(group)]

    assert len(edges(root)) == 2
    assert "a == true or b == true" in labels


# Hostile text


def test_hostile_title_escaped():
    hostile = "<script>alert(\"x\")</script> & 'één' ]]>"
    flow = make_flow(make_step("begin", title={"nl": hostile}), title=hostile)
    svg = render_svg(flow, "nl")
    root = parse(svg)
    box = element_by_id(root, "step-begin")

    assert "<script>" not in svg
    assert not list(root.iter(f"{SVG}script"))
    assert not list(root.iter("script"))
    assert box.find(f"{SVG}title").text == f"begin (content): {hostile}"
    assert root.find(f"{SVG}title").text == f"Steps of flow {hostile}"


def test_control_characters_replaced():
    flow = make_flow(make_step("begin", title={"nl": "kop\x00\x1bje"}))
    box = element_by_id(parse(render_svg(flow, "nl")), "step-begin")

    assert "kop\ufffd\ufffdje" in texts(box)


# Layout


def test_step_below_its_predecessors():
    flow = branching_flow()
    root = parse(render_svg(flow, "nl"))

    for step in flow.steps.values():
        for target in step.targets:
            below = box_position(root, target)[1]
            above = box_position(root, step.id)[1]
            assert below > above, f"{target} not below {step.id}"


def test_layers_follow_longest_path():
    root = parse(render_svg(branching_flow(), "nl"))
    layers = {
        el.get("data-step"): int(el.get("data-layer"))
        for el in root.iter(f"{SVG}g")
        if el.get("data-layer")
    }

    assert layers["begin"] == 0
    assert layers["vraag"] == 1
    assert layers["wallet"] == layers["uitleg"] == 2
    assert layers["samenvatting"] == 3
    assert layers["klaar"] == 4


def test_boxes_do_not_overlap():
    flow = branching_flow()
    root = parse(render_svg(flow, "nl"))
    positions = [box_position(root, step_id) for step_id in flow.steps]

    for index, (x, y) in enumerate(positions):
        for other_x, other_y in positions[index + 1 :]:
            apart = abs(x - other_x) >= 200 or abs(y - other_y) >= 52
            assert apart, (x, y, other_x, other_y)


def test_cycle_drawn_as_back_route():
    flow = make_flow(
        make_step("begin", routes=[Route("vraag")]),
        make_step(
            "vraag", "question", routes=[Route("begin", yes("vraag")), Route("klaar")]
        ),
        make_step("klaar", "outcome"),
    )
    root = parse(render_svg(flow, "nl"))
    back = [edge for edge in edges(root) if "back" in edge.get("class").split()]

    assert [(edge.get("data-from"), edge.get("data-to")) for edge in back] == [
        ("vraag", "begin")
    ]
    assert box_position(root, "klaar")[1] > box_position(root, "vraag")[1]
    assert "vraag → begin" in root.find(f"{SVG}desc").text


def test_self_loop_drawn_as_back_route():
    flow = make_flow(
        make_step(
            "vraag", "question", routes=[Route("vraag", yes("x")), Route("klaar")]
        ),
        make_step("klaar", "outcome"),
    )
    root = parse(render_svg(flow, "nl"))
    back = [edge for edge in edges(root) if "back" in edge.get("class").split()]

    assert [edge.get("data-to") for edge in back] == ["vraag"]


def large_flow(count: int) -> Flow:
    """Build a flow of questions that each skip ahead a few steps and back."""
    rng = random.Random(count)
    steps = []
    for index in range(count - 3):
        ahead = min(count - 1, index + rng.randint(2, 12))
        routes = [
            Route(f"stap-{ahead}", yes(f"stap-{index}")),
            Route(f"stap-{index + 1}"),
        ]
        if index % 50 == 49:
            routes.insert(0, Route(f"stap-{index - 30}", yes("terug")))
        steps.append(make_step(f"stap-{index}", "question", routes=routes))
    for index in range(count - 3, count):
        steps.append(make_step(f"stap-{index}", "outcome", tone="positive"))
    return make_flow(*steps)


def test_large_flow_renders():
    root = parse(render_svg(large_flow(500), "nl"))
    boxes = [el for el in root.iter(f"{SVG}g") if el.get("data-step")]

    assert len(boxes) == 500


# Colours


@pytest.mark.parametrize("name", sorted(STYLES))
def test_text_contrast_sufficient(name):
    style = STYLES[name]

    assert contrast(style.text, style.fill) >= 4.5
    assert contrast(style.text, "#ffffff") >= 4.5
