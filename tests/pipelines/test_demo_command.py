"""``manage.py demo --quick --json`` end to end on the test database, tasks run in-process (eager)."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from pipelines import services as pipeline
from tests.pipelines.demo_checks import check_demo_outcome

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_demo_quick_goes_from_market_data_to_a_verified_packet(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv(pipeline.PASSWORD_ENV, "demo password for the test")
    call_command("demo", "--quick", "--json", "--out", str(tmp_path))
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["broker"] == "eager" and summary["tasks"] == "in-process" and summary["quick"] is True
    assert "[12/12] Verify the packet and the audit chain" in captured.err  # progress went to stderr
    assert summary["password"] == {"source": "environment", "value": None, "file": None}  # never echoed when given
    assert summary["dataset"]["name"] == "sp500_nasdaq_wti"
    assert summary["versions"]["champion"]["engine"] == "diffusion"
    assert summary["versions"]["challenger"]["engine"] == "garch_evt_copula"
    assert summary["versions"]["crisis"]["train_end"] == "2007-12-31"
    assert summary["validation"]["crisis"]["holdout"] == ["2008-09-01", "2009-03-31"]
    assert {p.name for p in tmp_path.iterdir()} == {
        f"{summary['model']['model_id']}-v{summary['report']['version']}-documentation.pdf",
        f"{summary['model']['model_id']}-v{summary['report']['version']}-submission-packet.zip"}
    check_demo_outcome(summary)


def test_demo_refuses_an_unwritable_out_directory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(CommandError, match="--out"):
        call_command("demo", "--quick", "--out", str(blocker / "sub"))


def test_demo_refuses_a_missing_fed_directory_before_writing_anything(tmp_path):
    from django.contrib.auth import get_user_model

    with pytest.raises(CommandError, match="no such directory"):
        call_command("demo", "--quick", "--out", str(tmp_path), "--fed-dir", str(tmp_path / "absent"))
    assert not get_user_model().objects.filter(username__startswith="demo-").exists()


def test_demo_says_to_migrate_when_the_roles_are_missing(tmp_path):
    from django.contrib.auth.models import Group

    Group.objects.filter(name="approver").delete()
    with pytest.raises(CommandError, match=r"roles missing \(approver\): run 'python manage.py migrate'"):
        call_command("demo", "--quick", "--out", str(tmp_path))
