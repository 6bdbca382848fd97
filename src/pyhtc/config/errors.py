"""The one exception the configuration layer raises."""
from __future__ import annotations


class ConfigError(Exception):
    """A configuration source could not be read or used.

    Raised for bad syntax, an unterminated ``@=tag`` value, a missing ``include`` file (without
    ``ifexist``), a failing ``include command``, an ``error :`` statement, unbalanced
    ``if``/``endif``, an unknown ``use`` template, a recursive macro, or a value that does not
    convert to the type asked for (``param_integer`` etc.).

    Attributes:
        message: what was wrong, without the location.
        source:  file name (or ``<Environment>``, a command line, ``<string>``), or None.
        line:    1-based line number in ``source``, or None.

    ``str(err)`` is ``"source, line N: message"`` when the location is known, following the way
    HTCondor reports "Configuration Error Line N while reading ... FILE".
    """

    def __init__(self, message: str, source: str | None = None, line: int | None = None):
        self.message = message
        self.source = source
        self.line = line
        super().__init__(self._format())

    def _format(self) -> str:
        if self.source and self.line is not None:
            return f"{self.source}, line {self.line}: {self.message}"
        if self.source:
            return f"{self.source}: {self.message}"
        return self.message
