"""plot_priors: population-level and hyper-priors by default, group levels on request, no
panel left out silently, and a figure sized for its panels."""

from __future__ import annotations

import pytest

import bayesformula as bf
from bayesformula.plots import plot_priors
from tests.helpers import raises_each
from tests.plots.helpers import panel_titles

SLEEP_DEFAULT = [
    "Intercept",
    "Days",
    "1|Subject_sigma",
    "Days|Subject_sigma",
    "1+Days|Subject_corr\nIntercept,Days",
    "sigma",
]


@pytest.fixture(scope="module")
def radon_model():
    return bf.Model("log_radon ~ floor + (1|county)", bf.load_data("radon"))


def test_sleepstudy_default_shows_hyperpriors_and_correlation(sleep_fit, tmp_path):
    model, _ = sleep_fit
    fig = plot_priors(model, draws=200, random_seed=1)
    assert panel_titles(fig) == SLEEP_DEFAULT
    width, height = fig.get_size_inches()
    assert width <= 11 and height <= 5  # two rows of four panels, not 29 x 55 inches
    fig.savefig(tmp_path / "priors.png", dpi=60)


def test_group_levels_over_the_cap_raise_naming_what_and_how(sleep_fit):
    model, _ = sleep_fit
    message = raises_each(
        lambda: plot_priors(model, draws=100, group_levels=True, random_seed=1),
        (bf.errors.PredictionError, ValueError),
        r"would draw 42 panels .*'1\|Subject' 18, 'Days\|Subject' 18.*max_panels=40",
    )
    assert "coords={'Subject__factor_dim': ['308', '309']}" in str(message)
    assert "max_panels=None" in str(message)


def test_group_levels_on_request_for_chosen_levels(sleep_fit):
    model, _ = sleep_fit
    fig = plot_priors(
        model,
        draws=100,
        group_levels=True,
        coords={"Subject__factor_dim": ["308", "309"]},
        random_seed=1,
    )
    levels = ["1|Subject\n308", "1|Subject\n309", "Days|Subject\n308", "Days|Subject\n309"]
    assert panel_titles(fig) == SLEEP_DEFAULT + levels


def test_radon_default_has_four_panels(radon_model):
    fig = plot_priors(radon_model, draws=200, random_seed=1)
    assert panel_titles(fig) == ["Intercept", "floor", "1|county_sigma", "sigma"]
    with pytest.raises(bf.errors.PredictionError, match=r"'1\|county' 85.*max_panels=40"):
        plot_priors(radon_model, draws=100, var_names="1|county", random_seed=1)


def test_var_names_max_panels_and_exclusions(group_fit):
    model, _ = group_fit
    fig = plot_priors(model, draws=100, var_names="1|g", random_seed=1)
    assert panel_titles(fig) == [f"1|g\ng{i}" for i in range(8)]
    fig = plot_priors(model, draws=100, var_names="~sigma", random_seed=1)
    assert panel_titles(fig) == ["Intercept", "x", "a\nlo", "a\nmid", "1|g_sigma"]
    with pytest.raises(bf.errors.PredictionError, match="would draw 6 panels.*max_panels=5"):
        plot_priors(model, draws=100, max_panels=5, random_seed=1)
    with pytest.raises(bf.errors.ArgumentTypeError, match="group_levels"):
        plot_priors(model, draws=100, group_levels="yes")
