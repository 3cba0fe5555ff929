"""Helm charts declared in an environment's settings, rendered with Helm's own template engine
(the helm-python-sdk package embeds Helm's Go SDK; no helm binary is run).

gitdeploy only renders: the objects then go through server-side apply like any others, and no
Helm release record is written. Test hooks are never applied; other hooks follow the chart's
`hooks` setting (docs/helm.md).
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import yaml

from gitdeploy.config.settings import ChartSpec
from gitdeploy.config.sources import SourceTree, normalise
from gitdeploy.errors import LoadError
from gitdeploy.objects.secrets import SecretMasker
from gitdeploy.render.sops import Opener

if TYPE_CHECKING:
    from helm_python import Chart

HOOK_ANNOTATION = "helm.sh/hook"
TEST_HOOKS = frozenset({"test", "test-success", "test-failure"})


def chart_folder(env_path: PurePosixPath, spec: ChartSpec) -> PurePosixPath:
    """A local chart's folder, relative to the repository root."""
    return normalise(env_path / spec.chart)


def render_chart(spec: ChartSpec, env_path: PurePosixPath, namespace: str, tree: SourceTree,
                 disk_root: Path | None, opener: Opener | None = None,
                 warnings: list[str] | None = None) -> list[tuple[str, bytes]]:
    """The chart's CRDs and templates as YAML text, each with the path it is named by, in
    file order. Helm's error text is masked for every value the environment gives the chart
    (values files and inline values): which of them are secret is not known. SOPS-encrypted
    values files are opened by `opener` (decrypted in memory: Helm is given the values, never
    a file)."""
    helm = _engine()
    values = _values(spec, env_path, tree, opener or Opener(decrypt=True))
    where = _describe(spec, env_path)
    try:
        with _loaded(spec, env_path, disk_root) as chart:
            templates = chart.render(values, name=spec.release, namespace=namespace,
                                     is_install=True)
            crds = chart.crds if spec.include_crds else []
            metadata = getattr(chart, "metadata", None) or {}
            if warnings is not None and metadata.get("deprecated"):
                # what `helm template` and `helm install` warn about the chart itself
                warnings.append(f"{where}: the chart {metadata.get('name', spec.chart)} "
                                f"{metadata.get('version', '')} is deprecated "
                                "(deprecated: true in its Chart.yaml)".replace("  ", " "))
    except helm.HelmError as error:
        # Helm quotes values in its messages ("'...' does not match pattern ..."); the values
        # the environment gives the chart are where its Secrets' values come from.
        masker = SecretMasker.of_values([values])
        lines = str(error).splitlines()[:30]
        place = ""
        if not (spec.repo or spec.chart.startswith("oci://")):
            # Helm names a template by the chart's name ("web/templates/cm.yaml:4:26"); a
            # chart of the repository is named by its path there.
            lines = [_TEMPLATE.sub(rf"\g<1>{where}/\g<2>", line) for line in lines]
            found = next((m for line in lines if (m := _PLACE.search(line))), None)
            place = f"{found.group(1)}: " if found else ""
        raise LoadError(f"{place}Helm could not render {where} (release {spec.release})",
                        masker.mask_lines(lines)) from None
    files: list[tuple[str, bytes]] = []
    for crd in sorted(crds, key=lambda item: item["filename"]):
        files.append((f"{where}/{crd['filename']}", crd["data"].encode()))
    for name in sorted(templates):
        if name.endswith("NOTES.txt") or PurePosixPath(name).name.startswith("_"):
            continue  # as in Helm: the notes are a message, `_*` files are partials
        relative = name.split("/", 1)[1] if "/" in name else name
        files.append((f"{where}/{relative}", templates[name].encode()))
    return files


