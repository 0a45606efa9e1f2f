"""Fusing the vector and keyword candidate lists (no model needed)."""

from __future__ import annotations

import pytest

from kenning.search import z_score_fusion


def test_a_chunk_in_both_lists_beats_one_in_either():
    vectors = {1: 0.80, 2: 0.70, 3: 0.60}
    keywords = {2: 9.0, 4: 8.0, 5: 1.0}
    fused = z_score_fusion([vectors, keywords])
    assert max(fused, key=fused.get) == 2
    assert set(fused) == {1, 2, 3, 4, 5}


def test_each_list_is_measured_in_its_own_standard_deviations():
    scale = z_score_fusion([{1: 1.0, 2: 2.0, 3: 3.0}])
    scaled = z_score_fusion([{1: 100.0, 2: 200.0, 3: 300.0}])
    assert scale == pytest.approx(scaled)


def test_a_missing_chunk_counts_below_the_worst_and_further_below_in_a_complete_list():
    vectors = {1: 0.9, 2: 0.5}
    keywords = {1: 5.0, 3: 4.0}
    partial = z_score_fusion([vectors, keywords], [False, False])
    complete = z_score_fusion([vectors, keywords], [False, True])
    # Chunk 2 has no keyword match: penalised more when the keyword list holds every match.
    assert complete[2] < partial[2]
    assert complete[1] == pytest.approx(partial[1])


def test_empty_and_constant_lists():
    assert z_score_fusion([]) == {}
    assert z_score_fusion([{}, {}]) == {}
    flat = z_score_fusion([{1: 0.5, 2: 0.5}])
    assert flat[1] == flat[2]
