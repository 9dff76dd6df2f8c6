"""The static analysis of one cell, rule by rule."""

from __future__ import annotations

import pytest

from jupyter_mlops.authoring.analysis import analyze_code


def test_reads_and_writes_in_evaluation_order() -> None:
    result = analyze_code("y = x + 1\nz = y * w")
    assert result.reads == ["x", "w"]
    assert result.writes == ["y", "z"]


def test_a_name_read_before_it_is_bound_is_a_read() -> None:
    result = analyze_code("total = total + 1")
    assert result.reads == ["total"]
    assert result.writes == ["total"]


def test_augmented_assignment_reads_and_writes() -> None:
    result = analyze_code("counter += step")
    assert result.reads == ["step", "counter"]
    assert result.writes == ["counter"]


@pytest.mark.parametrize(
    "code, name",
    [
        ("df['ratio'] = df['a'] / df['b']", "df"),
        ("df.loc[0, 'a'] = 1", "df"),
        ("obj.attr = 3", "obj"),
        ("items.append(4)", "items"),
        ("cfg.update(extra)", "cfg"),
        ("model.fit(X, y)", "model"),
        ("df.drop(columns=['a'], inplace=True)", "df"),
        ("df['a'].fillna(0, inplace=True)", "df"),
        ("del df['a']", "df"),
        ("arr[:2] += 1", "arr"),
        ("np.random.shuffle(arr)", "arr"),
    ],
)
def test_in_place_mutation_of_an_input_counts_as_a_write(code: str, name: str) -> None:
    result = analyze_code(code)
    assert name in result.reads
    assert name in result.writes
    assert name in result.mutated


def test_mutating_a_local_is_just_a_local_write() -> None:
    result = analyze_code("m = make()\nm.fit(X)")
    assert result.reads == ["make", "X"]
    assert result.writes == ["m"]
    assert result.mutated == []


def test_non_mutating_method_is_only_a_read() -> None:
    result = analyze_code("summary = df.describe()\ndf.head()")
    assert result.writes == ["summary"]
    assert result.mutated == []


def test_shadowing_inside_a_function_is_local() -> None:
    result = analyze_code("def f(x):\n    y = x * k\n    return y\nout = f(2)")
    assert result.reads == ["k"]
    assert result.writes == ["f", "out"]


def test_function_reading_a_name_the_cell_binds_later_is_not_a_read() -> None:
    result = analyze_code("def f():\n    return later\nlater = 1\nv = f()")
    assert result.reads == []


def test_comprehension_variables_are_local_and_lambdas_read_globals() -> None:
    result = analyze_code("out = [i * k for i in items if i > t]\nf = lambda v, w=dflt: v + off")
    assert result.reads == ["items", "k", "t", "dflt", "off"]
    assert result.writes == ["out", "f"]
    assert "i" not in result.writes
    assert "v" not in result.reads


def test_nested_comprehension_and_dict_comprehension() -> None:
    result = analyze_code("m = {a: [b for b in bs if b != a] for a in keys}")
    assert result.reads == ["keys", "bs"]
    assert result.writes == ["m"]


def test_walrus_in_comprehension_binds_in_the_cell() -> None:
    result = analyze_code("vals = [y for v in data if (y := v * 2) > lim]")
    assert set(result.writes) == {"y", "vals"}
    assert result.reads == ["data", "lim"]


def test_del_removes_a_name() -> None:
    result = analyze_code("del old\ntmp = 1\ndel tmp")
    assert result.reads == ["old"]
    assert result.writes == []
    assert result.deleted == ["old", "tmp"]


def test_global_at_top_level_is_a_no_op_and_in_a_function_is_a_write() -> None:
    top = analyze_code("global g\ng = 1")
    assert top.writes == ["g"] and top.reads == []
    nested = analyze_code("def bump():\n    global counter\n    counter += inc\nbump()")
    assert set(nested.reads) == {"counter", "inc"}
    assert "counter" in nested.writes
    assert nested.global_writes == ["counter"]


def test_function_mutating_a_global_counts_as_a_write() -> None:
    result = analyze_code("def add(v):\n    seen.append(v)\nadd(1)")
    assert "seen" in result.writes
    assert "seen" in result.mutated


def test_imports_inside_a_cell_are_recorded_with_their_statement() -> None:
    result = analyze_code("import numpy as np\nfrom sklearn.svm import SVC as S\nimport os.path")
    assert result.imports == {
        "np": "import numpy as np",
        "S": "from sklearn.svm import SVC as S",
        "os": "import os.path",
    }
    assert result.reads == []


def test_class_body_and_bases() -> None:
    result = analyze_code("class A(Base):\n    k = K\n    def m(self):\n        return G\n")
    assert set(result.reads) == {"Base", "K", "G"}
    assert result.writes == ["A"]


def test_for_loop_target_and_except_name() -> None:
    result = analyze_code(
        "for i in range(n):\n    acc = acc + i\ntry:\n    v = risky()\nexcept ValueError as e:\n    v = str(e)"
    )
    assert result.reads == ["range", "n", "acc", "risky", "ValueError", "str"]
    assert result.writes == ["i", "acc", "v"]


def test_ipython_magics_are_understood() -> None:
    result = analyze_code("%time r = f(x)\n!ls\nfiles = !ls\nz = r")
    assert result.magic_lines == [1, 2, 3]
    assert {"r", "files", "z"} <= set(result.writes)
    assert {"f", "x"} <= set(result.reads)


def test_syntax_error_is_raised() -> None:
    with pytest.raises(SyntaxError):
        analyze_code("x = (")
