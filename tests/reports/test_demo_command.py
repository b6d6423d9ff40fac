import json

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_demo_proves_the_wiring(capsys):
    call_command("demo", "--json")
    summary = json.loads(capsys.readouterr().out)
    assert summary["database"] == "ok"
    assert summary["database_engine"] in {"postgresql", "sqlite"}
    assert summary["broker"] == "eager"
    assert summary["roles"] == ["developer", "validator", "approver", "auditor", "admin"]
