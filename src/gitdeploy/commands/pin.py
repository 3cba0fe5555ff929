"""`pin`: every image tag of an environment resolved to its digest through its registry, written
to the environment's lock file in the work tree (docs/pinning.md)."""

from __future__ import annotations

from gitdeploy.commands.session import Session
from gitdeploy.config.environments import load_environment
from gitdeploy.config.imagelock import lock_path, lock_text, read_lock
from gitdeploy.config.sources import reading
from gitdeploy.pin.images import resolve
from gitdeploy.registry.client import RegistryClient
from gitdeploy.registry.credentials import load_auths
from gitdeploy.release_results import PinReport
from gitdeploy.render.environment import render_environment


def pin(session: Session, env_name: str, *, timeout: float = 30.0) -> PinReport:
    tree = session.work_tree
    env = load_environment(tree, env_name)
    with reading(tree):
        # the images as the files write them, not as an existing lock file pins them
        manifests = render_environment(tree, env, decrypt=False).manifests
    client = RegistryClient(load_auths(), log=session.events.log, timeout=timeout)
    report, images = resolve(env, manifests, read_lock(tree, env), client.digest)
    path = session.repo_root / lock_path(env)
    path.write_text(lock_text(env, images), encoding="utf-8")
    return report
