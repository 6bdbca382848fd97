"""The Config object: a parsed configuration, ``param()`` lookups, and HTCondor's file discovery.

Lookup (lookup_macro in src/condor_utils/config.cpp, param_ctx in condor_config.cpp): a name is
looked up case-insensitively as ``LOCALNAME.NAME`` (config, then defaults table), then
``SUBSYS.NAME`` (config, then defaults), then ``NAME`` (config, then defaults).  ``param()``
expands the raw value found; an empty result counts as not defined.

Loading (real_config in condor_config.cpp; manual "Ordered Evaluation to Set the Configuration"):

1. detected values (ARCH, OPSYS, DETECTED_*, SUBSYSTEM...) as ``<Detected>``;
2. the root file: ``$CONDOR_CONFIG`` (a file, ``cmd |``, ``/dev/null`` for none, ``ONLY_ENV``
   for no files at all), else the first of /etc/condor/condor_config,
   /usr/local/etc/condor_config, ~condor/condor_config; ``CONFIG_ROOT`` is its directory;
3. HOSTNAME, FULL_HOSTNAME, TILDE;
4. every file of every ``LOCAL_CONFIG_DIR`` directory in name order, skipping names matching
   ``LOCAL_CONFIG_DIR_EXCLUDE_REGEXP``; then each ``LOCAL_CONFIG_FILE`` (a list, or ``cmd |``;
   restarted if a file changes the list); then ``LOCAL_CONFIG_DIR`` again if it changed;
5. the user file ``USER_CONFIG_FILE`` (``~/.condor/user_config``) when not running as root;
6. ``_CONDOR_<NAME>`` environment variables (case-insensitive prefix), as ``<Environment>``;
7. HOSTNAME, FULL_HOSTNAME, USERNAME, PID, IP_ADDRESS... again, so they cannot be overridden.
"""
from __future__ import annotations

import os
import pwd
import random
import re
import time
from dataclasses import dataclass
from typing import Iterator, Mapping

from . import detect
from ._code_defaults import CODE_DEFAULTS
from ._param_defaults import PARAM_DEFAULTS
from .. import CONDOR_VERSION as _PYHTC_VERSION
from ._templates import TEMPLATES
from .errors import ConfigError
from .exprs import ExprError, evaluate
from .macros import MacroContext, expand, expand_self
from .parser import SourceParser, logical_lines, run_config_command

__all__ = ["Config", "MacroEntry", "SOURCE_DETECTED", "SOURCE_DEFAULT", "SOURCE_ENVIRONMENT",
           "SOURCE_INTERNAL", "split_list", "default_value", "default_type", "code_default", "parse_boolean"]

SOURCE_DETECTED = "<Detected>"
SOURCE_DEFAULT = "<Default>"
SOURCE_ENVIRONMENT = "<Environment>"
SOURCE_INTERNAL = "<Internal>"

ROOT_CONFIG_SEARCH = ("/etc/condor/condor_config", "/usr/local/etc/condor_config")

# upper-case name -> (name as HTCondor spells it, raw default, type)
_DEFAULTS = {name.upper(): (name, value, typ) for name, (value, typ) in PARAM_DEFAULTS.items()}
# the one default HTCondor's build fills in (param_info.in says "8.*"): the version we speak
_DEFAULTS["CONDOR_VERSION"] = ("CONDOR_VERSION", _PYHTC_VERSION, "string")
_TEMPLATES = {cat.upper(): (cat, {name.upper(): (name, text) for name, text in tpls.items()})
              for cat, tpls in TEMPLATES.items()}
_LIST_SPLIT = re.compile(r"[,\s]+")
# per-daemon knob families (<NAME>_LOG, <NAME>_ARGS ...) that likely_misspellings() accepts
_FAMILY_SUFFIX = re.compile(r"_(LOG|DEBUG|ARGS|ENVIRONMENT|ADDRESS_FILE|NAME|ATTRS|EXPRS)$")


def split_list(value: str | None) -> list[str]:
    """Split a configuration list the way HTCondor's StringTokenIterator does (commas/whitespace)."""
    if not value:
        return []
    return [item for item in _LIST_SPLIT.split(value) if item]


def default_value(name: str, subsystem: str | None = None) -> str | None:
    """Raw value of ``name`` in the built-in defaults table (``SUBSYS.NAME`` first), or None."""
    if subsystem:
        hit = _DEFAULTS.get(f"{subsystem.upper()}.{name.upper()}")
        if hit:
            return hit[1]
    hit = _DEFAULTS.get(name.upper())
    return hit[1] if hit else None


