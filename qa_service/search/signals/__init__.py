"""Signals: the numbers a ranking reads about each candidate passage, in one list."""

from qa_service.search.signals.base import Signal
from qa_service.search.signals.registry import BY_NAME, SIGNALS, hand_weights, signal

__all__ = ["BY_NAME", "SIGNALS", "Signal", "hand_weights", "signal"]
