import numpy as np
import pytest

from scenarios import scenario_files as sf


def test_long_format_round_trip_is_exact_and_deterministic():
    rng = np.random.default_rng(0)
    paths = rng.standard_t(4, size=(50, 7, 3)) * 0.01
    blob = sf.canonical_bytes(paths, ["A", "B", "C"])
    assert blob == sf.canonical_bytes(paths.copy(), ["A", "B", "C"])
    back, factors = sf.read_canonical(blob)
    assert factors == ["A", "B", "C"]
    np.testing.assert_array_equal(back, paths)


def test_order_of_rows_does_not_matter():
    paths = np.arange(24, dtype=float).reshape(2, 4, 3)
    frame = sf.to_long(paths, ["A", "B", "C"]).sample(frac=1, random_state=0)
    back, _ = sf.from_long(frame)
    np.testing.assert_array_equal(back, paths)


def test_duplicates_and_formula_names_are_refused():
    frame = sf.to_long(np.zeros((2, 3, 1)), ["A"])
    frame.loc[1, "step"] = 1
    with pytest.raises(sf.ScenarioFileError):
        sf.from_long(frame)
    with pytest.raises(sf.ScenarioFileError, match="formula"):
        sf.from_long(sf.to_long(np.zeros((1, 2, 1)), ["=cmd"]))
    assert sf.safe_csv_cell("=1+1") == "'=1+1" and sf.safe_csv_cell("SP500") == "SP500"
