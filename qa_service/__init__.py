"""Answer questions with retrieved, attributed passages from a document collection."""

__version__ = "0.1.0"
