import numpy as np
import pyarrow as pa

from tiplab.linkage.persons import assign_person_ids


def _records(keys: list[tuple[str, str]]) -> pa.Table:
    return pa.table(
        {
            "unique_id": pa.array(range(len(keys)), pa.int64()),
            "source": [s for s, _ in keys],
            "record_id": [r for _, r in keys],
        }
    )


def test_a_record_id_used_twice_never_gives_two_clusters_one_person_id() -> None:
    # The hotline exported call HL3 for two different callers (seed 60192 of the simulated
    # country): it is the smallest key of both clusters; the ids must still differ.
    records = _records(
        [("hotline", "HL3"), ("police", "P-1"), ("hotline", "HL3"), ("police", "P-2")]
    )
    pid, merges = assign_person_ids(records, np.array([0, 0, 1, 1]))
    ids = pid.to_pylist()
    assert ids[0] == ids[1]
    assert ids[2] == ids[3]
    assert ids[0] != ids[2]
    assert merges == []


def test_person_ids_are_deterministic_and_follow_the_smallest_key() -> None:
    records = _records([("police", "P-2"), ("ngo", "N-1"), ("police", "P-3")])
    a = assign_person_ids(records, np.array([0, 0, 1]))[0].to_pylist()
    # the same clustering under other labels gives the same ids
    b = assign_person_ids(records, np.array([5, 5, 2]))[0].to_pylist()
    assert a == b
    # the first cluster's id does not depend on which of its records comes first
    swapped = _records([("ngo", "N-1"), ("police", "P-2"), ("police", "P-3")])
    c = assign_person_ids(swapped, np.array([0, 0, 1]))[0].to_pylist()
    assert c[0] == a[0]
    assert c[2] == a[2]
