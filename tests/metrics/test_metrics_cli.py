"""``calibrax metrics list``: run the command, check its output against the library."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from calibrax import metrics
from calibrax.cli import cli
from calibrax.cli._metrics import metrics_group, metrics_list


def _run(*args: str) -> object:
    return CliRunner().invoke(cli, ["metrics", "list", *args])


def test_json_lists_every_registered_metric_with_its_properties() -> None:
    res = _run("--json")
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    rows = json.loads(res.output)  # type: ignore[attr-defined]
    assert [r["name"] for r in rows] == [e.name for e in metrics.list_metrics()]
    mse = next(r for r in rows if r["name"] == "mse")
    assert mse["domain"] == "regression" and mse["direction"] == "lower" and mse["non_negative"] is True
    assert "translation" in mse["invariances"] and mse["tier"] == 0


def test_filters_by_domain_tier_and_property() -> None:
    rows = json.loads(_run("--domain", "distance", "--property", "true_metric", "--json").output)  # type: ignore[attr-defined]
    assert rows and {r["domain"] for r in rows} == {"distance"} and all(r["true_metric"] for r in rows)
    assert [r["name"] for r in rows] == [e.name for e in metrics.list_metrics(domain="distance", true_metric=True)]
    rotation = json.loads(_run("--property", "rotation", "--json").output)  # type: ignore[attr-defined]
    assert rotation and all("rotation" in r["invariances"] for r in rotation)
    learned = json.loads(_run("--tier", "2", "--json").output)  # type: ignore[attr-defined]
    assert learned and [r["name"] for r in learned] == [e.name for e in metrics.list_metrics(tier=2)]


def test_table_for_people() -> None:
    res = _run("--domain", "regression")
    lines = res.output.splitlines()  # type: ignore[attr-defined]
    assert res.exit_code == 0 and lines[0].split() == ["name", "domain", "tier", "better", "properties"]  # type: ignore[attr-defined]
    assert any(line.startswith("rmse ") for line in lines)
    assert lines[-1] == f"{len(metrics.list_metrics(domain='regression'))} metric(s)"


def test_bad_filters_fail_with_a_clear_message() -> None:
    res = _run("--domain", "regresion")
    assert res.exit_code == 2 and "Did you mean 'regression'" in res.output  # type: ignore[attr-defined]
    res = _run("--property", "symetric")
    assert res.exit_code == 2 and "unknown property 'symetric'" in res.output  # type: ignore[attr-defined]
    res = _run("--tier", "7")
    assert res.exit_code == 2  # type: ignore[attr-defined]


def test_every_command_documents_an_example() -> None:
    for command in (metrics_group, metrics_list):
        assert (command.help or "").strip().splitlines()[-1].strip().startswith("Example: calibrax metrics list")


def test_help_does_not_import_jax() -> None:
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom calibrax.cli import cli\n"
        "assert CliRunner().invoke(cli, ['metrics', '--help']).exit_code == 0\n"
        "assert CliRunner().invoke(cli, ['--help']).exit_code == 0\n"
        "print(sorted(m for m in sys.modules if m == 'jax' or m.startswith('jax.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
