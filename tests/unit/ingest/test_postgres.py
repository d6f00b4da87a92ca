"""The same import transaction on PostgreSQL (COPY path), against a real server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tiplab.errors import DuplicateBatchError
from tiplab.store import run_import

from .factories import GOOD, police_profile, row, write_csv

pytestmark = [pytest.mark.postgres,
              pytest.mark.django_db(databases=["default", "postgres"], transaction=True)]


def test_case_import_supersede_and_rebuild_on_postgres(tmp_path: Path) -> None:
    from tiplab_web.cases.models import CaseRecord
    from tiplab_web.cases.store import DjangoCaseStore

    store = DjangoCaseStore(tmp_path / "data", using="postgres")
    first = write_csv(tmp_path / "a.csv", [GOOD, row(Case_No="P-2", Sex="Q"),
                                           row(Case_No="P-3", Age="40")])
    batch, _ = run_import(store, first, police_profile(), "Police")
    assert batch is not None
    assert (batch.accepted, batch.rejected, batch.warnings) == (2, 1, 1)
    recs = CaseRecord.objects.using("postgres").order_by("source_row")
    assert [r.record_id for r in recs] == ["P-1", "P-3"]
    assert recs[0].exploitation_forms == ["SexualExploitation"]
    assert recs[1].warnings == ["W_AGE_BIRTHDATE_MISMATCH"]
    assert bytes(recs[0].identity_sealed)[:12]  # sealed bytes round-trip through COPY
    from tiplab.config import key_dir
    from tiplab.keys import load_keyring
    from tiplab.records.protect import unseal

    ident = unseal(bytes(recs[0].identity_sealed), load_keyring(key_dir(store.data_dir)),
                   "Police", "P-1")
    assert ident["family_name"] == "Popescu"
    assert CaseRecord.objects.using("default").count() == 0  # nothing leaked to SQLite
    with pytest.raises(DuplicateBatchError):
        run_import(store, first, police_profile(), "Police")
    fixed = write_csv(tmp_path / "b.csv", [GOOD, row(Case_No="P-2", Sex="M"),
                                           row(Case_No="P-3", Age="33")])
    new, _ = run_import(store, fixed, police_profile(), "Police", supersede=batch.batch_id)
    assert new is not None
    assert new.accepted == 3
    assert store.get_batch(batch.batch_id).status == "superseded"
    table = store.batch_records(new.batch_id)
    assert table.column("record_id").to_pylist() == ["P-1", "P-2", "P-3"]


def test_glotip_on_postgres(tmp_path: Path, shared_data: Path) -> None:
    from tiplab_web.cases.models import AggregateRecord
    from tiplab_web.cases.store import DjangoCaseStore

    store = DjangoCaseStore(tmp_path / "data", using="postgres")
    batch, _ = run_import(store, shared_data / "unodc_glotip" / "data_glotip.csv", "glotip")
    assert batch is not None
    assert batch.accepted + batch.rejected == 58_769
    qs = AggregateRecord.objects.using("postgres")
    assert qs.count() == batch.accepted
    assert qs.filter(censored=True, value__isnull=True, value_low=0, value_high=4).count() \
        == qs.filter(censored=True).count() > 0
