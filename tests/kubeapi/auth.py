"""Who a request comes from and what RBAC lets them do, as the recorded server had it: bearer
tokens of two users, `admin` (in `system:masters`, so allowed everything) and `limited` (no
role bindings: only what every authenticated user may do). Their uids and groups are what the
server's SelfSubjectReview said (rbac-forbidden.jsonl#18,
e2e-a-held-lock-refuses-and-unlock-clears-it.jsonl#36).
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.kubeapi.errors import ApiError

AUTHENTICATED = "system:authenticated"
MASTERS = "system:masters"


@dataclass(frozen=True)
class User:
    name: str
    uid: str
    groups: tuple[str, ...] = (AUTHENTICATED,)

    def info(self) -> dict[str, object]:
        """`userInfo` of a SelfSubjectReview."""
        return {"username": self.name, "uid": self.uid, "groups": list(self.groups)}

    @property
    def privileged(self) -> bool:
        return MASTERS in self.groups


KNOWN_USERS: dict[str, User] = {
    "admin": User("admin", "admin-uid", (MASTERS, AUTHENTICATED)),
    "limited": User("limited", "limited-uid"),
}


def user_named(name: str, users: dict[str, User] | None = None) -> User:
    """The user behind a token's user name; one the tests made up has no role bindings."""
    return (users or KNOWN_USERS).get(name) or User(name, f"{name}-uid")


# What the default cluster roles bound to system:authenticated allow (system:basic-user,
# system:discovery, system:public-info-viewer): reviews of oneself, and discovery.
_SELF_REVIEWS = {
    ("authentication.k8s.io", "selfsubjectreviews"),
    ("authorization.k8s.io", "selfsubjectaccessreviews"),
    ("authorization.k8s.io", "selfsubjectrulesreviews"),
}


@dataclass(frozen=True)
class Attributes:
    """What a resource request asks to do (the authorizer's attributes)."""

    verb: str
    group: str
    resource: str
    subresource: str = ""
    namespace: str = ""
    name: str = ""


def allowed(user: User, attributes: Attributes,
            forbidden: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset()) -> bool:
    """RBAC's answer; `forbidden` holds (verb, resource) pairs the tests deny everyone."""
    if (attributes.verb, attributes.resource) in forbidden:
        return False
    if user.privileged:
        return True
    return (attributes.verb == "create" and not attributes.subresource
            and (attributes.group, attributes.resource) in _SELF_REVIEWS)


_DISCOVERY_URLS = ("/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
                   "/openapi/*", "/readyz", "/version", "/version/")


def rules(user: User) -> dict[str, list[dict[str, list[str]]]]:
    """A SelfSubjectRulesReview's rules: everything for system:masters, else the default
    roles' reviews of oneself and discovery."""
    if user.privileged:
        return {"resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}]}
    by_group: dict[str, list[str]] = {}
    for group, resource in sorted(_SELF_REVIEWS):
        by_group.setdefault(group, []).append(resource)
    return {"resourceRules": [{"verbs": ["create"], "apiGroups": [group],
                               "resources": resources} for group, resources in by_group.items()],
            "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": list(_DISCOVERY_URLS)}]}


def forbidden(user: User, attributes: Attributes) -> ApiError:
    """The 403 as the RBAC authorizer words it (rbac-forbidden.jsonl#3-#14): the object (or
    the resource for a request without a name), the verb, resource and group, and where."""
    a = attributes
    qualified = f"{a.resource}.{a.group}" if a.group else a.resource
    subject = f'{qualified} "{a.name}"' if a.name else qualified
    resource = f"{a.resource}/{a.subresource}" if a.subresource else a.resource
    where = f' in the namespace "{a.namespace}"' if a.namespace else " at the cluster scope"
    message = (f'{subject} is forbidden: User "{user.name}" cannot {a.verb} resource '
               f'"{resource}" in API group "{a.group}"{where}')
    details: dict[str, object] = {}
    if a.name:
        details["name"] = a.name
    if a.group:
        details["group"] = a.group
    details["kind"] = a.resource
    return ApiError(403, "Forbidden", message, details)
