import numpy as np

from tiplab.linkage.cluster import cluster_pairs


def _a(*x: int) -> np.ndarray:
    return np.array(x, dtype=np.int64)


def test_components_at_threshold() -> None:
    labels, conf = cluster_pairs(5, _a(0, 1, 3), _a(1, 2, 4), np.array([0.99, 0.6, 0.95]), 0.9)
    assert labels[0] == labels[1] != labels[2]
    assert labels[3] == labels[4] != labels[0]
    assert conf == []


def test_forced_match_joins_and_forced_nonmatch_cuts() -> None:
    labels, _ = cluster_pairs(
        4,
        _a(0),
        _a(1),
        np.array([0.99]),
        0.9,
        forced_match=(_a(2), _a(3)),
        forced_nonmatch=(_a(0), _a(1)),
    )
    assert labels[2] == labels[3]
    assert labels[0] != labels[1]


def test_nonmatch_linked_through_a_third_record_is_split_by_reclustering() -> None:
    # 0-1 strong, 1-2 weaker, both above 0.9; review says 0 and 2 are different people
    labels, conf = cluster_pairs(
        3, _a(0, 1), _a(1, 2), np.array([0.999, 0.93]), 0.9, forced_nonmatch=(_a(0), _a(2))
    )
    assert labels[0] == labels[1] != labels[2]
    assert conf == []


def test_conflict_reported_when_forced_matches_chain() -> None:
    labels, conf = cluster_pairs(
        3,
        _a(),
        _a(),
        np.array([]),
        0.9,
        forced_match=(_a(0, 1), _a(1, 2)),
        forced_nonmatch=(_a(0), _a(2)),
    )
    assert len(conf) == 1
    assert (conf[0].uid_l, conf[0].uid_r) == (0, 2)
    assert labels[0] == labels[2]
