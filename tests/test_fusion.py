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


def test_a_missing_chunk_scores_below_the_worst_of_a_cut_list():
    vectors = {1: 0.9, 2: 0.5}
    keywords = {1: 5.0, 3: 4.0}
    fused = z_score_fusion([vectors, keywords], [False, False])
    assert fused[1] > fused[3] and fused[1] > fused[2]


def test_a_word_that_few_passages_hold_puts_them_first():
    vectors = {cid: 0.50 + 0.001 * cid for cid in range(100)}  # the model cannot tell them apart
    keywords = {57: 3.2}  # only chunk 57 holds the code "INV-4471", and the list holds every match
    fused = z_score_fusion([vectors, keywords], [False, True])
    assert max(fused, key=fused.get) == 57


def test_a_word_that_most_passages_hold_barely_moves_them():
    vectors = {cid: 0.30 + 0.005 * cid for cid in range(100)}
    keywords = {cid: 2.0 + 0.001 * (cid % 7) for cid in range(0, 100)}  # every passage has it, about equally
    fused = z_score_fusion([vectors, keywords], [False, True])
    assert sorted(fused, key=fused.get, reverse=True)[:5] == [99, 98, 97, 96, 95]


def test_weights_and_unscored_chunks():
    vectors = {1: 0.9, 2: 0.1}
    keywords = {2: 5.0, 3: 1.0}
    plain = z_score_fusion([vectors, keywords], [False, True])
    heavy = z_score_fusion([vectors, keywords], [False, True], weights=[1.0, 3.0])
    assert heavy[2] - heavy[1] > plain[2] - plain[1]
    waiting = z_score_fusion([vectors, keywords], [False, True], unscored=[{3}, set()])
    assert waiting[3] > plain[3]  # no vector yet: ranked by its words, not as a poor vector match


def test_empty_and_constant_lists():
    assert z_score_fusion([]) == {}
    assert z_score_fusion([{}, {}]) == {}
    flat = z_score_fusion([{1: 0.5, 2: 0.5}])
    assert flat[1] == flat[2]
