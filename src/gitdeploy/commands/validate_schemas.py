"""`validate` (its options, `--cluster`, `--files`) and `schemas pull`: the environments'
clusters are reached only when asked, read only, through the wrong-cluster guard."""

from __future__ import annotations

from pathlib import Path

from gitdeploy.commands.session import ClusterOptions, Session
from gitdeploy.config.environments import load_environment
from gitdeploy.config.settings import SKIP_KIND
from gitdeploy.config.sources import reading
from gitdeploy.errors import GitdeployError, SettingsError
from gitdeploy.pin.images import check_pins
from gitdeploy.results.validate import PulledSchemas, ValidationReport
from gitdeploy.validate import catalog, crds
from gitdeploy.validate.cluster import LiveCluster, read_cluster
from gitdeploy.validate.schemas import ValidateOptions
from gitdeploy.validate.schemas import validate as validate_tree
from gitdeploy.validate.scope import all_environments, environments_for_files


def validate(session: Session, env_names: list[str], *, ref: str | None = None,
             ignore_missing_schemas: bool = False, skip_kinds: tuple[str, ...] = (),
             schema_locations: tuple[str, ...] = (), cluster: bool = False,
             files: list[str] | None = None) -> ValidationReport:
    """Validate `env_names` (all when empty); with `files`, the environments those files
    belong to (pre-commit's changed files); with `cluster`, each environment's cluster is
    read for its version, CRDs and namespaces."""
    bad = [kind for kind in skip_kinds if not SKIP_KIND.fullmatch(kind)]
    if bad:
        raise SettingsError(f"--skip-kind {bad[0]}: not a kind",
                            ["give Kind or apiVersion/Kind, e.g. ServiceMonitor or "
                             "monitoring.coreos.com/v1/ServiceMonitor"])
    options = ValidateOptions(ignore_missing_schemas=ignore_missing_schemas,
                              skip_kinds=skip_kinds, schema_locations=schema_locations)
    tree = session.source(ref).tree
    if files is not None:
        with reading(tree):
            env_names = environments_for_files(tree, files)
        if not env_names:
            session.events.note("no environment has a changed file: nothing to validate")
            return ValidationReport([])
    live: dict[str, LiveCluster] = {}
    if cluster:
        names = env_names or all_environments(tree)
        for name in names:
            live[name] = _read(session, name, ref)
    return check_pins(tree, validate_tree(tree, env_names, options, live))  # pinImages


def _read(session: Session, name: str, ref: str | None) -> LiveCluster:
    env = load_environment(session.source(ref).tree, name)
    connection = session.connect(env, ClusterOptions())
    session.events.note(f"{name}: reading the CRDs and version of {connection.target.server}")
    return read_cluster(connection.client, connection.target.server)


def pull(session: Session, env_name: str, options: ClusterOptions, to: Path | None = None
         ) -> PulledSchemas:
    """The JSON schema of every kind and version the CRDs of the environment's cluster
    serve, written in the catalog layout into the local cache (or `to`), where `validate`
    finds them offline."""
    env = load_environment(session.work_tree, env_name)
    connection = session.connect(env, options)
    cluster = read_cluster(connection.client, connection.target.server)
    kinds = [kind for crd in cluster.crds
             for kind in crds.custom_kinds(crd, f"the cluster ({cluster.server})")]
    folder = to if to is not None else catalog.cache_dir()
    try:
        catalog.write_schemas(folder, ((kind.catalog_path, kind.schema) for kind in kinds))
    except OSError as error:
        raise GitdeployError(f"cannot write the schemas into {folder}: {error}",
                             ["pass another folder with --to, or set "
                              f"{catalog.CACHE_ENV}"]) from None
    return PulledSchemas(environment=env_name, server=cluster.server, folder=str(folder),
                         files=sorted(kind.catalog_path for kind in kinds))