def code_default(name: str) -> str | None:
    """Documented default a daemon uses when the knob is undefined (see _code_defaults), or None."""
    hit = CODE_DEFAULTS.get(name.upper())
    return hit[0] if hit else None


def default_type(name: str) -> str | None:
    """Type of ``name`` in the defaults table: string, int, long, bool, double, path; or None."""
    hit = _DEFAULTS.get(name.upper())
    return hit[2] if hit else None


@dataclass
class MacroEntry:
    """One value set by a configuration source.

    name:     the name as first written (``Schedd.Debug``); lookups are case-insensitive.
    value:    raw value (self references already substituted, other macros not expanded).
    source:   file path, ``cmd |``, ``<Detected>``, ``<Environment>``, ``<Internal>``, ``<string>``.
    line:     line number in ``source`` (for a template, the ``use`` line), or None.
    template: ``"ROLE:Personal+2"`` when set by a ``use`` template (category:name+offset).
    """
    name: str
    value: str
    source: str
    line: int | None = None
    template: str | None = None

    def location(self) -> str:
        """Provenance as ``condor_config_val -v`` prints it: ``file, line N[, use ROLE:Personal+2]``."""
        if self.line is None:
            return self.source
        text = f"{self.source}, line {self.line}"
        if self.template:
            text += f", use {self.template}"
        return text


