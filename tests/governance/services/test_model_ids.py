"""Inventory ids: allocated once each under concurrency, and numerically past CRU-9999."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from governance.models import InventoryModel
from governance.services.inventory import model_create

FIELDS = dict(purpose="Stress scenarios", business_line="Markets", family="copula",
              exposure_usd=Decimal("5000000"), materiality_purpose="informational")


def test_the_id_after_cru_9999_is_cru_10000(developer):
    InventoryModel.objects.filter(pk=model_create(actor=developer, name="first", **FIELDS).pk).update(
        model_id="CRU-9999")
    assert model_create(actor=developer, name="second", **FIELDS).model_id == "CRU-10000"
    assert model_create(actor=developer, name="third", **FIELDS).model_id == "CRU-10001"


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_each_get_their_own_id(developer):
    """Before the allocation took the chain-head lock, two registrations read the same maximum: one 500."""
    errors, barrier = [], threading.Barrier(6)

    def register(i: int) -> None:
        try:
            barrier.wait()
            model_create(actor=developer, name=f"concurrent {i}", **FIELDS)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    ids = list(InventoryModel.objects.values_list("model_id", flat=True))
    assert len(ids) == len(set(ids)) == 6