def _hooks(body: dict[str, Any]) -> list[str]:
    annotations = (body.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(HOOK_ANNOTATION)
    return [hook.strip() for hook in value.split(",")] if isinstance(value, str) else []


def leave_out(body: dict[str, Any], spec: ChartSpec) -> str | None:
    """Why a rendered object of the chart is not applied, or None when it is."""
    hooks = _hooks(body)
    if not hooks:
        return None
    if TEST_HOOKS.intersection(hooks):
        return "a Helm test (run by `helm test`, never applied)"
    if spec.hooks == "skip":
        return f"a Helm {', '.join(hooks)} hook (hooks: skip)"
    return None


def chart_inputs(spec: ChartSpec, env_path: PurePosixPath, tree: SourceTree
                 ) -> list[PurePosixPath]:
    """The repository files a chart reads: its values files and, for a local chart, the chart
    folder."""
    files = [normalise(env_path / name) for name in spec.values_files]
    if not spec.is_remote:
        files.extend(tree.walk_files(chart_folder(env_path, spec)))
    return files


def _engine() -> Any:
    try:
        import helm_python
    except ImportError:
        raise LoadError("Helm charts need the helm-python-sdk package (Helm's engine)",
                        ["install it with: pip install 'gitdeploy[helm]'"]) from None
    return helm_python


_TEMPLATE = re.compile(r"(\(|\bat |template: )[^/()\s:]+/((?:templates|charts)/[^()\s:]+)")
_PLACE = re.compile(r"\(([^()\s]+/templates/[^()\s:]+(?::\d+){0,2})\)")


def _describe(spec: ChartSpec, env_path: PurePosixPath) -> str:
    if spec.chart.startswith("oci://"):
        return f"{spec.chart}:{spec.version}"
    if spec.repo:
        return f"{spec.repo.rstrip('/')}/{spec.chart}:{spec.version}"
    return str(chart_folder(env_path, spec))


def _values(spec: ChartSpec, env_path: PurePosixPath, tree: SourceTree, opener: Opener
            ) -> dict[str, Any]:
    """Values files in order, then inline values; later ones win, maps merge (as Helm's -f)."""
    merged: dict[str, Any] = {}
    for name in spec.values_files:
        path = normalise(env_path / name)
        try:
            text = tree.read(path)
            data = yaml.safe_load(opener.open(path, text).text)
        except (FileNotFoundError, KeyError, IsADirectoryError):
            raise LoadError(f"{env_path}/gitdeploy.yaml: values file {path} of release "
                            f"'{spec.release}' does not exist in the {tree.describe()}") from None
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
            raise LoadError(f"{where}: not valid YAML: {getattr(error, 'problem', error)}"
                            ) from None
        if data is None:
            continue
        if not isinstance(data, dict):
            raise LoadError(f"{path}: a values file must be a mapping, got "
                            f"{type(data).__name__}")
        _merge(merged, data)
    _merge(merged, copy.deepcopy(spec.values))
    return merged


def _merge(into: dict[str, Any], values: dict[str, Any]) -> None:
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


@contextmanager
def _loaded(spec: ChartSpec, env_path: PurePosixPath, disk_root: Path | None
            ) -> Iterator[Chart]:
    helm = _engine()
    if not spec.is_remote:
        folder = chart_folder(env_path, spec)
        if disk_root is None or not (disk_root / folder / "Chart.yaml").is_file():
            raise LoadError(f"{env_path}/gitdeploy.yaml: release '{spec.release}': {folder} is "
                            f"not a chart folder (it has no Chart.yaml)")
        with helm.Chart.load(disk_root / folder) as chart:
            yield chart
        return
    with helm.Chart.load(_pulled(spec)) as chart:
        yield chart


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gitdeploy" / "charts"


def _pulled(spec: ChartSpec) -> Path:
    """The chart archive of a pinned version, downloaded once into the cache folder."""
    helm = _engine()
    key = hashlib.sha256(f"{spec.repo}|{spec.chart}|{spec.version}".encode()).hexdigest()[:16]
    target = cache_folder() / key
    archives = sorted(target.glob("*.tgz")) if target.is_dir() else []
    if archives:
        return archives[0]
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as download:
        try:
            if spec.repo:
                helm.pull(spec.chart, repo_url=spec.repo, version=spec.version,
                          destination=download)
            else:
                helm.pull(spec.chart, version=spec.version, destination=download)
        except helm.HelmError as error:
            raise LoadError(f"could not download chart {_describe(spec, PurePosixPath())}",
                            str(error).splitlines()[:10]) from None
        fetched = sorted(Path(download).glob("*.tgz"))
        if not fetched:
            raise LoadError(f"downloading chart {_describe(spec, PurePosixPath())} gave no "
                            f"archive")
        target.mkdir(exist_ok=True)
        final = target / fetched[0].name
        fetched[0].replace(final)
    return final
