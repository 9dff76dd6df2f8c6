"""dag.render_text / render_svg: layering, determinism, escaping, odd input."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from jupyter_mlops.pipeline.dag import layers, normalize, render_svg, render_text

SVG = "{http://www.w3.org/2000/svg}"

CHAIN = [("load_data", []), ("split", ["load_data"]), ("train", ["split"])]
DIAMOND = [
    ("load", []),
    ("features", ["load"]),
    ("labels", ["load"]),
    ("train", ["features", "labels"]),
]
BRANCHES = [
    ("load_a", []),
    ("load_b", []),
    ("clean_a", ["load_a"]),
    ("clean_b", ["load_b"]),
]


def boxes(svg: str) -> dict[str, tuple[float, float, float, float]]:
    """Step label -> (x, y, width, height) of its box."""
    root = ET.fromstring(svg)
    found = {}
    for group in root.iter(f"{SVG}g"):
        rect = group.find(f"{SVG}rect")
        text = group.find(f"{SVG}text")
        assert rect is not None and text is not None
        found[text.text or ""] = tuple(
            float(rect.get(k, "0")) for k in ("x", "y", "width", "height")
        )
    return found


def edges(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [path.findtext(f"{SVG}title") or "" for path in root.iter(f"{SVG}path")
            if path.get("class") == "edge"]  # fmt: skip


def test_text_of_a_chain():
    assert render_text(CHAIN) == (
        "load_data\nsplit      ← load_data\ntrain      ← split\n(3 steps, 2 dependencies)"
    )


def test_text_of_a_diamond_lists_layers_in_order():
    assert render_text(DIAMOND).splitlines() == [
        "load",
        "features  ← load",
        "labels    ← load",
        "train     ← features, labels",
        "(4 steps, 4 dependencies)",
    ]


def test_text_of_independent_branches_puts_roots_first():
    assert render_text(BRANCHES).splitlines() == [
        "load_a",
        "load_b",
        "clean_a  ← load_a",
        "clean_b  ← load_b",
        "(4 steps, 2 dependencies)",
    ]


def test_text_of_nothing_and_of_one_step():
    assert render_text([]) == "(no steps)"
    assert render_text([("only", [])]) == "only\n(1 step, 0 dependencies)"


def test_layers_use_the_longest_path():
    graph = [("a", []), ("b", ["a"]), ("c", ["b"]), ("d", ["a", "c"])]
    assert layers(graph) == [["a"], ["b"], ["c"], ["d"]]
    assert layers(DIAMOND) == [["load"], ["features", "labels"], ["train"]]


def test_normalize_drops_unknown_duplicate_self_and_cycle_edges():
    graph = [("a", ["ghost", "a", "c"]), ("b", ["a", "a"]), ("c", ["b"])]
    # a -> c -> b -> a is a cycle: the edge that closes it (b's dependency on a) is dropped.
    assert normalize(graph) == [("a", ["c"]), ("b", []), ("c", ["b"])]
    assert render_text(graph).splitlines()[0] == "b"
    svg = render_svg(graph)
    assert sorted(edges(svg)) == ["b → c", "c → a"]


def test_svg_is_well_formed_and_deterministic():
    first = render_svg(DIAMOND)
    assert first == render_svg([(name, list(deps)) for name, deps in DIAMOND])
    root = ET.fromstring(first)
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    coordinates = re.findall(r' (?:x|y|width|height)="([^"]*)"', first)
    coordinates += re.findall(r'class="edge" d="([^"]*)"', first)
    assert coordinates and all(re.fullmatch(r"[MC\d ]+", c) for c in coordinates), coordinates


def test_svg_of_a_diamond_has_layers_top_to_bottom_and_an_arrow_per_edge():
    svg = render_svg(DIAMOND)
    placed = boxes(svg)
    assert set(placed) == {"load", "features", "labels", "train"}
    assert placed["load"][1] < placed["features"][1] == placed["labels"][1] < placed["train"][1]
    assert placed["features"][0] < placed["labels"][0]
    assert sorted(edges(svg)) == [
        "features → train",
        "labels → train",
        "load → features",
        "load → labels",
    ]
    assert svg.count('marker-end="url(#mlops-arrow)"') == 4
    # Boxes in one layer do not overlap and stay inside the picture.
    width = float(ET.fromstring(svg).get("width", "0"))
    f, lab = placed["features"], placed["labels"]
    assert f[0] + f[2] < lab[0]
    assert all(x >= 0 and x + w <= width for x, _, w, _ in placed.values())


def test_svg_of_independent_branches_keeps_each_branch_under_its_root():
    placed = boxes(render_svg(BRANCHES))
    assert placed["load_a"][1] == placed["load_b"][1] < placed["clean_a"][1]
    assert placed["load_a"][0] < placed["load_b"][0]
    assert placed["clean_a"][0] < placed["clean_b"][0]


def test_svg_orders_a_layer_by_its_parents_positions():
    graph = [("a", []), ("b", []), ("from_b", ["b"]), ("from_a", ["a"])]
    placed = boxes(render_svg(graph))
    assert placed["from_a"][0] < placed["from_b"][0]


def test_svg_box_grows_with_the_name():
    placed = boxes(render_svg([("x", []), ("a_rather_long_step_name", ["x"])]))
    assert placed["a_rather_long_step_name"][2] > placed["x"][2]


def test_svg_escapes_names():
    nasty = "a<b>&\"c'"
    svg = render_svg([(nasty, []), ("next", [nasty])])
    assert "<b>" not in svg
    assert "a&lt;b&gt;&amp;&quot;c&#x27;" in svg
    assert nasty in boxes(svg)
    assert edges(svg) == [f"{nasty} → next"]


def test_svg_of_no_steps_is_a_valid_picture():
    svg = render_svg([])
    root = ET.fromstring(svg)
    assert root.findtext(f"{SVG}text") == "no steps"
