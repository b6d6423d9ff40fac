import hashlib
import io

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from governance.artifacts import artifact_root, read_bytes
from governance.errors import InvalidInput
from governance.models import AuditEvent, LineageNode
from scenarios import datasets as checks
from scenarios.models import Dataset
from scenarios.services.datasets import dataset_import, dataset_import_builtin, dataset_import_upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def isolated_uploads(settings, tmp_path):
    settings.CRUCIBLE_UPLOAD_DIR = tmp_path / "uploads"
    return settings.CRUCIBLE_UPLOAD_DIR


def table(rows: int = 80) -> pd.DataFrame:
    dates = pd.bdate_range("2020-01-01", periods=rows)
    rng = np.random.default_rng(0)
    return pd.DataFrame({"date": dates.strftime("%Y-%m-%d"),
                         "EQ": 100 * np.exp(np.cumsum(rng.normal(0, 0.01, rows))),
                         "RATE": 2 + np.cumsum(rng.normal(0, 0.02, rows))})


def csv_bytes(frame: pd.DataFrame) -> io.BytesIO:
    return io.BytesIO(frame.to_csv(index=False).encode())


def test_builtin_real_panel_is_fingerprinted_over_its_stored_bytes(developer):
    dataset = dataset_import_builtin(actor=developer, builtin="sp500_nasdaq_wti")
    assert dataset.factors == ["SP500", "NASDAQ", "WTI"] and dataset.frequency == "daily"
    assert str(dataset.start_date) == "1999-01-04" and dataset.n_rows > 4900
    stored = (artifact_root() / dataset.storage_path).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == dataset.sha256
    frame = checks.read_canonical(stored)
    assert frame.shape == (dataset.n_rows, 3)
    # log-returns for prices, kept with the dataset version
    incr = checks.read_canonical(read_bytes(dataset.increments_path, expected_sha256=dataset.increments_sha256))
    expected = np.diff(np.log(frame["SP500"].to_numpy()))
    np.testing.assert_allclose(incr["SP500"].to_numpy(), expected, rtol=0, atol=1e-15)
    node = LineageNode.objects.get(uid=f"dataset:{dataset.pk}")
    assert node.sha256 == dataset.sha256
    assert AuditEvent.objects.filter(action="dataset.imported", object_id=str(dataset.pk)).count() == 1


def test_reimport_makes_a_new_version_with_the_same_fingerprint(developer):
    first = dataset_import_upload(actor=developer, handle=csv_bytes(table()), filename="a.csv", name="panel",
                                  column_kinds={"RATE": "rates"})
    second = dataset_import_upload(actor=developer, handle=csv_bytes(table()), filename="a.csv", name="panel",
                                   column_kinds={"RATE": "rates"})
    assert (first.version, second.version) == (1, 2)
    assert first.sha256 == second.sha256
    incr = checks.read_canonical(read_bytes(first.increments_path))
    np.testing.assert_allclose(incr["RATE"].to_numpy(), np.diff(table()["RATE"].to_numpy()), atol=1e-12)


def test_parquet_upload_gives_the_same_fingerprint_as_csv(developer):
    frame = table()
    buffer = io.BytesIO()
    frame.assign(date=pd.to_datetime(frame["date"])).to_parquet(buffer)
    buffer.seek(0)
    parquet = dataset_import_upload(actor=developer, handle=buffer, filename="a.parquet", name="p")
    csv = dataset_import_upload(actor=developer, handle=csv_bytes(frame), filename="a.csv", name="c")
    assert parquet.sha256 == csv.sha256


BAD_CASES = [
    ("unparseable date", lambda f: f.assign(date=f["date"].where(f.index != 5, "2020-13-45")),
     "row 7: date '2020-13-45'"),
    ("duplicate date", lambda f: f.assign(date=f["date"].where(f.index != 9, f["date"][8])),
     "row 11: duplicate date"),
    ("decreasing", lambda f: f.iloc[[0, 1, 3, 2, *range(4, len(f))]].reset_index(drop=True),
     "row 5: date"),
    ("text in numbers", lambda f: f.astype({"EQ": object}).assign(EQ=f["EQ"].astype(object).where(f.index != 3, "abc")),
     "row 5, column 'EQ': 'abc' is not a number"),
    ("infinite", lambda f: f.assign(EQ=f["EQ"].where(f.index != 4, np.inf)), "row 6, column 'EQ': infinite"),
    ("missing", lambda f: f.assign(EQ=f["EQ"].where(f.index != 6, np.nan)), "row 8, column 'EQ': missing value"),
    ("too few rows", lambda f: f.head(10), "at least 60 are required"),
    ("formula column", lambda f: f.rename(columns={"EQ": "=HYPERLINK(1)"}), "formula-like"),
    ("no date column", lambda f: f.rename(columns={"date": "when"}), "no date column 'date'"),
    ("negative price", lambda f: f.assign(EQ=f["EQ"].where(f.index != 2, -1.0)), "row 4, column 'EQ'"),
    ("year 5138", lambda f: f.assign(date=f["date"].where(f.index != 4, "5138-03-01")),
     "row 6, column 'date': date 5138-03-01 is outside the accepted range 1900-01-01 to 2100-12-31"),
    ("year 1850", lambda f: f.assign(date=f["date"].where(f.index != 0, "1850-01-02")),
     "row 2, column 'date': date 1850-01-02 is outside the accepted range"),
    ("number as date", lambda f: f.assign(date=f["date"].where(f.index != 2, "2020.5")),
     "row 4, column 'date': '2020.5' is a number, not a date"),
]


