"""The scoring settings as one value and in the URL (engine.scoring_settings): what a
link typed by hand gives, and which parameters a view writes. Defaults: weights
40, 30, 20, 10 and thresholds 80, 60 (DESIGN §4.2)."""
import pytest

from engine.scoring_settings import (DEFAULT_SETTINGS, settings_from_query, settings_query,
                                     weight_map, whole_numbers)


def test_the_defaults_are_the_designs():
    assert DEFAULT_SETTINGS == ((40, 30, 20, 10), (80, 60), False)


def test_no_setting_in_the_url_gives_none():
    assert settings_from_query({}) is None
    assert settings_from_query({"page": "risk"}) is None


def test_a_url_with_every_setting():
    params = {"weights": "50,25,15,10", "thresholds": "70,50", "clv": "1"}
    assert settings_from_query(params) == ((50, 25, 15, 10), (70, 50), True)


def test_a_missing_parameter_takes_its_default():
    assert settings_from_query({"thresholds": "75,40"}) == ((40, 30, 20, 10), (75, 40), False)
    assert settings_from_query({"clv": "1"}) == ((40, 30, 20, 10), (80, 60), True)
    assert settings_from_query({"clv": "yes"}) == ((40, 30, 20, 10), (80, 60), False)


def test_a_link_typed_wrong_gives_none():
    for params in ({"weights": "50,25,15"},            # three weights, not four
                   {"weights": "50,25,15,5"},          # sum 95, not 100
                   {"weights": "40.5,29.5,20,10"},     # not whole numbers
                   {"weights": "40,30,20,x"},
                   {"thresholds": "50,70"},            # potential above high
                   {"thresholds": "80"},
                   {"thresholds": "101,60"}):
        assert settings_from_query(params) is None, params


def test_whole_numbers():
    assert whole_numbers(None, (1, 2)) == [1, 2]
    assert whole_numbers("3,4.0", (1, 2)) == [3.0, 4.0]
    for text in ("3", "3,4,5", "3,4.5"):
        with pytest.raises(ValueError):
            whole_numbers(text, (1, 2))


def test_only_what_differs_from_the_defaults_goes_into_the_url():
    assert settings_query(DEFAULT_SETTINGS) == {}
    assert settings_query(((50, 25, 15, 10), (80, 60), False)) == {"weights": "50,25,15,10"}
    assert settings_query(((40, 30, 20, 10), (70.0, 50.0), True)) == {"thresholds": "70,50",
                                                                       "clv": "1"}


def test_a_url_written_reads_back_the_same():
    settings = ((55, 20, 15, 10), (75, 45), True)
    assert settings_from_query(settings_query(settings)) == settings


def test_weight_map():
    assert weight_map((50, 25, 15, 10)) == {"consumption": 50, "interaction": 25,
                                            "stability": 15, "referral": 10}
