"""The insights' statistics: Spearman's ρ (checked against scipy) and the currency money is
compared in."""
import pytest
from scipy.stats import spearmanr

from chalicelib.read import insights
from chalicelib.read.spearman import ranks, spearman


def test_ranks_of_tied_values_are_the_mean_of_the_ranks_they_span():
    assert ranks([10, 30, 20, 30, 10, 30]) == [1.5, 5.0, 3.0, 5.0, 1.5, 5.0]


def test_spearman_without_ties_is_one_minus_six_sum_d_squared_over_n_n2_minus_1():
    # ranks x: 1 2 3 4 5, ranks y: 2 1 4 3 5 → Σd² = 4 → ρ = 1 − 24/120 = 0.8
    assert spearman([1, 2, 3, 4, 5], [20, 10, 40, 30, 50]) == pytest.approx(0.8, abs=1e-12)


def test_spearman_is_scipy_spearmanr_on_samples_with_ties_and_outliers():
    samples = [
        ([0, 0, 1, 2, 5000, 3], [0, 1, 1, 2, 40, 2]),
        ([3, 1, 4, 1, 5, 9, 2, 6], [2, 7, 1, 8, 2, 8, 1, 8]),
        ([1, 2, 3], [3, 2, 1]),
        ([7, 7, 8, 9], [1, 2, 2, 2]),
    ]
    for x, y in samples:
        assert spearman(x, y) == pytest.approx(float(spearmanr(x, y).statistic), abs=1e-12), (x, y)


def test_spearman_is_none_below_three_pairs_or_when_a_variable_is_constant():
    assert spearman([1, 2], [2, 1]) is None
    assert spearman([1, 2, 3], [5, 5, 5]) is None
    assert spearman([4, 4, 4], [1, 2, 3]) is None


def test_money_is_compared_in_the_currency_most_campaigns_raised_in():
    def row(shares, pledges, amount):
        return {"shares": shares, "clicks": 0, "landed": 0, "pledges": pledges, "amount": amount}

    rows = [row(1, 1, {"EUR": 100}), row(2, 2, {"EUR": 300}), row(3, 3, {"EUR": 200, "USD": 50}),
            row(4, 1, {"USD": 900}), row(5, 0, {}), row(0, 0, {})]
    result = insights.correlation(rows)
    assert (result["currency"], result["campaigns"], result["amount_campaigns"]) == ("EUR", 5, 4)
    assert result["shares_amount"] == round(float(spearmanr([1, 2, 3, 5], [100, 300, 200, 0]).statistic), 4)
