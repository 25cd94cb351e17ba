from __future__ import annotations

import pytest

from reporting.ab_stats import VariantCounts, compare_variants, two_proportion_z_test


def test_no_winner_at_10_vs_12_of_200():
    result = compare_variants([VariantCounts("A", 200, 10), VariantCounts("B", 200, 12)])
    assert result.winner is None and not result.significant
    assert result.best == "B"
    assert "10/200" in result.explanation and "12/200" in result.explanation


def test_winner_at_10_vs_40_of_200():
    result = compare_variants([VariantCounts("A", 200, 10), VariantCounts("B", 200, 40)])
    assert result.winner == "B" and result.significant
    assert result.p_value < 0.001


def test_z_test_matches_the_textbook_value():
    z, p = two_proportion_z_test(VariantCounts("a", 200, 40), VariantCounts("b", 200, 10))
    assert z == pytest.approx(4.5361, abs=1e-3)
    assert p == pytest.approx(5.7e-6, rel=0.05)


def test_bonferroni_with_three_variants_and_small_samples():
    borderline = [VariantCounts("A", 400, 20), VariantCounts("B", 400, 34), VariantCounts("C", 400, 20)]
    two_way = compare_variants(borderline[:2])
    three_way = compare_variants(borderline)
    assert two_way.p_value == three_way.p_value
    assert three_way.alpha == pytest.approx(0.025)
    assert compare_variants([VariantCounts("A", 10, 1), VariantCounts("B", 10, 9)]).winner is None


def test_degenerate_inputs():
    assert compare_variants([]).winner is None
    assert compare_variants([VariantCounts("A", 100, 5)]).winner is None
    assert two_proportion_z_test(VariantCounts("a", 0, 0), VariantCounts("b", 10, 1)) == (0.0, 1.0)
