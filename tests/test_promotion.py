"""Promotion: moving registry aliases, refusing versions the gates rejected (real MLflow store).

Versions are created directly in the registry with the gate tags a gated run writes; the
end-to-end path (gated runs, then promote) is in test_gates.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow_fixtures import assert_no_global_store, client_for
from nbfactory import write_notebook

from jupyter_mlops import cli
from jupyter_mlops.authoring.scan import scan_notebook
from jupyter_mlops.errors import PromotionError, PromotionRefused
from jupyter_mlops.extract.writer import write_package
from jupyter_mlops.registry.promotion import promote, resolve_model

NAME = "churn"


def add_versions(uri: str, tmp_path: Path, *gates: str | None) -> None:
    """Register one version per entry of ``gates`` (its ``mlops.gate`` tag, None: untagged);
    the last validated (or untagged) one gets alias ``challenger``, as the runner does."""
    client = client_for(uri)
    client.create_registered_model(NAME)
    for number, gate in enumerate(gates, start=1):
        tags = {}
        if gate is not None:
            tags = {"mlops.gate": gate, "mlops.gate.reasons": f"reason of {number}"}
            if gate == "validated":
                tags["mlops.gate.reasons"] = ""
        source = (tmp_path / f"model-{number}").as_uri()
        client.create_model_version(NAME, source, tags=tags)
        if gate != "rejected":
            client.set_registered_model_alias(NAME, "challenger", str(number))


def aliases(uri: str) -> dict[str, int]:
    return dict(client_for(uri).get_registered_model(NAME).aliases)


def test_promote_moves_champion_to_the_challenger_by_default(
    tracking_uri: str, tmp_path: Path
) -> None:
    add_versions(tracking_uri, tmp_path, "validated", "validated")
    done = promote(tracking_uri, NAME)
    assert (done.version, done.previous, done.gate, done.forced) == ("2", None, "validated", False)
    assert done.describe() == "churn: champion (unset) → 2 (gate: validated)"
    assert aliases(tracking_uri) == {"challenger": 2, "champion": 2}
    again = promote(tracking_uri, NAME)
    assert again.describe() == "churn: champion already at 2 (gate: validated)"
    back = promote(tracking_uri, NAME, version=1)
    assert (back.version, back.previous) == ("1", "2")
    staged = promote(tracking_uri, NAME, version="2", alias="staging")
    assert staged.describe() == "churn: staging (unset) → 2 (gate: validated)"
    assert aliases(tracking_uri) == {"challenger": 2, "champion": 1, "staging": 2}
    assert_no_global_store(tmp_path)


def test_a_rejected_version_is_refused_unless_forced(tracking_uri: str, tmp_path: Path) -> None:
    add_versions(tracking_uri, tmp_path, "validated", "rejected")
    promote(tracking_uri, NAME)  # the challenger: version 1
    with pytest.raises(PromotionRefused) as refused:
        promote(tracking_uri, NAME, version=2)
    assert str(refused.value) == (
        "version 2 of model 'churn' was rejected by the gates (reason of 2); "
        "pass --force to promote it anyway"
    )
    assert refused.value.exit_code == 1
    assert aliases(tracking_uri) == {"challenger": 1, "champion": 1}

    forced = promote(tracking_uri, NAME, version=2, force=True)
    assert forced.describe() == "churn: champion 1 → 2 (gate: rejected, forced)"
    assert aliases(tracking_uri) == {"challenger": 1, "champion": 2}
    tags = client_for(tracking_uri).get_model_version(NAME, "2").tags
    assert tags["mlops.forced_promotion.champion"] == "true"


def test_ungated_versions_can_be_promoted(tracking_uri: str, tmp_path: Path) -> None:
    add_versions(tracking_uri, tmp_path, None)
    assert promote(tracking_uri, NAME).describe() == "churn: champion (unset) → 1 (not gated)"


@pytest.mark.parametrize(
    "gates, kwargs, message",
    [
        ((), {}, "no registered model 'nope' in sqlite:///"),
        (("rejected",), {}, "model 'churn' has no 'challenger' version"),
        (("validated",), {"version": 7}, "model 'churn' has no version 7"),
        (("validated",), {"version": "v1"}, "version must be a number, not 'v1'"),
        (("validated",), {"alias": "to prod"}, "'to prod' is not a usable alias name"),
        (("validated",), {"alias": "latest"}, "'latest' is not a usable alias name"),
    ],
)
def test_bad_promotions_name_what_is_wrong(
    gates: tuple[str, ...],
    kwargs: dict[str, object],
    message: str,
    tracking_uri: str,
    tmp_path: Path,
) -> None:
    if gates:
        add_versions(tracking_uri, tmp_path, *gates)
    name = NAME if gates else "nope"
    with pytest.raises(PromotionError) as raised:
        promote(tracking_uri, name, **kwargs)  # type: ignore[arg-type]
    assert message in str(raised.value) and raised.value.exit_code == 2


def test_cli_promote(tracking_uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_versions(tracking_uri, tmp_path, "validated", "rejected")
    uri = ["--tracking-uri", tracking_uri]
    assert cli.main(["promote", NAME, *uri]) == 0
    assert capsys.readouterr().out == "churn: champion (unset) → 1 (gate: validated)\n"
    assert cli.main(["promote", NAME, "--version", "2", *uri]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: version 2 of model 'churn' was rejected")
    assert err.count("\n") == 1
    assert cli.main(["promote", NAME, "--version", "2", "--force", "--alias", "staging", *uri]) == 0
    assert "staging (unset) → 2 (gate: rejected, forced)" in capsys.readouterr().out
    assert cli.main(["promote", "unknown", *uri]) == 2
    assert capsys.readouterr().err.startswith("error: no registered model 'unknown' in ")
    assert aliases(tracking_uri) == {"challenger": 1, "champion": 1, "staging": 2}


def test_resolve_model_from_a_pipeline_folder_notebook_or_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    notebook = write_notebook(project / "flow.ipynb", ["%%mlstep load\nx = 1\n"])
    folder = project / "pipelines" / "flow"
    write_package(scan_notebook(notebook), folder)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    default = "sqlite:///" + (project / "mlflow.db").as_posix()
    assert resolve_model(str(folder), None) == ("flow", default)  # as `run` records it
    assert resolve_model(str(notebook), None) == ("flow", default)
    assert resolve_model(str(folder), "sqlite:///x.db") == ("flow", "sqlite:///x.db")
    monkeypatch.chdir(tmp_path)
    assert resolve_model("churn", None) == (
        "churn",
        "sqlite:///" + (tmp_path / "mlflow.db").as_posix(),
    )
    with pytest.raises(PromotionError, match="no extracted pipeline at"):
        resolve_model(str(tmp_path / "other.ipynb"), None)