@pytest.mark.parametrize(("label", "mutate", "message"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_uploads_are_refused_with_a_named_error_and_nothing_stored(developer, label, mutate, message):
    before_files = set(artifact_root().rglob("*"))
    with pytest.raises(InvalidInput) as error:
        dataset_import_upload(actor=developer, handle=csv_bytes(mutate(table())), filename="bad.csv",
                              name="bad", column_kinds={"RATE": "rates"})
    assert message in error.value.message
    assert not Dataset.objects.exists()
    assert not AuditEvent.objects.filter(action="dataset.imported").exists()
    assert not LineageNode.objects.filter(kind="dataset").exists()
    assert set(artifact_root().rglob("*")) == before_files


def test_a_float_column_is_not_read_as_epoch_dates(developer):
    frame = table()
    epoch_seconds = pd.to_datetime(frame["date"]).astype("int64") / 1e9  # 1.5778368e9 ... as float64
    buffer = io.BytesIO()
    frame.assign(date=epoch_seconds).to_parquet(buffer)
    buffer.seek(0)
    with pytest.raises(InvalidInput) as error:
        dataset_import_upload(actor=developer, handle=buffer, filename="epoch.parquet", name="epoch")
    assert "column 'date' holds numbers (float64), not dates" in error.value.message
    assert "row 2" in error.value.message
    assert not Dataset.objects.exists()


def test_eight_digit_dates_are_read_as_yyyymmdd(developer):
    frame = table().assign(date=lambda f: pd.to_datetime(f["date"]).dt.strftime("%Y%m%d"))
    dataset = dataset_import_upload(actor=developer, handle=csv_bytes(frame), filename="ymd.csv", name="ymd")
    assert str(dataset.start_date) == "2020-01-01" and dataset.n_rows == 80


def test_nan_policies(developer):
    frame = table().assign(EQ=lambda f: f["EQ"].where(~f.index.isin([6, 7]), np.nan))
    dropped = dataset_import_upload(actor=developer, handle=csv_bytes(frame), filename="x.csv", name="d",
                                    nan_policy="drop")
    assert dropped.n_rows == 78 and dropped.quality["dropped_rows"] == 2
    filled = dataset_import_upload(actor=developer, handle=csv_bytes(frame), filename="x.csv", name="f",
                                   nan_policy="ffill", ffill_limit=2)
    assert filled.n_rows == 80 and filled.quality["filled_cells"] == 2
    with pytest.raises(InvalidInput, match="longer than the forward-fill limit of 1"):
        dataset_import_upload(actor=developer, handle=csv_bytes(frame), filename="x.csv", name="g",
                              nan_policy="ffill", ffill_limit=1)


def test_size_limit(developer, settings):
    settings.CRUCIBLE_MAX_DATASET_BYTES = 1000
    with pytest.raises(InvalidInput, match="limit"):
        dataset_import_upload(actor=developer, handle=csv_bytes(table()), filename="big.csv", name="big")


def test_only_developers_import(validator):
    from governance.errors import Forbidden

    with pytest.raises(Forbidden):
        dataset_import(actor=validator, name="x", raw=table(), source="test")


def test_split_refuses_an_overlapping_holdout():
    index = pd.bdate_range("2010-01-01", "2012-12-31")
    train, holdout = checks.split_windows(index, train_start=None, train_end="2011-12-31",
                                          holdout_start="2012-01-01", holdout_end=None)
    assert index[train].max() < index[holdout].min()
    with pytest.raises(checks.DatasetError, match="strictly after"):
        checks.split_windows(index, train_start=None, train_end="2011-12-31", holdout_start="2011-06-01",
                             holdout_end=None)


def test_import_dataset_command(tmp_path, capsys, developer):
    path = tmp_path / "panel.csv"
    table().to_csv(path, index=False)
    call_command("import_dataset", str(path), "--name", "cli", "--kind", "prices", "--user", developer.username)
    imported = Dataset.objects.get(name="cli")
    assert imported.n_rows == 80 and imported.created_by == developer
    call_command("import_dataset", "--builtin", "vix", "--json", "--user", developer.username)
    assert '"factors": [\n    "VIX"\n  ]' in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    table().head(5).to_csv(bad, index=False)
    with pytest.raises(CommandError, match="at least 60"):
        call_command("import_dataset", str(bad), "--name", "bad", "--user", developer.username)
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_dataset", str(tmp_path / "missing.csv"), "--name", "x", "--user", developer.username)


def test_import_dataset_command_refuses_to_run_without_a_user(tmp_path, developer):
    path = tmp_path / "panel.csv"
    table().to_csv(path, index=False)
    with pytest.raises(CommandError, match="--user is required"):
        call_command("import_dataset", str(path), "--name", "anonymous")
    with pytest.raises(CommandError, match="--user is required"):
        call_command("import_dataset", "--builtin", "vix")
    with pytest.raises(CommandError, match="no user named 'ghost'"):
        call_command("import_dataset", str(path), "--name", "x", "--user", "ghost")
    assert not Dataset.objects.exists()


def test_import_dataset_command_needs_an_importer_role(tmp_path, validator):
    path = tmp_path / "panel.csv"
    table().to_csv(path, index=False)
    with pytest.raises(CommandError, match="developer or admin"):
        call_command("import_dataset", str(path), "--name", "x", "--user", validator.username)
    assert not Dataset.objects.exists()


def test_no_dataset_is_stored_without_the_user_who_imports_it():
    with pytest.raises(InvalidInput, match="needs the user who makes it"):
        dataset_import(actor=None, name="x", raw=table(), source="test")
    assert not Dataset.objects.exists()
