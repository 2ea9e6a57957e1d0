"""Settings: grouped by concern, each set by one flat key from the environment or a caller."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from pathlib import Path

import pytest

from qa_service.config import Settings
from qa_service.errors import InvalidInput
from qa_service.search.signals import SIGNALS, hand_weights


def test_each_group_reads_its_variables_by_their_flat_names():
    settings = Settings.from_env({"QA_MODEL": "hash:32", "QA_MODEL_CACHE": "/tmp/m",
                                  "QA_TOP_K": "7", "QA_MAX_TOKENS": "128",
                                  "QA_RATE_LIMIT": "5/second", "QA_INDEX_DIR": "elsewhere",
                                  "QA_HISTORY_WEIGHTS": "0.6, 0.3", "QA_EMBED_TITLE": "yes"})
    assert settings.model.name == "hash:32" and settings.model.cache == Path("/tmp/m")
    assert settings.ranking.top_k == 7 and settings.ranking.history_weights == (0.6, 0.3)
    assert settings.build.max_tokens == 128 and settings.build.embed_title is True
    assert settings.serving.rate_limit == "5/second"
    assert settings.index_dir == Path("elsewhere")


def test_overrides_win_over_the_environment_and_leave_the_original_alone():
    base = Settings.from_env({"QA_TOP_K": "7"}, top_k=3)
    assert base.ranking.top_k == 3
    changed = base.with_(weights="names=0", model="hash:16", top_k=None)
    assert changed.ranking.weights == "names=0" and changed.model.name == "hash:16"
    assert changed.ranking.top_k == 3  # None changes nothing
    assert base.ranking.weights == "" and base.model.name != "hash:16"


@pytest.mark.parametrize("changes, message", [
    ({"top_k": "many"}, "top_k must be a number"),
    ({"history_weights": "half,quarter"}, "numbers separated by commas"),
    ({"no_such_setting": 1}, "unknown setting 'no_such_setting'"),
])
def test_a_bad_setting_is_named_in_the_error(changes, message):
    with pytest.raises(InvalidInput, match=message):
        Settings().with_(**changes)


def test_every_flat_key_is_unique():
    keys = Settings.keys()
    values = [getattr(Settings(), f.name) for f in fields(Settings)]
    total = sum(len(fields(v)) if is_dataclass(v) else 1 for v in values)
    assert len(keys) == total  # no two settings share a key
    assert {"model", "model_cache", "top_k", "max_file_bytes", "cors_origins",
            "corpus"} <= keys.keys()


def test_hand_weights_come_from_the_signals_and_settings_override_them():
    defaults = hand_weights()
    assert list(defaults) == [s.name for s in SIGNALS]
    assert defaults["dense"] == 0.3 and defaults["context"] == 0.0
    changed = hand_weights(" names=0, context=0.25 ")
    assert changed["names"] == 0.0 and changed["context"] == 0.25
    assert changed["dense"] == defaults["dense"]


@pytest.mark.parametrize("weights, message", [
    ("loudness=1", "unknown signal 'loudness'"),
    ("dense", "not name=weight"),
    ("dense=-1", "not name=weight"),
    ("dense=heavy", "not name=weight"),
])
def test_a_bad_weight_is_named_in_the_error(weights, message):
    with pytest.raises(InvalidInput, match=message):
        hand_weights(weights)
