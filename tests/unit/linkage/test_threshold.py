import json

import numpy as np
import pytest

from tiplab.linkage.threshold import choose_threshold, tradeoff


def test_tradeoff_hand_computed() -> None:
    p = [0.99, 0.9, 0.6, 0.2]  # total 2.69
    pts = {x.threshold: x for x in tradeoff(p, [0.5, 0.95])}
    assert pts[0.5].pairs == 3
    assert pts[0.5].expected_matches == pytest.approx(2.49)
    assert pts[0.5].precision == pytest.approx(2.49 / 3)
    assert pts[0.5].recall == pytest.approx(2.49 / 2.69)
    assert pts[0.95].pairs == 1
    assert pts[0.95].precision == pytest.approx(0.99)
    assert pts[0.95].recall == pytest.approx(0.99 / 2.69)


def test_threshold_at_a_probability_is_inclusive() -> None:
    assert tradeoff([0.9, 0.9, 0.5], [0.9])[0].pairs == 2


def test_choice_maximises_estimated_f1_and_explains_itself() -> None:
    p = [0.999] * 90 + [0.7] * 10 + [0.05] * 100
    c = choose_threshold(p, [0.5, 0.8, 0.99])
    # at 0.5: P = (89.91+7)/100 = .9691, R = 96.91/101.91 = .9509; at .8/.99: R = .8822
    assert c.threshold == 0.5
    assert "maximises the estimated pairwise F1" in c.reason
    d = c.to_dict()
    json.dumps(d)
    assert d["tradeoff"][0]["threshold"] == 0.5


def test_user_threshold_is_kept_and_reported() -> None:
    c = choose_threshold([0.99, 0.6], [0.5, 0.9], user_threshold=0.75)
    assert c.threshold == 0.75
    assert c.chosen_by == "user"
    assert c.point() is not None
    assert c.point().pairs == 1


def test_chart_renders_png(tmp_path) -> None:  # type: ignore[no-untyped-def]
    c = choose_threshold([0.99, 0.9, 0.6, 0.2], [0.5, 0.9])
    c.chart(tmp_path / "t.png")
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"


def test_cluster_tradeoff_counts_transitive_pairs() -> None:
    from tiplab.linkage.threshold import cluster_tradeoff

    # records 0-1-2 chained by two strong edges, with a scored 0-2 pair at 0.1;
    # records 3-4 one edge at 0.6; record 5 alone
    p = [0.99, 0.95, 0.1, 0.6]
    left, right = [0, 1, 0, 3], [1, 2, 2, 4]
    pts = {x.threshold: x for x in cluster_tradeoff(p, (6, left, right), [0.5, 0.9])}
    # at 0.5: clusters {0,1,2} (3 pairs) and {3,4} (1 pair); the 0-2 pair counts with its
    # own 0.1, not as a match
    assert pts[0.5].pairs == 4
    assert pts[0.5].expected_matches == pytest.approx(0.99 + 0.95 + 0.1 + 0.6)
    assert pts[0.5].precision == pytest.approx(2.64 / 4)
    assert pts[0.5].recall == pytest.approx(1.0)
    assert pts[0.9].pairs == 3
    assert pts[0.9].expected_matches == pytest.approx(2.04)
    # an unscored pair inside a cluster counts with the cluster's weakest kept edge
    pts2 = cluster_tradeoff([0.99, 0.95], (3, [0, 1], [1, 2]), [0.5])
    assert pts2[0].pairs == 3
    assert pts2[0].expected_matches == pytest.approx(0.99 + 0.95 + 0.95)


def test_choice_on_clusters_is_more_cautious_than_on_edges() -> None:
    # a chain of 20 records held together by 0.6 edges: as edges they look fine (0.6 each),
    # as one cluster they make 190 pairs of which few are expected to be true
    p = [0.99] * 50 + [0.6] * 19
    left = list(range(0, 100, 2)) + list(range(100, 119))
    right = list(range(1, 100, 2)) + list(range(101, 120))
    edges = choose_threshold(p, [0.5, 0.9])
    clusters = choose_threshold(p, [0.5, 0.9], edges=(120, left, right))
    assert edges.threshold == 0.5
    assert clusters.threshold == 0.9


