import itertools

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
    # the reviewer's non-match wins; the match it contradicts is reported
    assert len(conf) == 1
    assert (conf[0].uid_l, conf[0].uid_r) in {(0, 1), (1, 2)}
    assert labels[0] != labels[2]


def _complete(
    blocks: list[list[int]], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    left, right = [], []
    for b in blocks:
        for i, a in enumerate(b):
            for c in b[i + 1 :]:
                left.append(a)
                right.append(c)
    return _a(*left), _a(*right), rng.uniform(0.0, 1.0, len(left))


def test_a_bridge_between_two_people_is_cut() -> None:
    # two people of three records each (strong pairs inside); one record of each resembles
    # one of the other (0.95), every other pair between them is weak: connected components
    # at 0.5 make one person of six, average linkage keeps two
    left, right, p = [], [], []
    for grp in ((0, 1, 2), (3, 4, 5)):
        for i, a in enumerate(grp):
            for b in grp[i + 1 :]:
                left.append(a)
                right.append(b)
                p.append(0.99)
    for a in (0, 1, 2):
        for b in (3, 4, 5):
            left.append(a)
            right.append(b)
            p.append(0.95 if (a, b) == (2, 3) else 0.02)
    labels, conf = cluster_pairs(6, _a(*left), _a(*right), np.array(p), 0.5)
    assert len(set(labels[:3].tolist())) == 1
    assert len(set(labels[3:].tolist())) == 1
    assert labels[0] != labels[3]
    assert conf == []
    # the components of the same pairs would have merged them (what the bridge did before)
    from tiplab.linkage.cluster import components

    keep = np.array(p) >= 0.5
    assert len(set(components(6, _a(*left)[keep], _a(*right)[keep]).tolist())) == 1


def test_a_constraint_splits_a_cluster_and_strong_evidence_overrides_it() -> None:
    # 0 and 2 are two records of one agency with different documents (cannot link); 1 from
    # another agency resembles both
    left, right = _a(0, 1, 0), _a(1, 2, 2)
    p = np.array([0.97, 0.96, 0.9])
    labels, _ = cluster_pairs(3, left, right, p, 0.5)
    assert len(set(labels.tolist())) == 1  # without the constraint: one person
    cannot = np.array([False, False, True])
    labels, conf = cluster_pairs(3, left, right, p, 0.5, cannot=cannot)
    assert labels[0] != labels[2]
    assert labels[1] in (labels[0], labels[2])
    assert conf == []
    # a pair whose own probability reaches the override stays linkable
    from tiplab.linkage.cluster import CONSTRAINT_OVERRIDE

    p2 = np.array([0.97, 0.96, CONSTRAINT_OVERRIDE])
    labels, _ = cluster_pairs(3, left, right, p2, 0.5, cannot=cannot)
    assert len(set(labels.tolist())) == 1


def test_a_reviewers_match_beats_a_constraint() -> None:
    labels, conf = cluster_pairs(
        2, _a(0), _a(1), np.array([0.2]), 0.5, cannot=np.array([True]), forced_match=(_a(0), _a(1))
    )
    assert labels[0] == labels[1]
    assert conf == []


def test_one_hierarchy_gives_the_clusters_of_every_threshold() -> None:
    # average linkage is reducible: on complete components, cutting the dendrogram built at
    # a low threshold gives the same clusters as clustering at each threshold afresh
    from tiplab.linkage.cluster import Hierarchy

    rng = np.random.default_rng(11)
    for _ in range(30):
        sizes = rng.integers(1, 8, 12)
        ids = np.cumsum(np.r_[0, sizes])
        blocks = [list(range(int(a), int(b))) for a, b in itertools.pairwise(ids)]
        left, right, p = _complete(blocks, rng)
        cannot = rng.uniform(size=len(p)) < 0.05
        n = int(ids[-1])
        tree = Hierarchy(n, left, right, p, 0.2, cannot=cannot)
        for t in (0.2, 0.35, 0.5, 0.7, 0.9):
            direct, _ = cluster_pairs(n, left, right, p, t, cannot=cannot)
            cut = tree.cut(t)
            # same partition (labels may differ)
            assert (
                len(set(zip(cut.tolist(), direct.tolist(), strict=True)))
                == len(set(cut.tolist()))
                == len(set(direct.tolist()))
            )


def test_no_cluster_mixes_records_whose_mean_link_is_below_the_threshold() -> None:
    # every merge average linkage makes has a mean probability at or above t, so inside
    # any predicted cluster of a complete component, the mean over its pairs is >= t
    rng = np.random.default_rng(5)
    blocks = [list(range(i * 6, i * 6 + 6)) for i in range(20)]
    left, right, p = _complete(blocks, rng)
    labels, _ = cluster_pairs(120, left, right, p, 0.6)
    same = labels[left] == labels[right]
    for c in np.unique(labels[left[same]]):
        inside = same & (labels[left] == c)
        assert p[inside].mean() >= 0.6 - 1e-9