class Config:
    """A configuration: the table of values plus the context (subsystem, local name) to read it in.

    Create one with ``Config.load(...)`` (HTCondor's discovery of files and environment), or
    empty with ``Config(...)`` and feed it with ``read_string``/``read_file``.  Lookups are
    ``param``, ``param_integer``, ``param_double``, ``param_boolean``, ``param_list``; ``raw``
    and ``lookup_entry`` give the unexpanded value and provenance.  Expanded values are cached
    until the table changes.  Not thread-safe for concurrent writes.

    subsystem:  HTCondor subsystem name (``TOOL``, ``MASTER``, ``SCHEDD``...), upper-cased.
    local_name: the ``-local-name`` of this daemon instance, or None.
    environ:    environment used for ``$ENV()``, ``CONDOR_CONFIG`` and ``_CONDOR_`` overrides
                (a copy of ``os.environ`` when None).
    """

    def __init__(self, subsystem: str = "TOOL", local_name: str | None = None,
                 environ: Mapping[str, str] | None = None, seed: int | None = None):
        self.subsystem = (subsystem or "TOOL").upper()
        self.local_name = local_name or None
        self.environ: dict[str, str] = dict(os.environ if environ is None else environ)
        self._seed = seed
        self._reset()
        self._load_args: dict | None = None
        self._deps: list | None = None     # what load() consulted, while it records

    def _reset(self) -> None:
        self._table: dict[str, MacroEntry] = {}
        self._cache: dict[str, str | None] = {}
        self.sources: list[str] = []            # every file/command read, in order
        self.root_source: str | None = None     # the root (global) config source, if any
        self.local_sources: list[str] = []      # the others
        self.warnings: list[str] = []
        self._rng = random.Random(self._seed)
        self._rng_start = self._rng.getstate()   # to tell whether a load drew from it
        self._ctx = MacroContext(self._lookup, self.environ, self._rng)

    # ---- loading ---------------------------------------------------------------------------
    @classmethod
    def load(cls, subsystem: str = "TOOL", local_name: str | None = None,
             environ: Mapping[str, str] | None = None, root_config: str | None = None,
             require_root: bool = True, read_user_config: bool = True) -> "Config":
        """Load the configuration the way an HTCondor daemon or tool does (see module doc).

        root_config:      use this root file instead of ``$CONDOR_CONFIG``/the search
                          (``condor_config_val -root-config``); ``"ONLY_ENV"`` reads no files.
        require_root:     raise ConfigError when no root file is found (HTCondor exits).
        read_user_config: read ``~/.condor/user_config`` (tools do; pass False for daemons
                          that must not be influenced by a user's file).
        Raises ConfigError for any unreadable required source or bad statement.
        """
        env = dict(os.environ if environ is None else environ)
        key = (cls, (subsystem or "TOOL").upper(), local_name or None, root_config,
               bool(require_root), bool(read_user_config))
        hit = _LOAD_MEMO.lookup(key, env)
        if hit is not None:
            return hit._clone(env)
        config = cls(subsystem, local_name, env)
        config.environ = recorder = _EnvRecorder(env)
        config._load_args = {"root_config": root_config, "require_root": require_root,
                             "read_user_config": read_user_config}
        config._deps = []
        config._load()
        deps, config._deps = config._deps, None
        config.environ = config._ctx.environ = env
        if not recorder.whole and config._rng.getstate() == config._rng_start:
            # no command ran (it would see the whole environment) and no $RANDOM_*() was
            # drawn while loading: the same inputs give the same table
            _LOAD_MEMO.store(key, recorder.reads, _condor_env(env), deps, config._clone(env))
        return config

    @classmethod
    def clear_load_cache(cls) -> None:
        """Forget every memoized :meth:`load` result (see :class:`_LoadMemo`)."""
        _LOAD_MEMO.clear()

    def _clone(self, environ: dict) -> "Config":
        """An independent copy with ``environ`` as its environment (the table's entries are
        never changed in place, so its dict is copied shallowly) and PID/PPID of this
        process (they differ in a fork)."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.environ = dict(environ)
        new._table = dict(self._table)
        new._cache = {}
        new.sources, new.local_sources = list(self.sources), list(self.local_sources)
        new.warnings = list(self.warnings)
        new._load_args = dict(self._load_args) if self._load_args is not None else None
        new._deps = None
        new._rng = random.Random(self._seed)
        new._ctx = MacroContext(new._lookup, new.environ, new._rng)
        for name, value in (("PID", os.getpid()), ("PPID", os.getppid())):
            entry = new._table.get(name)
            if entry is not None and entry.value != str(value):
                new._insert(name, str(value), SOURCE_DETECTED)
        return new

    def _note_path(self, kind: str, path: str, st: os.stat_result | None = None,
                   content=None) -> None:
        """While :meth:`load` records: ``path`` was consulted (a ``"file"``, or a ``"dir"``
        whose listing is ``content``); ``st`` its stat (None: absent), else stat it now."""
        if self._deps is None:
            return
        if st is None and content is None:
            try:
                st = os.stat(path)
            except OSError:
                st = None
        self._deps.append((kind, path, _stamp(st), content))

    def reload(self) -> set[str]:
        """Re-read every source from scratch (``condor_reconfig``).

        Returns the upper-case names whose expanded value changed (added, removed or
        different), so a daemon can act only on what changed (e.g. a new DAEMON_LIST).
        On error the old table stays and ConfigError is raised.
        """
        if self._load_args is None:
            raise ConfigError("reload() needs a Config made by Config.load()")
        before = self.snapshot()
        saved = (self._table, self._cache, self.sources, self.root_source, self.local_sources,
                 self.warnings, self._rng, self._ctx)
        try:
            self._load()
        except ConfigError:
            (self._table, self._cache, self.sources, self.root_source, self.local_sources,
             self.warnings, self._rng, self._ctx) = saved
            raise
        after = self.snapshot()
        return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}

    def snapshot(self) -> dict[str, str | None]:
        """``{UPPER_NAME: expanded value}`` for every name set by a source (detected values
        such as PID excluded); a value that fails to expand is recorded as its raw text."""
        out: dict[str, str | None] = {}
        for key, entry in self._table.items():
            if entry.source == SOURCE_DETECTED:
                continue
            try:
                out[key] = self.param(key)
            except ConfigError:
                out[key] = entry.value
        return out

    def _load(self) -> None:
        args = self._load_args or {}
        self._reset()
        env = self.environ
        for name, value in detect.early_macros(self.subsystem, self.local_name, env).items():
            self._insert(name, value, SOURCE_DETECTED)

        root = args.get("root_config")
        if root is None:
            root = env.get("CONDOR_CONFIG")
            if root is not None and root.upper() != "ONLY_ENV":
                self._check_env_root(root)
        only_env = root is not None and root.upper() == "ONLY_ENV"
        if root is None:
            root = self._search_root()
            for path in self._root_candidates():
                self._note_path("file", path)
            if root is None and args.get("require_root", True):
                raise ConfigError(
                    "Neither the environment variable CONDOR_CONFIG, /etc/condor/, "
                    "/usr/local/etc/, nor ~condor/ contain a condor_config source. Either set "
                    "CONDOR_CONFIG to point to a valid config source, or put a \"condor_config\" "
                    "file in /etc/condor/ /usr/local/etc/ or ~condor/")
        null_config = not root or root == "/dev/null"
        if not only_env and not null_config:
            if not root.rstrip().endswith("|"):
                self._insert("CONFIG_ROOT", os.path.dirname(root) or ".", SOURCE_DETECTED)
            self.root_source = root
            self._parse_file(root, 0, required=True, local=False)

        self._insert_late_detected(("HOSTNAME", "FULL_HOSTNAME", "TILDE"))

        dirlist = self.param("LOCAL_CONFIG_DIR")
        if dirlist and not only_env:
            self._process_directory(dirlist)
        self._process_locals()
        new_dirlist = self.param("LOCAL_CONFIG_DIR")
        if new_dirlist and not only_env and new_dirlist != dirlist:
            self._process_directory(new_dirlist)

        user_file = self.param("USER_CONFIG_FILE")
        if user_file and not only_env and args.get("read_user_config", True) and os.geteuid() != 0:
            path = self._user_file(user_file)
            if path:
                self._note_path("file", path)
            if path and os.access(path, os.R_OK):
                self._parse_file(path, 1, required=False)

        for key, value in dict.items(env):   # (the memo keys on these: _condor_env)
            if key[:8].lower() == "_condor_" and key[8:].strip():
                name = key[8:].strip()
                value = expand_self(value.lstrip(), self._self_names(name), self._ctx)
                self._insert(name, value, SOURCE_ENVIRONMENT)

        self._insert_late_detected(None)

    def _check_env_root(self, root: str) -> None:
        if root == "/dev/null" or root.rstrip().endswith("|"):
            return
        if os.path.isdir(root):
            raise ConfigError(f'File specified in CONDOR_CONFIG environment variable:\n"{root}" '
                              "is a directory.  Please specify a file.")
        if not os.path.exists(root):
            raise ConfigError(f'File specified in CONDOR_CONFIG environment variable:\n"{root}" '
                              "does not exist.")

    @staticmethod
    def _root_candidates() -> list[str]:
        candidates = list(ROOT_CONFIG_SEARCH)
        home = detect.condor_home()
        if home:
            candidates.append(os.path.join(home, "condor_config"))
        return candidates

    @staticmethod
    def _search_root() -> str | None:
        for path in Config._root_candidates():
            if os.access(path, os.R_OK) and not os.path.isdir(path):
                return path
        return None

    def _user_file(self, name: str) -> str | None:
        if os.path.isabs(name):
            return name
        try:
            home = pwd.getpwuid(os.geteuid()).pw_dir
        except KeyError:
            home = self.environ.get("HOME")
        return os.path.join(home, ".condor", name) if home else None

    def _insert_late_detected(self, only: tuple[str, ...] | None) -> None:
        domain = self.param("DEFAULT_DOMAIN_NAME")
        for name, value in detect.late_macros(domain).items():
            if only is None or name in only:
                self._insert(name, value, SOURCE_DETECTED)
        if only is None:
            local = self.local_name or self.subsystem
            self._insert("SUBSYSTEM", self.subsystem, SOURCE_DETECTED)
            self._insert("LOCALNAME", local, SOURCE_DETECTED)

    def _required_locals(self) -> bool:
        return self.param_boolean("REQUIRE_LOCAL_CONFIG_FILE", True)

    def _process_directory(self, dirlist: str) -> None:
        exclude = self.param("LOCAL_CONFIG_DIR_EXCLUDE_REGEXP")
        try:
            pattern = re.compile(exclude) if exclude else None
        except re.error as exc:
            raise ConfigError(f"LOCAL_CONFIG_DIR_EXCLUDE_REGEXP is not a valid regular expression: {exc}") from None
        required = self._required_locals()
        for directory in split_list(dirlist):
            try:
                names = os.listdir(directory)
            except OSError:
                self._note_path("dir", directory, None, ())
                continue
            self._note_path("dir", directory, None, tuple(sorted(names)))
            files = [os.path.join(directory, name) for name in names
                     if not os.path.isdir(os.path.join(directory, name))
                     and not (pattern and pattern.search(name))]
            for path in sorted(files):
                self._parse_file(path, 1, required=required)

    def _process_locals(self) -> None:
        value = self.param("LOCAL_CONFIG_FILE")
        if not value:
            return
        required = self._required_locals()

        def as_list(text: str) -> list[str]:
            return [text] if text.rstrip().endswith("|") else split_list(text)

        todo = as_list(value)
        done: list[str] = []
        while todo:
            source = todo.pop(0)
            self._parse_file(source, 1, required=required)
            done.append(source)
            new_value = self.param("LOCAL_CONFIG_FILE")
            if new_value and new_value != value:
                value = new_value
                todo = [s for s in as_list(new_value) if s not in done]

    def _parse_file(self, path: str, depth: int, required: bool, local: bool = True,
                    where: tuple[str, int] | None = None) -> None:
        """Read one file (or ``cmd |``) into the table; ConfigError if required and unreadable."""
        stripped = path.rstrip()
        if stripped.endswith("|"):
            cmd = stripped[:-1].strip()
            try:
                text = run_config_command(cmd, self.environ)
            except ConfigError as exc:
                if not required:
                    return
                if where:
                    raise ConfigError(exc.message, *where) from None
                raise
            name = cmd + " |"
        else:
            try:
                with open(path, "rb") as fh:
                    st = os.fstat(fh.fileno())
                    data = fh.read()
                text = data.decode("utf-8", "replace")
                self._note_path("file", path, st, data)
            except OSError as exc:
                self._note_path("file", path)
                if not required:
                    return
                message = f"Can't read config source {path}: {exc.strerror or exc}"
                if where:
                    raise ConfigError(message, *where) from None
                raise ConfigError(message) from None
            name = path
        self._record_source(name, local)
        SourceParser(self, name, depth).parse(logical_lines(text))

    def _record_source(self, name: str, local: bool = True) -> None:
        self.sources.append(name)
        if local:
            self.local_sources.append(name)

    # ---- feeding text directly ---------------------------------------------------------------
    def read_string(self, text: str, source: str = "<string>") -> "Config":
        """Parse configuration text into this table (later values win).  Returns self."""
        self.sources.append(source)
        SourceParser(self, source, 0).parse(logical_lines(text))
        return self

    def read_file(self, path: str, required: bool = True) -> "Config":
        """Parse one file (or ``cmd |``) into this table.  Returns self."""
        self._parse_file(os.fspath(path), 0, required=required)
        return self

    def set(self, name: str, value: str, source: str = SOURCE_INTERNAL) -> None:
        """Set a value at run time (``condor_config_val -rset``); self references are expanded."""
        value = expand_self(value, self._self_names(name), self._ctx)
        self._insert(name, value, source)

    def unset(self, name: str) -> bool:
        """Remove a value set in the table (defaults stay).  Returns True if it was there."""
        removed = self._table.pop(name.upper(), None) is not None
        self._cache.clear()
        return removed

    # ---- the table ---------------------------------------------------------------------------
    def _insert(self, name: str, value: str, source: str, line: int | None = None,
                template: str | None = None) -> None:
        key = name.upper()
        old = self._table.get(key)
        self._table[key] = MacroEntry(old.name if old else name, value, source, line, template)
        self._cache.clear()

    def _self_names(self, name: str) -> tuple[str, ...]:
        key = name.upper()
        for prefix in (self.local_name, self.subsystem):
            if prefix and key.startswith(prefix.upper() + ".") and len(key) > len(prefix) + 1:
                return key, key[len(prefix) + 1:]
        return (key,)

    def _find(self, name: str) -> tuple[str, str, MacroEntry | None] | None:
        """(key found, raw value, entry or None for a table default) following lookup_macro."""
        key = name.upper()
        for prefix in (self.local_name, self.subsystem):
            if not prefix:
                continue
            full = f"{prefix.upper()}.{key}"
            entry = self._table.get(full)
            if entry is not None:
                return full, entry.value, entry
            hit = _DEFAULTS.get(full)
            if hit is not None:
                return full, hit[1], None
        entry = self._table.get(key)
        if entry is not None:
            return key, entry.value, entry
        hit = _DEFAULTS.get(key)
        if hit is not None and hit[1]:
            return key, hit[1], None
        return None

    def _lookup(self, name: str) -> str | None:
        found = self._find(name)
        return found[1] if found else None

    def _macro_context(self) -> MacroContext:
        return self._ctx

    def _find_template(self, category: str, template: str | None):
        cat = _TEMPLATES.get(category.strip().upper())
        if cat is None:
            return None
        if template is None:
            return cat[0], None, ""
        hit = cat[1].get(template.strip().upper())
        if hit is None:
            return None
        return cat[0], hit[0], hit[1]

    # ---- lookups -------------------------------------------------------------------------------
    def param(self, name: str, default: str | None = None) -> str | None:
        """Expanded value of ``name``, or ``default`` if not defined or empty (HTCondor param())."""
        key = name.upper()
        try:
            value = self._cache[key]
        except KeyError:
            raw = self._lookup(name)
            value = expand(raw, self._ctx) if raw else None
            value = value or None
            self._cache[key] = value
        return default if value is None else value

    def __getitem__(self, name: str) -> str:
        """``config["NAME"]``: like param(), but raises KeyError when not defined."""
        value = self.param(name)
        if value is None:
            raise KeyError(name)
        return value

    def raw(self, name: str) -> str | None:
        """Unexpanded value (config or defaults table), or None; ``""`` if explicitly empty."""
        return self._lookup(name)

    def lookup_entry(self, name: str) -> tuple[str, str, MacroEntry | None] | None:
        """``(name used, raw value, entry)`` for ``name``; entry is None for a table default.

        ``name used`` is the key that matched (``SCHEDD.DEBUG`` for ``DEBUG`` in a schedd).
        """
        found = self._find(name)
        if found is None:
            return None
        key, raw, entry = found
        return (entry.name if entry else _DEFAULTS[key][0]), raw, entry

    def location(self, name: str) -> str | None:
        """Provenance of ``name``: ``"file, line N"``, ``<Environment>``, ``<Default>``... or None."""
        found = self._find(name)
        if found is None:
            return None
        return found[2].location() if found[2] else SOURCE_DEFAULT

    def expand(self, text: str) -> str:
        """Expand macros in arbitrary text in this configuration's context."""
        return expand(text, self._ctx)

    def is_defined(self, name: str) -> bool:
        """True if ``param(name)`` would return a value."""
        return self.param(name) is not None

    def __contains__(self, name: str) -> bool:
        return self.is_defined(name)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(entry.name for entry in self._table.values()))

    def __len__(self) -> int:
        return len(self._table)

    def names(self, include_defaults: bool = False) -> list[str]:
        """Names set in the table (sorted case-insensitively); with defaults-table names too."""
        names = {key: entry.name for key, entry in self._table.items()}
        if include_defaults:
            for key, (spelled, _value, _typ) in _DEFAULTS.items():
                names.setdefault(key, spelled)
        return sorted(names.values(), key=str.upper)

    def entries(self) -> Iterator[MacroEntry]:
        """Every value set by a source (not the defaults table), sorted by name."""
        for key in sorted(self._table):
            yield self._table[key]

    def likely_misspellings(self) -> list[tuple[MacroEntry, str]]:
        """Names set by a source that HTCondor does not know but that are close to a knob it
        does know, with that knob: ``[(entry, "NEGOTIATOR_INTERVAL"), ...]``.

        A name counts as known if it is in the defaults table, is used as ``$(NAME)`` by some
        value, or carries a subsystem/local-name prefix of a known knob.  Only near matches
        (difflib ratio >= 0.88) are reported, so site-specific macros stay quiet.
        """
        import difflib
        used = set()
        for entry in self._table.values():
            if "$" in entry.value:
                used.update(m.upper() for m in re.findall(r"\$\(([A-Za-z0-9_.]+)", entry.value))
        upper_known = set(_DEFAULTS) | set(CODE_DEFAULTS)
        for text in TEMPLATES.get("UPGRADE", {}).values():      # obsolete knob names
            upper_known.update(word.upper() for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
        found = []
        for key, entry in sorted(self._table.items()):
            if entry.source in (SOURCE_DETECTED, SOURCE_DEFAULT) or entry.template:
                continue
            base = key.rsplit(".", 1)[-1]
            if base in upper_known or key in used or base in used:
                continue
            words = base.split("_")
            # families such as MASTER_<NAME>_BACKOFF_CONSTANT, UWCS_<KNOB>, <NAME>_LOG
            if _FAMILY_SUFFIX.search(base) or any(
                    "_".join(rest) in upper_known and len(rest) >= 2
                    for rest in (words[:i] + words[i + 1:] for i in range(len(words)))):
                continue
            close = difflib.get_close_matches(base, upper_known, n=1, cutoff=0.88)
            if close:
                found.append((entry, _DEFAULTS.get(close[0], (close[0],))[0]))
        return found

    # ---- typed helpers ----------------------------------------------------------------------------
    def param_integer(self, name: str, default: int | None = None,
                      min_value: int | None = None, max_value: int | None = None) -> int | None:
        """Integer value (param_integer): a literal or a constant expression, clamped to the range.

        Returns ``default`` if undefined.  Raises ConfigError if the value is not an integer.
        """
        text = self.param_or_default(name)
        if text is None:
            return default
        value = _convert(text, int)
        if value is None:
            raise ConfigError(f"{name} = {text!r} is not an integer; please set it to an integer expression",
                              *self._where(name))
        if min_value is not None and value < min_value:
            value = min_value
        if max_value is not None and value > max_value:
            value = max_value
        return value

    def param_double(self, name: str, default: float | None = None,
                     min_value: float | None = None, max_value: float | None = None) -> float | None:
        """Floating-point value (param_double), clamped to the range; ConfigError if not a number."""
        text = self.param_or_default(name)
        if text is None:
            return default
        value = _convert(text, float)
        if value is None:
            raise ConfigError(f"{name} = {text!r} is not a number", *self._where(name))
        if min_value is not None and value < min_value:
            value = min_value
        if max_value is not None and value > max_value:
            value = max_value
        return value

    def param_boolean(self, name: str, default: bool = False) -> bool:
        """Boolean value (param_boolean / string_is_boolean_param).

        ``true``/``false``/``1``/``0`` (any case, trailing space allowed), or a constant ClassAd
        expression giving a boolean or number.  Returns ``default`` if undefined; raises
        ConfigError for anything else (e.g. ``yes``: HTCondor does not accept it here).
        """
        text = self.param_or_default(name)
        if text is None:
            return default
        value = parse_boolean(text)
        if value is None:
            raise ConfigError(f"{name} = {text!r} is not a valid boolean; please set it to True or False",
                              *self._where(name))
        return value

    def param_bytes(self, name: str, default: int | None = None) -> int | None:
        """A size in bytes such as ``MAX_SCHEDD_LOG = 10 Mb``: a number with an optional
        ``K``/``M``/``G``/``T`` unit (powers of 1024) and optional ``b`` (dprintf_config.cpp).
        Returns ``default`` if undefined; ConfigError if malformed."""
        text = self.param_or_default(name)
        if text is None:
            return default
        m = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*([KMGT]?)B?\s*", text, re.IGNORECASE)
        if not m:
            value = _convert(text, int)
            if value is None:
                raise ConfigError(f"{name} = {text!r} is not a size", *self._where(name))
            return value
        scale = 1024 ** "KMGT".find(m.group(2).upper()) * 1024 if m.group(2) else 1
        return int(float(m.group(1)) * scale)

    def param_list(self, name: str, default: list[str] | None = None) -> list[str]:
        """Value split into items at commas and whitespace; ``default`` (or []) if undefined."""
        text = self.param(name)
        if text is None:
            return list(default or [])
        return split_list(text)

    def param_or_default(self, name: str) -> str | None:
        """Value for the typed helpers: like param(), but a knob set to empty falls back to the
        defaults table (param_integer & co. use the table default whenever param() gives
        nothing), and then to the documented in-code default (_code_defaults)."""
        text = self.param(name)
        if text is None:
            raw = default_value(name, self.subsystem) or code_default(name)
            if raw:
                text = expand(raw, self._ctx) or None
        return text

    def _where(self, name: str) -> tuple[str | None, int | None]:
        found = self._find(name)
        if found and found[2]:
            return found[2].source, found[2].line
        return (SOURCE_DEFAULT if found else None), None

    def __repr__(self) -> str:
        return (f"<Config subsystem={self.subsystem} local_name={self.local_name} "
                f"values={len(self._table)} sources={len(self.sources)}>")


def _convert(text: str, kind):
    text = text.strip()
    try:
        return kind(int(text, 10)) if kind is int else float(text)
    except ValueError:
        pass
    try:
        value = evaluate(text)
    except ExprError:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return int(value) if isinstance(value, bool) else None
    return kind(value)


def parse_boolean(text: str) -> bool | None:
    """HTCondor's boolean parsing: see Config.param_boolean.  None if not a boolean."""
    m = re.match(r"(true|false|1|0)\s*$", text, re.IGNORECASE)
    if m:
        return m.group(1).lower() in ("true", "1")
    try:
        value = evaluate(text)
    except ExprError:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    return None


# ---- the load memo ----------------------------------------------------------------------------
# A fork server (pyhtc.daemoncore.zygote) loads the configuration once; each forked starter or
# shadow then calls Config.load() with the same arguments and gets a copy instead of parsing
# every file again.  HTCondor's daemons are long-lived and have no such need; this is pyhtc's.

_MISSING = object()
#: a file whose mtime is this close to (or after) the memo's birth may have changed within
#: the file system's timestamp granularity without changing its stamp: compare its bytes
_RACY_NS = 2_000_000_000


class _EnvRecorder(dict):
    """The environment a load runs with, noting each name it looks up (``reads``: name ->
    value or None when unset); anything that takes the whole mapping (a config command's
    environment) sets ``whole``."""

    def __init__(self, env: dict):
        super().__init__(env)
        self.reads: dict[str, str | None] = {}
        self.whole = False

    def get(self, key, default=None):
        value = dict.get(self, key, _MISSING)
        self.reads[key] = None if value is _MISSING else value
        return default if value is _MISSING else value

    def __getitem__(self, key):
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __contains__(self, key):
        return self.get(key, _MISSING) is not _MISSING

    def _all(self):
        self.whole = True

    def keys(self):
        self._all()
        return dict.keys(self)

    def items(self):
        self._all()
        return dict.items(self)

    def values(self):
        self._all()
        return dict.values(self)

    def __iter__(self):
        self._all()
        return dict.__iter__(self)

    def copy(self):
        self._all()
        return dict(dict.items(self))


def _condor_env(env: dict) -> tuple:
    """The ``_CONDOR_<NAME>`` overrides in ``env`` (load step 6), sorted."""
    return tuple(sorted((k, v) for k, v in env.items() if k[:8].lower() == "_condor_"))


def _stamp(st: os.stat_result | None) -> tuple | None:
    if st is None:
        return None
    return (st.st_mode, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class _LoadMemo:
    """Results of :meth:`Config.load` in this process (and, inherited, in its forks).

    A result is reused when ``load`` is called with the same arguments, the same uids, gids
    and working directory, the same values for every environment name the first load looked
    up, the same ``_CONDOR_*`` variables, and when every file it consulted still has the same
    (mode, device, inode, size, mtime_ns, ctime_ns) -- absent files still absent -- and every
    configuration directory the same listing.  A file changed within
    :data:`_RACY_NS` of the memo's birth is compared byte for byte as well (time stamps are
    coarse).  Loads that ran a command (``cmd |``, ``include command``) or drew a random
    number are never memoized."""

    PER_KEY = 4

    def __init__(self):
        self._memos: dict[tuple, list] = {}

    def clear(self) -> None:
        self._memos.clear()

    @staticmethod
    def _who() -> tuple:
        try:
            cwd = os.getcwd()
        except OSError:
            cwd = None
        return (os.getuid(), os.geteuid(), os.getgid(), os.getegid(), cwd)

    def store(self, key: tuple, reads: dict, condor_env: tuple, deps: list, template: "Config") -> None:
        memos = self._memos.setdefault(key + self._who(), [])
        memos.insert(0, (tuple(reads.items()), condor_env, tuple(deps), template, time.time_ns()))
        del memos[self.PER_KEY:]

    def lookup(self, key: tuple, env: dict) -> "Config | None":
        memos = self._memos.get(key + self._who())
        if not memos:
            return None
        condor = None
        for reads, condor_env, deps, template, born in memos:
            if any(env.get(name) != value for name, value in reads):
                continue
            if condor is None:
                condor = _condor_env(env)
            if condor != condor_env:
                continue
            if all(_unchanged(dep, born) for dep in deps):
                return template
        return None


def _unchanged(dep: tuple, born: int) -> bool:
    kind, path, stamp, content = dep
    if kind == "dir":
        try:
            return tuple(sorted(os.listdir(path))) == content
        except OSError:
            return content == ()
    try:
        st = os.stat(path)
    except OSError:
        return stamp is None
    if _stamp(st) != stamp:
        return False
    if content is not None and st.st_mtime_ns >= born - _RACY_NS:
        try:
            with open(path, "rb") as fh:
                return fh.read() == content
        except OSError:
            return False
    return True


_LOAD_MEMO = _LoadMemo()