def test_cluster_recall_stays_a_fraction_and_falls_with_the_threshold() -> None:
    # Chains and stars of random strength, many pairs inside clusters never scored: the
    # imputed unscored pairs must not push recall past 1 (it used to be capped there,
    # which flattened the low thresholds and chose too high a one).
    from tiplab.linkage.threshold import cluster_tradeoff

    rng = np.random.default_rng(3)
    n = 400
    left = rng.integers(0, n, 1500)
    right = rng.integers(0, n, 1500)
    p = rng.uniform(0.01, 1.0, 1500)
    grid = [0.1, 0.3, 0.5, 0.7, 0.9]
    pts = cluster_tradeoff(p, (n, left, right), grid)
    recalls = [pt.recall for pt in pts]
    assert all(0.0 <= r <= 1.0 for r in recalls)
    assert recalls == sorted(recalls, reverse=True)
    # recall at 0.5 by hand: the share of the scored probability mass inside the clusters
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b, q in zip(left, right, p, strict=True):
        if q >= 0.5:
            parent[find(int(a))] = find(int(b))
    inside = sum(q for a, b, q in zip(left, right, p, strict=True) if find(int(a)) == find(int(b)))
    assert pts[2].recall == pytest.approx(inside / p.sum())
    assert pts[2].expected_matches >= inside  # plus the unscored pairs the clusters imply


def test_hierarchy_tradeoff_is_the_quality_of_the_clusters_it_makes() -> None:
    # records 0-1-2 complete: 0-1 0.99, 1-2 0.9, 0-2 0.3; records 3-4 one pair at 0.6
    from tiplab.linkage.cluster import Hierarchy
    from tiplab.linkage.threshold import hierarchy_tradeoff

    left, right, p = [0, 1, 0, 3], [1, 2, 2, 4], [0.99, 0.9, 0.3, 0.6]
    tree = Hierarchy(5, left, right, p, 0.5)
    pts = {x.threshold: x for x in hierarchy_tradeoff(tree, [0.5, 0.7, 0.95])}
    # 0.5: {0,1,2} joins (mean of 0.9 and 0.3 = 0.6 >= 0.5) and {3,4}: 4 pairs
    assert pts[0.5].pairs == 4
    # 0-2 (0.3) is joined by the chain 0-1-2 (0.99 x 0.9)
    assert pts[0.5].expected_matches == pytest.approx(0.99 + 0.9 + 0.99 * 0.9 + 0.6)
    assert pts[0.5].recall == pytest.approx(1.0)
    # 0.7: record 2 leaves (mean 0.6 < 0.7), {3,4} splits: only 0-1
    assert pts[0.7].pairs == 1
    assert pts[0.7].precision == pytest.approx(0.99)
    assert pts[0.7].recall == pytest.approx(0.99 / 2.79)
    assert pts[0.95].pairs == 1
    # the chooser uses the clusters: the threshold it picks is one of the grid's
    choice = choose_threshold(p, [0.5, 0.7, 0.95], tree=tree)
    assert choice.threshold in (0.5, 0.7, 0.95)
    assert choice.point() is not None
    assert choice.point().pairs in (1, 4)


def test_a_pair_inside_a_cluster_counts_with_its_best_chain() -> None:
    from tiplab.linkage.threshold import chained_probabilities

    # cluster 0: records 0,1,2 (0-1 0.4 directly, both 0.99 with 2); cluster 1: records 3,4;
    # a pair across clusters (1-3) keeps its own probability
    labels = np.array([0, 0, 0, 1, 1])
    left, right = np.array([0, 0, 1, 3, 1]), np.array([1, 2, 2, 4, 3])
    p = np.array([0.4, 0.99, 0.99, 0.6, 0.7])
    out = chained_probabilities(labels, left, right, p)
    assert out[0] == pytest.approx(0.99 * 0.99)
    assert out[1:].tolist() == pytest.approx(p[1:].tolist())


def test_chains_agree_with_every_path_enumerated() -> None:
    import itertools

    from tiplab.linkage.threshold import chained_probabilities

    rng = np.random.default_rng(5)
    sizes = [3, 4, 5, 5, 6]
    labels = np.repeat(np.arange(len(sizes)), sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    left, right = [], []
    for s0, n in zip(starts, sizes, strict=True):
        for a, b in itertools.combinations(range(n), 2):
            if rng.random() < 0.8:  # some pairs unscored
                left.append(s0 + a)
                right.append(s0 + b)
    lt, rt = np.array(left), np.array(right)
    p = rng.random(len(lt))
    out = chained_probabilities(labels, lt, rt, p)
    w = {(int(a), int(b)): float(x) for a, b, x in zip(lt, rt, p, strict=True)}
    w |= {(b, a): x for (a, b), x in list(w.items())}
    for idx, (a, b) in enumerate(zip(lt.tolist(), rt.tolist(), strict=True)):
        members = [r for r in range(len(labels)) if labels[r] == labels[a] and r not in (a, b)]
        best = p[idx]
        for k in range(1, len(members) + 1):
            for mid in itertools.permutations(members, k):
                path = [a, *mid, b]
                prod = 1.0
                for u, v in itertools.pairwise(path):
                    prod *= w.get((u, v), 0.0)
                best = max(best, prod)
        assert out[idx] == pytest.approx(best)
        assert p[idx] <= out[idx] <= 1.0
