"""The trial chart data of an interleaved gate, and the history chart's marker for runs measured by trials."""

from __future__ import annotations

from calibrax.analysis import HistoryPoint
from calibrax.exporters._page_charts import OTHER_METHOD_LEGEND, PLAIN_LEGEND, decode_positions, history_data
from calibrax.exporters._trials import trial_data, trials_by_case
from calibrax.storage import TrialValue

K = 'mm{"n": 8}'


def _trials(values: list[tuple[str, float]]) -> list[TrialValue]:
    return [TrialValue(K, "time", i, arm, v) for i, (arm, v) in enumerate(values, start=1)]


def test_each_side_is_placed_at_its_trials_in_order_on_one_shared_axis() -> None:
    data = trial_data(_trials([("A", 1e-3), ("B", 2e-3), ("B", 2.2e-3), ("A", 1.4e-3)]), "s",
                      {"baseline": "baseline main (abc)"})
    assert data is not None
    a, b = decode_positions(data.baseline), decode_positions(data.candidate)
    assert [round(x, 3) for x in a[0::2]] == [0.125, 0.875] and [round(x, 3) for x in b[0::2]] == [0.375, 0.625]
    # one y axis for both sides: the candidate's slower trials sit above every baseline trial, and drift shows
    assert min(b[1::2]) > max(a[1::2]) and a[3] > a[1] and b[3] > b[1]
    assert data.trials == 4 and data.legend == ("baseline main (abc)", "candidate")
    assert data.description.startswith("4 trials in the order measured: baseline median 1.2 ms over 2 trials")
    assert data.to_json()[3:] == [4, data.description, ["baseline main (abc)", "candidate"]]


def test_no_chart_without_a_finite_trial_on_each_side() -> None:
    assert trial_data(_trials([("B", 2e-3), ("B", 2.1e-3)])) is None
    assert trial_data(_trials([("A", float("nan")), ("B", 2e-3)])) is None


def test_trials_are_grouped_by_case_for_one_measure_in_trial_order() -> None:
    mixed = [*_trials([("A", 1.0), ("B", 2.0)])[::-1], TrialValue(K, "flops", 1, "A", 5.0)]
    assert [t.position for t in trials_by_case(mixed)[K]] == [1, 2]
    assert [t.value for t in trials_by_case(mixed, "flops")[K]] == [5.0]


def test_history_marks_runs_measured_by_trials_and_adds_a_legend_only_then() -> None:
    points = [HistoryPoint(f"r{i}", 1e-3 * (1 + 0.1 * i)) for i in range(4)]
    plain = history_data(points, [], "s")
    assert plain is not None and plain.other_method == () and len(plain.to_json()) == 6
    marked = history_data(points, [], "s", other_method=frozenset({"r1", "nope"}))
    assert marked is not None and marked.other_method == (1,)
    assert marked.to_json()[6:] == [[1], [OTHER_METHOD_LEGEND, PLAIN_LEGEND]]
