"""Give pysbd a compiled-pattern cache large enough for all of its patterns."""

from __future__ import annotations

import re
import sys
from functools import lru_cache

# pysbd builds about three patterns for each abbreviation it finds in a text, several
# hundred in all; re's own cache holds 512 and drops the oldest, so on long texts nearly
# every call compiled its pattern again: 10.8 s of 20.6 s spent ingesting 200 SciFact
# abstracts. This holds them all (a few MB).
PATTERNS = 8192


@lru_cache(maxsize=PATTERNS)
def _compiled(pattern, flags: int) -> re.Pattern:
    return re.compile(pattern, flags)


class CachingRe:
    """The `re` module as pysbd calls it, compiling through the larger cache."""

    def __getattr__(self, name: str):
        return getattr(re, name)  # escape, flags, error: as they are

    @staticmethod
    def compile(pattern, flags=0) -> re.Pattern:
        return _compiled(pattern, flags)

    @staticmethod
    def sub(pattern, repl, string, count=0, flags=0) -> str:
        return _compiled(pattern, flags).sub(repl, string, count)

    @staticmethod
    def subn(pattern, repl, string, count=0, flags=0) -> tuple[str, int]:
        return _compiled(pattern, flags).subn(repl, string, count)

    @staticmethod
    def findall(pattern, string, flags=0) -> list:
        return _compiled(pattern, flags).findall(string)

    @staticmethod
    def finditer(pattern, string, flags=0):
        return _compiled(pattern, flags).finditer(string)

    @staticmethod
    def search(pattern, string, flags=0):
        return _compiled(pattern, flags).search(string)

    @staticmethod
    def match(pattern, string, flags=0):
        return _compiled(pattern, flags).match(string)

    @staticmethod
    def fullmatch(pattern, string, flags=0):
        return _compiled(pattern, flags).fullmatch(string)

    @staticmethod
    def split(pattern, string, maxsplit=0, flags=0) -> list:
        return _compiled(pattern, flags).split(string, maxsplit)


def install() -> None:
    """Point every loaded pysbd module's `re` at CachingRe (pysbd calls re.sub & co.)."""
    caching = CachingRe()
    for name, module in list(sys.modules.items()):
        if (name == "pysbd" or name.startswith("pysbd.")) and getattr(module, "re", None) is re:
            module.re = caching
