"""Learn the ranker and the answerability model from training collections."""

from qa_service.learn.collect import Example, ExampleSet, collect, gather
from qa_service.learn.train import train_model

__all__ = ["Example", "ExampleSet", "collect", "gather", "train_model"]
