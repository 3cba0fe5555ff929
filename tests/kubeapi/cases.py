"""What a real kube-apiserver v1.36.2 answers where gitdeploy depends on it, written down from
the recording in ../shared/apiserver-traces (each case names the pairs it comes from), so that
test_cases.py checks the test API server against it without the recording.

Bodies are in the recording's normalised form (`<uid>`, `<resourceVersion>`, `<time>`,
`-<run>` ...); the replay and comparison are those of conformance.py. A step without an
`answer` is checked for its status code only; `check=False` steps only set the scene.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.kubeapi.conformance import Exchange

Json = Any
APPLY = "application/apply-patch+yaml"
NS = "fid-cases-<run>"
CM_PATH = f"/api/v1/namespaces/{NS}/configmaps"
DEPLOY_PATH = f"/apis/apps/v1/namespaces/{NS}/deployments"
LEASE_PATH = f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases"


@dataclass(frozen=True)
class Step:
    method: str
    path: str
    body: Json = None
    query: dict[str, str | list[str]] = field(default_factory=dict)
    content_type: str | None = None
    status: int = 200
    answer: Json = None  # the real server's body, normalised; None: only the status counts
    warnings: tuple[str, ...] = ()
    check: bool = True
    name: str = ""  # the step name, as the recording's (`stale` picks an older version)
    unchanged: tuple[str, ...] = ()  # dotted paths the same as in the previous step's answer
    accept: str = "application/json"

    def exchange(self, case: str, seq: int) -> Exchange:
        headers = {"Accept": self.accept}
        if self.content_type:
            headers["Content-Type"] = self.content_type
        return Exchange(scenario=case, step=self.name or f"step-{seq}", seq=seq, client="curl",
                        method=self.method, path=self.path, query=self.query,
                        request_headers=headers, accept_upstream=None, request_body=self.body,
                        status=self.status, content_type="application/json",
                        warnings=self.warnings, response_body=self.answer)


@dataclass(frozen=True)
class Case:
    name: str
    source: str  # the recorded pairs this is written from
    steps: tuple[Step, ...]
    xfail: str | None = None  # why the test server does not answer so yet
    # The recorded cluster (no nodes, no scheduler: controllers.py) rather than the test
    # server's default one-node world, for cases about what controllers write.
    recorded_world: bool = False


# ---- building blocks ------------------------------------------------------------------------
def namespace_step() -> Step:
    return Step("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                               "metadata": {"name": NS}},
                content_type="application/json", status=201, check=False)


def apply(path: str, body: Json, *, status: int = 200, answer: Json = None,
          dry_run: bool = False, manager: str = "gitdeploy", force: bool = True,
          check: bool = True, unchanged: tuple[str, ...] = ()) -> Step:
    query: dict[str, str | list[str]] = {"fieldManager": manager}
    if force:
        query["force"] = "true"
    if dry_run:
        query["dryRun"] = "All"
    return Step("PATCH", path, body, query, APPLY, status, answer, check=check,
                unchanged=unchanged)


def configmap(name: str, data: dict[str, str] | None = None, **metadata: Json) -> Json:
    body: dict[str, Json] = {"apiVersion": "v1", "kind": "ConfigMap",
                             "metadata": {"name": name, "namespace": NS, **metadata}}
    if data is not None:
        body["data"] = data
    return body


def entry(manager: str, operation: str, fields: Json, api_version: str = "v1",
          time: bool = True) -> Json:
    """A managedFields entry as the real server writes it."""
    out: dict[str, Json] = {"manager": manager, "operation": operation,
                            "apiVersion": api_version}
    if time:
        out["time"] = "<time>"
    out.update({"fieldsType": "FieldsV1", "fieldsV1": fields})
    return out


def stored(kind: str, name: str, *, managed: list[Json], rest: Json,
           api_version: str = "v1", version: bool = True, **metadata: Json) -> Json:
    """An object as the server answers it: server-set metadata, then the rest."""
    meta: dict[str, Json] = {"name": name, "namespace": NS, "uid": "<uid>"}
    if version:
        meta["resourceVersion"] = "<resourceVersion>"
    meta.update({"creationTimestamp": "<time>", **metadata, "managedFields": managed})
    return {"kind": kind, "apiVersion": api_version, "metadata": meta, **rest}


def status_failure(code: int, reason: str | None, message: str,
                   details: Json = None) -> Json:
    body: dict[str, Json] = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                             "status": "Failure", "message": message}
    if reason is not None:
        body["reason"] = reason
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


def status_success(name: str, kind: str, group: str = "") -> Json:
    details: dict[str, str] = {"name": name}
    if group:
        details["group"] = group
    details.update({"kind": kind, "uid": "<uid>"})
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": details}


def delete(path: str, *, options: Json = None, query: dict[str, str | list[str]] | None = None,
           status: int = 200, answer: Json = None, name: str = "") -> Step:
    return Step("DELETE", path, options, query or {},
                "application/json" if options is not None else None, status, answer,
                name=name)


def get(path: str, *, status: int = 200, answer: Json = None,
        query: dict[str, str | list[str]] | None = None) -> Step:
    return Step("GET", path, None, query or {}, None, status, answer)


# ---- objects used by several cases ----------------------------------------------------------
A_DATA: Json = {"f:data": {"f:a": {}}}
APPLIED_A = [entry("gitdeploy", "Apply", A_DATA)]


def doomed(name: str, finalizer: str) -> Json:
    """A ConfigMap `{a: "1"}` applied by gitdeploy, as a deletion that waits for the garbage
    collector answers it."""
    return stored("ConfigMap", name, managed=APPLIED_A, rest={"data": {"a": "1"}},
                  deletionTimestamp="<time>", deletionGracePeriodSeconds=0,
                  finalizers=[finalizer])


WEB_DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": NS, "labels": {"app": "web"}},
    "spec": {"selector": {"matchLabels": {"app": "web"}},
             "template": {"metadata": {"labels": {"app": "web"}},
                          "spec": {"containers": [{"name": "web", "image": "nginx",
                                                   "ports": [{"containerPort": 8080}]}]}}},
}
WEB_DEPLOYMENT_DRY_RUN = stored(
    "Deployment", "web", api_version="apps/v1", version=False, generation=1,
    labels={"app": "web"},
    managed=[entry("gitdeploy", "Apply", {
        "f:metadata": {"f:labels": {"f:app": {}}},
        "f:spec": {"f:selector": {}, "f:template": {
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {"f:containers": {'k:{"name":"web"}': {
                ".": {}, "f:image": {}, "f:name": {},
                "f:ports": {'k:{"containerPort":8080,"protocol":"TCP"}': {
                    ".": {}, "f:containerPort": {}}}}}}}}}, api_version="apps/v1")],
    rest={
        "spec": {
            "replicas": 1, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                "containers": [{"name": "web", "image": "nginx",
                                "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                                "resources": {}, "terminationMessagePath": "/dev/termination-log",
                                "terminationMessagePolicy": "File", "imagePullPolicy": "Always"}],
                "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
                "dnsPolicy": "ClusterFirst", "securityContext": {},
                "schedulerName": "default-scheduler"}},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
        "status": {},
    })
PRE_DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "pre", "namespace": NS},
    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "pre"}},
             "template": {"metadata": {"labels": {"app": "pre"}},
                          "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}},
}
LEASE: Json = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
         "metadata": {"name": "gitdeploy-lock-e2e"},
         "spec": {"holderIdentity": "alice@laptop pid 7", "leaseDurationSeconds": 60,
                  "acquireTime": "2026-01-01T00:00:00.000000Z",
                  "renewTime": "2026-01-01T00:00:00.000000Z", "leaseTransitions": 0}}
LEASE_MANAGED = [entry("curl", "Update", {"f:spec": {
    "f:acquireTime": {}, "f:holderIdentity": {}, "f:leaseDurationSeconds": {},
    "f:leaseTransitions": {}, "f:renewTime": {}}}, api_version="coordination.k8s.io/v1")]


def lease(holder: str, renew: str, transitions: int) -> Json:
    body = {**LEASE, "metadata": {"name": "gitdeploy-lock-e2e",
                                  "resourceVersion": "<resourceVersion>"}}
    body["spec"] = {**LEASE["spec"], "holderIdentity": holder, "renewTime": renew,
                    "leaseTransitions": transitions}
    return body


def lease_answer(holder: str, renew: str, transitions: int) -> Json:
    spec = {**LEASE["spec"], "holderIdentity": holder, "renewTime": renew,
            "leaseTransitions": transitions}
    return stored("Lease", "gitdeploy-lock-e2e", api_version="coordination.k8s.io/v1",
                  managed=LEASE_MANAGED, rest={"spec": spec})


REMOVAL_LABELS: Json = {"f:metadata": {"f:labels": {"f:team": {}, "f:tier": {}}}}
CONFLICT = 'Apply failed with 1 conflict: conflict with "alice": .data.LOG_LEVEL'

MIGRATE_JOB: Json = {
    "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate", "namespace": NS},
    "spec": {"template": {"spec": {"restartPolicy": "Never",
                                   "containers": [{"name": "m", "image": "busybox:1.36"}]}}}}
JOB_LABELS: Json = {"batch.kubernetes.io/controller-uid": "<uid>",
                    "batch.kubernetes.io/job-name": "migrate", "controller-uid": "<uid>",
                    "job-name": "migrate"}
DEFAULTED_CONTAINER: Json = {"resources": {}, "terminationMessagePath": "/dev/termination-log",
                             "terminationMessagePolicy": "File",
                             "imagePullPolicy": "IfNotPresent"}
DEFAULTED_POD_SPEC: Json = {"terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
                            "securityContext": {}, "schedulerName": "default-scheduler"}
# immutable-fields.jsonl#11: the new pod spec as the internal core.PodSpec prints in JSON.
JOB_TEMPLATE_IMMUTABLE = (
    'Invalid value: {"Volumes":null,"InitContainers":null,"Containers":[{"Name":"m",'
    '"Image":"busybox:1.37","Command":null,"Args":null,"WorkingDir":"","Ports":null,'
    '"EnvFrom":null,"Env":null,"Resources":{"Limits":null,"Requests":null,"Claims":null},'
    '"ResizePolicy":null,"RestartPolicy":null,"RestartPolicyRules":null,"VolumeMounts":null,'
    '"VolumeDevices":null,"LivenessProbe":null,"ReadinessProbe":null,"StartupProbe":null,'
    '"Lifecycle":null,"TerminationMessagePath":"/dev/termination-log",'
    '"TerminationMessagePolicy":"File","ImagePullPolicy":"IfNotPresent",'
    '"SecurityContext":null,"Stdin":false,"StdinOnce":false,"TTY":false}],'
    '"EphemeralContainers":null,"RestartPolicy":"Never","TerminationGracePeriodSeconds":30,'
    '"ActiveDeadlineSeconds":null,"DNSPolicy":"ClusterFirst","NodeSelector":null,'
    '"ServiceAccountName":"","AutomountServiceAccountToken":null,"NodeName":"",'
    '"SecurityContext":{"HostNetwork":false,"HostPID":false,"HostIPC":false,'
    '"ShareProcessNamespace":null,"HostUsers":null,"SELinuxOptions":null,'
    '"WindowsOptions":null,"RunAsUser":null,"RunAsGroup":null,"RunAsNonRoot":null,'
    '"SupplementalGroups":null,"SupplementalGroupsPolicy":null,"FSGroup":null,'
    '"FSGroupChangePolicy":null,"Sysctls":null,"SeccompProfile":null,"AppArmorProfile":null,'
    '"SELinuxChangePolicy":null},"ImagePullSecrets":null,"Hostname":"","Subdomain":"",'
    '"SetHostnameAsFQDN":null,"Affinity":null,"SchedulerName":"default-scheduler",'
    '"Tolerations":null,"HostAliases":null,"PriorityClassName":"","Priority":null,'
    '"PreemptionPolicy":null,"DNSConfig":null,"ReadinessGates":null,"RuntimeClassName":null,'
    '"Overhead":null,"EnableServiceLinks":null,"TopologySpreadConstraints":null,"OS":null,'
    '"SchedulingGates":null,"ResourceClaims":null,"Resources":null,"HostnameOverride":null,'
    '"SchedulingGroup":null}: field is immutable')
CRD_NAME = "widgets.fid-<run>.example.com"
WIDGET_CRD: Json = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": CRD_NAME},
    "spec": {"group": "fid-<run>.example.com",
             "names": {"kind": "Widget", "plural": "widgets", "singular": "widget",
                       "listKind": "WidgetList"},
             "scope": "Namespaced",
             "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                 "openAPIV3Schema": {"type": "object", "properties": {"spec": {
                     "type": "object", "properties": {"size": {"type": "integer"}}}}}}}]}}
BAD_DEPLOYMENT: Json = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "Bad_Name", "namespace": NS},
    "spec": {"replicas": -1, "selector": {"matchLabels": {"app": "x"}},
             "template": {"metadata": {"labels": {"app": "y"}},
                          "spec": {"containers": [{"name": "c"}]}}}}
BAD_CAUSES = (
    ("metadata.name", "Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must "
     "consist of lower case alphanumeric characters, '-' or '.', and must start and end with "
     "an alphanumeric character (e.g. 'example.com', regex used for validation is "
     "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"),
    ("spec.replicas", "Invalid value: -1: must be greater than or equal to 0"),
    ("spec.template.metadata.labels",
     'Invalid value: {"app":"y"}: `selector` does not match template `labels`'),
    ("spec.template.spec.containers[0].image", "Required value"),
)

AGGREGATED_ACCEPT = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
                     "application/json;g=apidiscovery.k8s.io;v=v2beta1;"
                     "as=APIGroupDiscoveryList,application/json")
TABLE_COLUMNS: Json = [
    {"name": "Name", "type": "string", "format": "name", "description": (
        "Name must be unique within a namespace. Is required when creating resources, although "
        "some resources may allow a client to request the generation of an appropriate name "
        "automatically. Name is primarily intended for creation idempotence and configuration "
        "definition. Cannot be updated. More info: "
        "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"),
     "priority": 0},
    {"name": "Data", "type": "string", "format": "", "description": (
        "Data contains the configuration data. Each key must consist of alphanumeric "
        "characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the "
        "BinaryData field. The keys stored in Data must not overlap with the keys in the "
        "BinaryData field, this is enforced during validation process."), "priority": 0},
    {"name": "Age", "type": "string", "format": "", "description": (
        "CreationTimestamp is a timestamp representing the server time when this object was "
        "created. It is not guaranteed to be set in happens-before order across separate "
        "operations. Clients may not set this value. It is represented in RFC3339 form and is "
        "in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
        "https://git.k8s.io/community/contributors/devel/sig-architecture/"
        "api-conventions.md#metadata"), "priority": 0},
]
PROBE_EVENT: Json = {
    "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "web-probe.1"},
    "eventTime": "2026-01-01T00:00:00.000000Z", "reportingController": "default-scheduler",
    "reportingInstance": "default-scheduler-probe", "action": "Scheduling",
    "reason": "FailedScheduling",
    "regarding": {"kind": "Pod", "namespace": NS, "name": "web-probe", "apiVersion": "v1"},
    "note": "0/0 nodes are available: probe event written in the shape the scheduler uses.",
    "type": "Warning"}
PROBE_EVENT_MANAGED = entry("curl", "Update", {
    "f:action": {}, "f:eventTime": {}, "f:note": {}, "f:reason": {}, "f:regarding": {},
    "f:reportingController": {}, "f:reportingInstance": {}, "f:type": {}},
    api_version="events.k8s.io/v1")


def _workload(name: str, node_selector: dict[str, str] | None = None,
              ports: bool = False) -> Json:
    container: dict[str, Json] = {"name": "web", "image": "nginx:1.27"}
    if ports:
        container["ports"] = [{"containerPort": 8080}]
    pod_spec: dict[str, Json] = {"containers": [container]}
    if node_selector:
        pod_spec = {"nodeSelector": node_selector, **pod_spec}
    metadata: dict[str, Json] = {"name": name, "namespace": NS}
    if node_selector:
        metadata["labels"] = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata,
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec}}}


# unschedulable-workload.jsonl#2 and delete-options.jsonl#4
UNSCHEDULABLE_DEPLOYMENT = _workload("web", {"gitdeploy.io/no-such-node": "true"}, ports=True)
ORPHAN_DEPLOYMENT = _workload("orphan")
CONTROLLER_EVENT_FIELDS: Json = {
    "f:count": {}, "f:firstTimestamp": {}, "f:involvedObject": {}, "f:lastTimestamp": {},
    "f:message": {}, "f:reason": {}, "f:reportingComponent": {}, "f:source": {"f:component": {}},
    "f:type": {}}


def controller_event(about: str, kind: str, component: str, reason: str, note: str) -> Json:
    """A kube-controller-manager core v1 Event as events.k8s.io/v1 serves it
    (unschedulable-workload.jsonl#7)."""
    return {"metadata": {"name": f"{about}.<event-suffix>", "namespace": NS, "uid": "<uid>",
                         "resourceVersion": "<resourceVersion>", "creationTimestamp": "<time>",
                         "managedFields": [entry("kube-controller-manager", "Update",
                                                 CONTROLLER_EVENT_FIELDS)]},
            "eventTime": None, "reportingController": component, "reason": reason,
            "regarding": {"kind": kind, "namespace": NS, "name": about, "uid": "<uid>",
                          "apiVersion": "apps/v1", "resourceVersion": "<resourceVersion>"},
            "note": note, "type": "Normal", "deprecatedSource": {"component": component},
            "deprecatedFirstTimestamp": "<time>", "deprecatedLastTimestamp": "<time>",
            "deprecatedCount": 1}


ORPHAN_LABELS: Json = {"app": "orphan", "pod-template-hash": "79c6b67544"}
ORPHANED_REPLICA_SET: Json = {  # delete-options.jsonl#22
    "metadata": {
        "name": "orphan-79c6b67544", "namespace": NS, "uid": "<uid>",
        "resourceVersion": "<resourceVersion>", "generation": 1, "creationTimestamp": "<time>",
        "labels": ORPHAN_LABELS,
        "annotations": {"deployment.kubernetes.io/desired-replicas": "1",
                        "deployment.kubernetes.io/max-replicas": "2",
                        "deployment.kubernetes.io/revision": "1"},
        "managedFields": [
            entry("kube-controller-manager", "Update", {
                "f:metadata": {
                    "f:annotations": {".": {}, "f:deployment.kubernetes.io/desired-replicas": {},
                                      "f:deployment.kubernetes.io/max-replicas": {},
                                      "f:deployment.kubernetes.io/revision": {}},
                    "f:labels": {".": {}, "f:app": {}, "f:pod-template-hash": {}}},
                "f:spec": {"f:replicas": {}, "f:selector": {}, "f:template": {
                    "f:metadata": {"f:labels": {".": {}, "f:app": {}, "f:pod-template-hash": {}}},
                    "f:spec": {"f:containers": {'k:{"name":"web"}': {
                        ".": {}, "f:image": {}, "f:imagePullPolicy": {}, "f:name": {},
                        "f:resources": {}, "f:terminationMessagePath": {},
                        "f:terminationMessagePolicy": {}}},
                        "f:dnsPolicy": {}, "f:restartPolicy": {}, "f:schedulerName": {},
                        "f:securityContext": {}, "f:terminationGracePeriodSeconds": {}}}}},
                api_version="apps/v1"),
            {**entry("kube-controller-manager", "Update", {"f:status": {
                "f:fullyLabeledReplicas": {}, "f:observedGeneration": {}, "f:replicas": {},
                "f:terminatingReplicas": {}}}, api_version="apps/v1"),
             "subresource": "status"}]},
    "spec": {"replicas": 1, "selector": {"matchLabels": ORPHAN_LABELS},
             "template": {"metadata": {"labels": ORPHAN_LABELS}, "spec": {
                 "containers": [{**{"name": "web", "image": "nginx:1.27"},
                                 **DEFAULTED_CONTAINER}],
                 "restartPolicy": "Always", **DEFAULTED_POD_SPEC}}},
    "status": {"replicas": 1, "fullyLabeledReplicas": 1, "terminatingReplicas": 0,
               "observedGeneration": 1},
}

# ---- the cases ------------------------------------------------------------------------------
CASES: tuple[Case, ...] = (
    Case(
        "ssa-dry-run-of-a-new-object",
        "ssa-defaults.jsonl#2: defaults filled in, managedFields of the applied configuration "
        "only (no '.' for maps, '.' for list items by key), no resourceVersion, empty status",
        steps=(namespace_step(),
         apply(f"{DEPLOY_PATH}/web", WEB_DEPLOYMENT, dry_run=True, status=201,
               answer=WEB_DEPLOYMENT_DRY_RUN)),
    ),
    Case(
        "ssa-of-an-existing-object-with-co-owners",
        "ssa-field-removal.jsonl#2-#5: an applier that changes nothing gets an entry without "
        "time, an Update manager owns what it set, fields only the applier owned go away",
        steps=(namespace_step(),
         apply(f"{CM_PATH}/settings",
               configmap("settings", {"a": "1", "b": "2", "c": "3"},
                         labels={"team": "shop", "tier": "web"}), status=201, check=False),
         apply(f"{CM_PATH}/settings", configmap("settings", {"c": "3"}), manager="other",
               force=False, answer=stored(
                   "ConfigMap", "settings", labels={"team": "shop", "tier": "web"},
                   managed=[entry("other", "Apply", {"f:data": {"f:c": {}}}, time=False),
                            entry("gitdeploy", "Apply", {
                                "f:data": {"f:a": {}, "f:b": {}, "f:c": {}}, **REMOVAL_LABELS})],
                   rest={"data": {"a": "1", "b": "2", "c": "3"}})),
         Step("PATCH", f"{CM_PATH}/settings", {"data": {"d": "4"}},
              {"fieldManager": "kubectl-edit"}, "application/merge-patch+json",
              answer=stored(
                  "ConfigMap", "settings", labels={"team": "shop", "tier": "web"},
                  managed=[entry("other", "Apply", {"f:data": {"f:c": {}}}, time=False),
                           entry("gitdeploy", "Apply", {
                               "f:data": {"f:a": {}, "f:b": {}, "f:c": {}}, **REMOVAL_LABELS}),
                           entry("kubectl-edit", "Update", {"f:data": {"f:d": {}}})],
                  rest={"data": {"a": "1", "b": "2", "c": "3", "d": "4"}})),
         apply(f"{CM_PATH}/settings", configmap("settings", {"a": "1"}), dry_run=True,
               answer=stored(
                   "ConfigMap", "settings",
                   managed=[entry("other", "Apply", {"f:data": {"f:c": {}}}, time=False),
                            entry("gitdeploy", "Apply", A_DATA),
                            entry("kubectl-edit", "Update", {"f:data": {"f:d": {}}})],
                   rest={"data": {"a": "1", "c": "3", "d": "4"}}))),
    ),
    Case(
        "no-op-re-apply-keeps-version-and-time",
        "ssa-field-removal.jsonl#3 and ssa-defaults.jsonl#5: an apply that changes nothing "
        "writes nothing: resourceVersion and the applier's managedFields time stay",
        steps=(namespace_step(),
         apply(f"{CM_PATH}/same", configmap("same", {"a": "1"}), status=201,
               answer=stored("ConfigMap", "same", managed=APPLIED_A, rest={"data": {"a": "1"}})),
         apply(f"{CM_PATH}/same", configmap("same", {"a": "1"}),
               answer=stored("ConfigMap", "same", managed=APPLIED_A, rest={"data": {"a": "1"}}),
               unchanged=("metadata.resourceVersion", "metadata.managedFields.0.time"))),
    ),
    Case(
        "ssa-of-an-unknown-field-is-a-500",
        "ssa-unknown-field.jsonl#2: a field the schema does not declare fails the apply, with "
        "no reason, whatever fieldValidation says",
        steps=(namespace_step(),
         Step("PATCH", f"/api/v1/namespaces/{NS}/secrets/creds",
              {"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": "creds", "namespace": NS}, "type": "Opaque",
               "stringData": {"password": "hunter2"},
               "sops": {"version": "3.9.0", "mac": "ENC[AES256_GCM,data:abc]"}},
              {"fieldManager": "gitdeploy", "force": "true", "dryRun": "All",
               "fieldValidation": "Strict"}, APPLY, 500,
              status_failure(500, None, f"failed to create typed patch object ({NS}/creds; "
                                        "/v1, Kind=Secret): .sops: field not declared in "
                                        "schema"))),
    ),
    Case(
        "invalid-base64-in-secret-data",
        "secret-invalid-base64.jsonl#2 and #4: a 500 by server-side apply, a 400 by create",
        steps=(namespace_step(),
         apply(f"/api/v1/namespaces/{NS}/secrets/creds",
               {"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "creds", "namespace": NS}, "type": "Opaque",
                "data": {"password": "not base64!"}}, dry_run=True, status=500,
               answer=status_failure(
                   500, None, f"failed to convert new object ({NS}/creds; /v1, Kind=Secret) "
                   "to proper version: unable to convert unstructured object to /v1, "
                   "Kind=Secret: error decoding from json: illegal base64 data at input "
                   "byte 3")),
         Step("POST", f"/api/v1/namespaces/{NS}/secrets",
              {"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": "creds", "namespace": NS}, "type": "Opaque",
               "data": {"password": "not base64!"}}, {"dryRun": "All"}, "application/json",
              400, status_failure(400, "BadRequest", 'Secret in version "v1" cannot be '
                                  "handled as a Secret: illegal base64 data at input byte 3"))),
    ),
    Case(
        "service-cluster-ip-is-immutable",
        "immutable-fields.jsonl#2 and #3: changing spec.clusterIP by a forced apply is a 422",
        steps=(namespace_step(),
         apply(f"/api/v1/namespaces/{NS}/services/web",
               {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "web", "namespace": NS},
                "spec": {"clusterIP": "10.96.77.77", "selector": {"app": "web"},
                         "ports": [{"port": 80, "targetPort": 8080}]}}, status=201, check=False),
         apply(f"/api/v1/namespaces/{NS}/services/web",
               {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "web", "namespace": NS},
                "spec": {"clusterIP": "10.96.77.78", "selector": {"app": "web"},
                         "ports": [{"port": 80, "targetPort": 8080}]}}, dry_run=True,
               status=422, answer=status_failure(
                   422, "Invalid", 'Service "web" is invalid: spec.clusterIPs[0]: Invalid '
                   'value: ["10.96.77.78"]: may not change once set',
                   {"name": "web", "kind": "Service", "causes": [
                       {"reason": "FieldValueInvalid",
                        "message": 'Invalid value: ["10.96.77.78"]: may not change once set',
                        "field": "spec.clusterIPs[0]"}]}))),
    ),
    Case(
        "dry-run-delete-with-dry-run-in-the-body",
        "delete-dry-run.jsonl#26 and #27: DeleteOptions with dryRun and Foreground: the object "
        "as the deletion would leave it, and it stays",
        steps=(namespace_step(),
         apply(f"{CM_PATH}/doomed", configmap("doomed", {"a": "1"}), status=201, check=False),
         delete(f"{CM_PATH}/doomed",
                options={"kind": "DeleteOptions", "apiVersion": "v1", "dryRun": ["All"],
                         "propagationPolicy": "Foreground"},
                answer=doomed("doomed", "foregroundDeletion")),
         get(f"{CM_PATH}/doomed", answer=stored("ConfigMap", "doomed", managed=APPLIED_A,
                                                rest={"data": {"a": "1"}}))),
    ),
    Case(
        "dry-run-delete-in-the-query-without-a-body",
        "delete-dry-run.jsonl#11 and #12: dryRun=All in the query and no body: a Status, and "
        "the object stays",
        steps=(namespace_step(),
         apply(f"{CM_PATH}/kept", configmap("kept", {"a": "1"}), status=201, check=False),
         delete(f"{CM_PATH}/kept", query={"dryRun": "All"},
                answer=status_success("kept", "configmaps")),
         get(f"{CM_PATH}/kept", answer=stored("ConfigMap", "kept", managed=APPLIED_A,
                                              rest={"data": {"a": "1"}}))),
    ),
    Case(
        "dry-run-in-the-query-is-ignored-when-a-body-comes",
        "delete-dry-run.jsonl#14, #15 and #20: dryRun=All in the query but a DeleteOptions body "
        "without dryRun: the body's options count, the object is deleted",
        steps=(namespace_step(),
         apply(f"{CM_PATH}/gone", configmap("gone", {"a": "1"}), status=201, check=False),
         apply(f"{CM_PATH}/orphaned", configmap("orphaned", {"a": "1"}), status=201,
               check=False),
         delete(f"{CM_PATH}/gone", query={"dryRun": "All"},
                options={"kind": "DeleteOptions", "apiVersion": "v1",
                         "propagationPolicy": "Foreground"},
                answer=doomed("gone", "foregroundDeletion")),
         get(f"{CM_PATH}/gone", status=404, answer=status_failure(
             404, "NotFound", 'configmaps "gone" not found',
             {"name": "gone", "kind": "configmaps"})),
         delete(f"{CM_PATH}/orphaned", query={"dryRun": "All"},
                options={"kind": "DeleteOptions", "apiVersion": "v1",
                         "propagationPolicy": "Orphan"},
                answer=doomed("orphaned", "orphan"))),
    ),
    Case(
        "delete-background-answers-a-status",
        "delete-options.jsonl#11 and delete-dry-run.jsonl#17: Background: a Status with the "
        "deleted object's name, group, kind (resource) and uid",
        steps=(namespace_step(),
         apply(f"{CM_PATH}/plain", configmap("plain", {"a": "1"}), status=201, check=False),
         delete(f"{CM_PATH}/plain", options={"kind": "DeleteOptions", "apiVersion": "v1",
                                             "propagationPolicy": "Background"},
                answer=status_success("plain", "configmaps")),
         get(f"{CM_PATH}/plain", status=404)),
    ),
    Case(
        "delete-with-preconditions",
        "delete-options.jsonl#14-#17: a uid or resourceVersion that does not match is a 409; "
        "both matching (as read after the deployment controller wrote its status) delete",
        steps=(namespace_step(),
         apply(f"{DEPLOY_PATH}/pre", PRE_DEPLOYMENT, status=201, check=False),
         get(f"{DEPLOY_PATH}/pre"),
         delete(f"{DEPLOY_PATH}/pre", status=409,
                options={"kind": "DeleteOptions", "apiVersion": "v1",
                         "propagationPolicy": "Background",
                         "preconditions": {"uid": "00000000-0000-0000-0000-000000000000"}},
                answer=status_failure(
                    409, "Conflict", 'Operation cannot be fulfilled on Deployment.apps "pre": '
                    "the UID in the precondition (00000000-0000-0000-0000-000000000000) does "
                    "not match the UID in record (<uid>). The object might have been deleted "
                    "and then recreated", {"name": "pre", "group": "apps", "kind": "Deployment"})),
         delete(f"{DEPLOY_PATH}/pre", status=409,
                options={"kind": "DeleteOptions", "apiVersion": "v1",
                         "propagationPolicy": "Background",
                         "preconditions": {"resourceVersion": "1"}},
                answer=status_failure(
                    409, "Conflict", 'Operation cannot be fulfilled on Deployment.apps "pre": '
                    "the ResourceVersion in the precondition (1) does not match the "
                    "ResourceVersion in record (<resourceVersion>). The object might have been "
                    "modified", {"name": "pre", "group": "apps", "kind": "Deployment"})),
         delete(f"{DEPLOY_PATH}/pre",
                options={"kind": "DeleteOptions", "apiVersion": "v1",
                         "propagationPolicy": "Background",
                         "preconditions": {"uid": "<uid>",
                                           "resourceVersion": "<resourceVersion>"}},
                answer=status_success("pre", "deployments", "apps"))),
    ),
    Case(
        "list-items-have-no-kind-or-api-version",
        "list-selectors.jsonl#2 and #44: Update managedFields with '.' for the maps the create "
        "made; LIST items without kind and apiVersion",
        steps=(namespace_step(),
         Step("POST", CM_PATH, {"apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": {"name": "a", "labels": {"app": "web"}},
                                "data": {"k": "a"}}, content_type="application/json",
              status=201, answer=stored(
                  "ConfigMap", "a", labels={"app": "web"},
                  managed=[entry("curl", "Update", {"f:data": {".": {}, "f:k": {}},
                                                    "f:metadata": {"f:labels": {
                                                        ".": {}, "f:app": {}}}})],
                  rest={"data": {"k": "a"}})),
         get(CM_PATH, query={"labelSelector": "app=web"}, answer={
             "kind": "ConfigMapList", "apiVersion": "v1",
             "metadata": {"resourceVersion": "<resourceVersion>"},
             "items": [{key: value for key, value in stored(
                 "ConfigMap", "a", labels={"app": "web"},
                 managed=[entry("curl", "Update", {"f:data": {".": {}, "f:k": {}},
                                                   "f:metadata": {"f:labels": {
                                                       ".": {}, "f:app": {}}}})],
                 rest={"data": {"k": "a"}}).items() if key not in ("kind", "apiVersion")}]})),
    ),
    Case(
        "create-dry-run-has-no-resource-version",
        "ssa-unknown-field.jsonl#11: a create dry run answers the object without a "
        "resourceVersion; the creator owns the defaulted type",
        steps=(namespace_step(),
         Step("POST", f"/api/v1/namespaces/{NS}/secrets",
              {"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": "creds2", "namespace": NS}, "type": "Opaque",
               "stringData": {"password": "x"}}, {"dryRun": "All"}, "application/json", 201,
              stored("Secret", "creds2", version=False,
                     managed=[entry("curl", "Update", {"f:data": {".": {}, "f:password": {}},
                                                       "f:type": {}})],
                     rest={"data": {"password": "eA=="}, "type": "Opaque"}))),
    ),
    Case(
        "ssa-dry-run-into-a-missing-namespace",
        "ssa-missing-namespace.jsonl#1: 404 for the namespace, dry run or not",
        steps=(apply("/api/v1/namespaces/fid-missing-<run>/configmaps/settings",
               {**configmap("settings", {"a": "1"}),
                "metadata": {"name": "settings", "namespace": "fid-missing-<run>"}},
               dry_run=True, status=404, answer=status_failure(
                   404, "NotFound", 'namespaces "fid-missing-<run>" not found',
                   {"name": "fid-missing-<run>", "kind": "namespaces"})),),
    ),
    Case(
        "unknown-api-group-is-a-plain-text-404",
        "discovery.jsonl#12 and crd-establish-and-cr.jsonl#3: no Status, the mux's text",
        steps=(get("/apis/no-such-group.example.com/v1", status=404,
             answer={"<text>": "404 page not found\n"}),),
    ),
    Case(
        "lease-update-with-a-stale-resource-version",
        "lease-conflict.jsonl#2, #5 and #6: PUT with the current resourceVersion succeeds, "
        "with an older one is a 409 Conflict",
        steps=(namespace_step(),
         Step("POST", LEASE_PATH, LEASE, content_type="application/json", status=201,
              answer=lease_answer("alice@laptop pid 7", "2026-01-01T00:00:00.000000Z", 0)),
         Step("PUT", f"{LEASE_PATH}/gitdeploy-lock-e2e",
              lease("bob", "2026-01-01T00:01:00.000000Z", 1), content_type="application/json",
              answer=lease_answer("bob", "2026-01-01T00:01:00.000000Z", 1)),
         Step("PUT", f"{LEASE_PATH}/gitdeploy-lock-e2e",
              lease("carol", "2026-01-01T00:01:00.000000Z", 1), content_type="application/json",
              status=409, name="update-stale-rv", answer=status_failure(
                  409, "Conflict", 'Operation cannot be fulfilled on leases.coordination.k8s.io '
                  '"gitdeploy-lock-e2e": the object has been modified; please apply your '
                  "changes to the latest version and try again",
                  {"name": "gitdeploy-lock-e2e", "group": "coordination.k8s.io",
                   "kind": "leases"}))),
    ),
    Case(
        "ssa-conflict-with-another-applier",
        "ssa-conflict-force.jsonl#2 and #4: 409 without force; an Apply manager is named "
        "without its API version; the details carry the causes only",
        steps=(namespace_step(),
         apply(f"{CM_PATH}/settings", configmap("settings", {"LOG_LEVEL": "info"}),
               manager="alice", force=False, status=201, check=False),
         apply(f"{CM_PATH}/settings", configmap("settings", {"LOG_LEVEL": "debug"}),
               force=False, status=409, answer=status_failure(
                   409, "Conflict", CONFLICT, {"causes": [
                       {"reason": "FieldManagerConflict", "message": 'conflict with "alice"',
                        "field": ".data.LOG_LEVEL"}]}))),
    ),
    Case(
        "delete-of-a-namespace-answers-it-terminating",
        "namespace-terminating.jsonl#3: the namespace, with deletionTimestamp and phase "
        "Terminating",
        steps=(namespace_step(),
         delete(f"/api/v1/namespaces/{NS}", answer={
             "kind": "Namespace", "apiVersion": "v1",
             "metadata": {"name": NS, "uid": "<uid>", "resourceVersion": "<resourceVersion>",
                          "creationTimestamp": "<time>", "deletionTimestamp": "<time>",
                          "labels": {"kubernetes.io/metadata.name": NS},
                          "managedFields": [entry("curl", "Update", {"f:metadata": {
                              "f:labels": {".": {}, "f:kubernetes.io/metadata.name": {}}}})]},
             "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Terminating"}}),),
    ),
    Case(
        "version-is-v1-36-2",
        "discovery.jsonl#1",
        steps=(get("/version", answer={
            "major": "1", "minor": "36", "emulationMajor": "1", "emulationMinor": "36",
            "minCompatibilityMajor": "1", "minCompatibilityMinor": "35",
            "gitVersion": "v1.36.2", "gitCommit": "<sha>", "gitTreeState": "clean",
            "buildDate": "<time>", "goVersion": "go1.26.4", "compiler": "gc",
            "platform": "linux/amd64"}),),
    ),
    Case(
        "label-selector-syntax-errors",
        "list-selectors.jsonl#14-#17: labels.Parse's messages, some inside 'unable to parse "
        "requirement'",
        steps=(namespace_step(), *(
            get(CM_PATH, query={"labelSelector": selector}, status=400,
                answer=status_failure(400, "BadRequest", message))
            for selector, message in (
                ("app=we b", "found 'b', expected: ',' or 'end of string'"),
                ("app in prod", "unable to parse requirement: found 'prod' expected: '('"),
                ("=web", "found '=', expected: !, identifier, or 'end of string'"),
                ("app=web,", "found '', expected: identifier after ','")))),
    ),
    Case(
        "field-selectors-per-kind",
        "list-selectors.jsonl#21, #25, #29, #32, #39, #41: the default field label conversion "
        "and the kinds' own; terms are sorted before they are read",
        steps=(namespace_step(),
         get(CM_PATH, query={"fieldSelector": "data.k=a"}, status=400, answer=status_failure(
             400, "BadRequest", '"data.k" is not a known field selector: only '
             '"metadata.name", "metadata.namespace"')),
         get(CM_PATH, query={"fieldSelector": "metadata.name in (a,b)"}, status=400,
             answer=status_failure(400, "BadRequest", "invalid selector: 'metadata.name in "
                                   "(a,b)'; can't understand 'b)'")),
         get(f"/api/v1/namespaces/{NS}/events", query={"fieldSelector": "count=1"},
             status=400, answer=status_failure(400, "BadRequest",
                                               "field label not supported: count")),
         get(f"/api/v1/namespaces/{NS}/secrets", query={"fieldSelector": "data.x=1"},
             status=400, answer=status_failure(400, "BadRequest",
                                               "field label not supported: data.x")),
         get(f"/api/v1/namespaces/{NS}/pods", query={"fieldSelector": "status.phase=Pending"},
             answer={"kind": "PodList", "apiVersion": "v1",
                     "metadata": {"resourceVersion": "<resourceVersion>"}, "items": []}),
         get(f"/api/v1/namespaces/{NS}/secrets", query={"fieldSelector": "type=Opaque"},
             answer={"kind": "SecretList", "apiVersion": "v1",
                     "metadata": {"resourceVersion": "<resourceVersion>"}, "items": []})),
    ),
    Case(
        "list-limit-answers-a-continue-token-and-the-remaining-count",
        "list-selectors.jsonl#2-#5 and #45: five ConfigMaps (kube-root-ca.crt among them), "
        "limit=2: the first two by name, a continue token, remainingItemCount 3",
        steps=(namespace_step(), *(
            Step("POST", CM_PATH, {"apiVersion": "v1", "kind": "ConfigMap",
                                   "metadata": {"name": name, "labels": labels},
                                   "data": {"k": name}}, content_type="application/json",
                 status=201, check=False)
            for name, labels in (("a", {"app": "web", "env": "prod"}),
                                 ("b", {"app": "web", "env": "dev"}),
                                 ("c", {"app": "db", "env": "prod"}), ("d", {}))),
         get(CM_PATH, query={"limit": "2"}, answer={
             "kind": "ConfigMapList", "apiVersion": "v1",
             "metadata": {"resourceVersion": "<resourceVersion>", "continue": "<continue>",
                          "remainingItemCount": 3},
             "items": [{key: value for key, value in stored(
                 "ConfigMap", name, labels={"app": "web", "env": env},
                 managed=[entry("curl", "Update", {"f:data": {".": {}, "f:k": {}},
                                                   "f:metadata": {"f:labels": {
                                                       ".": {}, "f:app": {}, "f:env": {}}}})],
                 rest={"data": {"k": name}}).items() if key not in ("kind", "apiVersion")}
                 for name, env in (("a", "prod"), ("b", "dev"))]})),
    ),
    Case(
        "lease-put-without-a-usable-resource-version-or-name",
        "lease-conflict.jsonl#7-#10: no resourceVersion is a 422 for a Lease, a non-numeric one "
        "a 500 without reason, another name than the URL's a 400; a PUT to a missing Lease "
        "creates it",
        steps=(namespace_step(),
         Step("POST", LEASE_PATH, LEASE, content_type="application/json", status=201,
              check=False),
         Step("PUT", f"{LEASE_PATH}/gitdeploy-lock-e2e",
              {**LEASE, "spec": {**LEASE["spec"], "holderIdentity": "dave"}},
              content_type="application/json", status=422, answer=status_failure(
                  422, "Invalid", 'leases.coordination.k8s.io "gitdeploy-lock-e2e" is invalid: '
                  "metadata.resourceVersion: Invalid value: 0: must be specified for an update",
                  {"name": "gitdeploy-lock-e2e", "group": "coordination.k8s.io",
                   "kind": "leases", "causes": [
                       {"reason": "FieldValueInvalid",
                        "message": "Invalid value: 0: must be specified for an update",
                        "field": "metadata.resourceVersion"}]})),
         Step("PUT", f"{LEASE_PATH}/gitdeploy-lock-e2e",
              {**LEASE, "metadata": {"name": "gitdeploy-lock-e2e", "resourceVersion": "abc"}},
              content_type="application/json", status=500, answer=status_failure(
                  500, None, 'strconv.ParseUint: parsing "abc": invalid syntax')),
         Step("PUT", f"{LEASE_PATH}/other", LEASE, content_type="application/json",
              status=400, answer=status_failure(
                  400, "BadRequest", "the name of the object (gitdeploy-lock-e2e) does not "
                  "match the name on the URL (other)")),
         Step("PUT", f"{LEASE_PATH}/missing",
              {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
               "metadata": {"name": "missing"}, "spec": {"holderIdentity": "x"}},
              content_type="application/json", status=201, answer=stored(
                  "Lease", "missing", api_version="coordination.k8s.io/v1",
                  managed=[entry("curl", "Update", {"f:spec": {"f:holderIdentity": {}}},
                                 api_version="coordination.k8s.io/v1")],
                  rest={"spec": {"holderIdentity": "x"}}))),
    ),
    Case(
        "stale-merge-patch-and-failing-json-patch-test",
        "lease-conflict.jsonl#11-#14: a merge patch carrying an older resourceVersion is a "
        "409; a JSON patch whose test op fails is a 422 that says nothing more; one that "
        "holds applies",
        steps=(namespace_step(),
         Step("POST", LEASE_PATH, LEASE, content_type="application/json", status=201,
              check=False),
         Step("PUT", f"{LEASE_PATH}/gitdeploy-lock-e2e",
              lease("bob", "2026-01-01T00:01:00.000000Z", 1), content_type="application/json",
              check=False),
         Step("PATCH", f"{LEASE_PATH}/gitdeploy-lock-e2e",
              {"metadata": {"resourceVersion": "<resourceVersion>"},
               "spec": {"holderIdentity": "grace"}}, content_type="application/merge-patch+json",
              status=409, name="merge-patch-stale-rv", answer=status_failure(
                  409, "Conflict", 'Operation cannot be fulfilled on leases.coordination.k8s.io '
                  '"gitdeploy-lock-e2e": the object has been modified; please apply your '
                  "changes to the latest version and try again",
                  {"name": "gitdeploy-lock-e2e", "group": "coordination.k8s.io",
                   "kind": "leases"})),
         Step("PATCH", f"{LEASE_PATH}/gitdeploy-lock-e2e",
              [{"op": "test", "path": "/spec/holderIdentity", "value": "nobody"},
               {"op": "replace", "path": "/spec/holderIdentity", "value": "heidi"}],
              content_type="application/json-patch+json", status=422, answer=status_failure(
                  422, "Invalid", "the server rejected our request due to an error in our "
                  "request", {})),
         Step("PATCH", f"{LEASE_PATH}/gitdeploy-lock-e2e",
              [{"op": "add", "path": "/spec/holderIdentity", "value": "ivan"}],
              content_type="application/json-patch+json",
              answer=lease_answer("ivan", "2026-01-01T00:01:00.000000Z", 1))),
    ),
    Case(
        "patch-content-types-and-options",
        "patch-types.jsonl#3, #5, #7, #9 and ssa-conflict-force.jsonl#11, #12: strategic "
        "merge and JSON patches of a Deployment; an unknown content type is a 415; apply "
        "without fieldManager and force on a merge patch are invalid PatchOptions",
        steps=(namespace_step(),
         apply(f"{DEPLOY_PATH}/web", {
             "apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": {"name": "web", "namespace": NS},
             "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}},
                      "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                          "containers": [{"name": "web", "image": "nginx:1.27",
                                          "env": [{"name": "A", "value": "1"}]},
                                         {"name": "sidecar", "image": "busybox:1.36"}]}}}},
               status=201, check=False),
         Step("PATCH", f"{DEPLOY_PATH}/web", {"spec": {"template": {"spec": {"containers": [
             {"name": "web", "env": [{"name": "B", "value": "2"}]}]}}}},
              {"fieldManager": "kubectl-edit"}, "application/strategic-merge-patch+json"),
         Step("PATCH", f"{DEPLOY_PATH}/web", {"spec": {"template": {"spec": {"containers": [
             {"name": "sidecar", "$patch": "delete"}]}}}},
              {"fieldManager": "kubectl-edit"}, "application/strategic-merge-patch+json"),
         Step("PATCH", f"{DEPLOY_PATH}/web",
              [{"op": "replace", "path": "/spec/template/spec/containers/0/image",
                "value": "nginx:1.29"}], {"fieldManager": "kubectl-edit", "dryRun": "All"},
              "application/json-patch+json"),
         Step("PATCH", f"{DEPLOY_PATH}/web", {"<text>": "hello"},
              {"fieldManager": "kubectl-edit", "dryRun": "All"}, "text/plain", 415,
              status_failure(415, "UnsupportedMediaType", "415: Unsupported Media Type", {})),
         Step("PATCH", f"{CM_PATH}/settings", configmap("settings", {"a": "1"}), {}, APPLY, 422,
              status_failure(422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: '
                             "fieldManager: Required value: is required for apply patch",
                             {"group": "meta.k8s.io", "kind": "PatchOptions", "causes": [
                                 {"reason": "FieldValueRequired",
                                  "message": "Required value: is required for apply patch",
                                  "field": "fieldManager"}]})),
         Step("PATCH", f"{DEPLOY_PATH}/web", {"spec": {"replicas": 1}},
              {"fieldManager": "x", "force": "true"}, "application/merge-patch+json", 422,
              status_failure(422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: force: '
                             "Forbidden: may not be specified for non-apply patch",
                             {"group": "meta.k8s.io", "kind": "PatchOptions", "causes": [
                                 {"reason": "FieldValueForbidden",
                                  "message": "Forbidden: may not be specified for non-apply "
                                             "patch", "field": "force"}]}))),
    ),
    Case(
        "ssa-conflicts-with-two-managers",
        "ssa-conflict-force.jsonl#2-#10: the message groups the fields by manager, an Update "
        "manager with its API version; the causes (in no fixed order on the real server) "
        "by field",
        steps=(namespace_step(),
         apply(f"{CM_PATH}/settings", configmap("settings", {"LOG_LEVEL": "info",
                                                             "shared": "same"}),
               manager="alice", force=False, status=201, check=False),
         apply(f"{CM_PATH}/settings", configmap("settings", {"LOG_LEVEL": "debug",
                                                             "shared": "same"}), check=False),
         Step("PATCH", f"{CM_PATH}/settings", {"data": {"LOG_LEVEL": "warn"}},
              {"fieldManager": "kubectl-edit"}, "application/merge-patch+json", check=False),
         apply(f"{CM_PATH}/settings", configmap("settings", {"LOG_LEVEL": "error",
                                                             "shared": "other"}),
               manager="alice", force=False, status=409, answer=status_failure(
                   409, "Conflict", 'Apply failed with 2 conflicts: conflicts with "gitdeploy":'
                   '\n- .data.shared\nconflicts with "kubectl-edit" using v1:\n- .data.LOG_LEVEL',
                   {"causes": [{"reason": "FieldManagerConflict",
                                "message": 'conflict with "kubectl-edit" using v1',
                                "field": ".data.LOG_LEVEL"},
                               {"reason": "FieldManagerConflict",
                                "message": 'conflict with "gitdeploy"',
                                "field": ".data.shared"}]}))),
    ),
    Case(
        "generate-name-by-create-not-by-apply",
        "ssa-generate-name.jsonl#3, #5 and #6: a create names the object after generateName "
        "(dry run too, without resourceVersion); an apply to a named URL without a name is a "
        "400",
        steps=(namespace_step(),
         apply(f"{CM_PATH}/job-x", {"apiVersion": "v1", "kind": "ConfigMap",
                                    "metadata": {"generateName": "job-", "namespace": NS},
                                    "data": {"a": "1"}}, status=400, answer=status_failure(
             400, "BadRequest", "the name of the object (job-x based on URL) was "
             "undeterminable: name must be provided")),
         Step("POST", CM_PATH, {"apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": {"generateName": "job-", "namespace": NS},
                                "data": {"a": "1"}}, {"fieldManager": "gitdeploy"},
              "application/json", 201, stored(
                  "ConfigMap", "job-<generated>", generateName="job-",
                  managed=[entry("gitdeploy", "Update", {"f:data": {".": {}, "f:a": {}},
                                                         "f:metadata": {"f:generateName": {}}})],
                  rest={"data": {"a": "1"}})),
         Step("POST", CM_PATH, {"apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": {"generateName": "job-", "namespace": NS},
                                "data": {"a": "1"}}, {"fieldManager": "gitdeploy",
                                                      "dryRun": "All"},
              "application/json", 201, stored(
                  "ConfigMap", "job-<generated>", generateName="job-", version=False,
                  managed=[entry("gitdeploy", "Update", {"f:data": {".": {}, "f:a": {}},
                                                         "f:metadata": {"f:generateName": {}}})],
                  rest={"data": {"a": "1"}}))),
    ),
    Case(
        "discovery-of-apps-v1-lists-subresources-in-the-server-order",
        "discovery.jsonl#5 and #6: resources by name, each followed by its subresources (scale "
        "answers autoscaling/v1 Scale), short names, the `all` category, a storageVersionHash; "
        "the group",
        steps=(get("/apis/apps/v1", answer={
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "apps/v1",
            "resources": [{"name": "controllerrevisions", "singularName": "controllerrevision",
                           "namespaced": True, "kind": "ControllerRevision",
                           "verbs": ["create", "delete", "deletecollection", "get", "list",
                                     "patch", "update", "watch"],
                           "storageVersionHash": "<hash>"}] + [
                item
                for plural, kind, short, subresources in (
                    ("daemonsets", "DaemonSet", "ds", ("status",)),
                    ("deployments", "Deployment", "deploy", ("scale", "status")),
                    ("replicasets", "ReplicaSet", "rs", ("scale", "status")),
                    ("statefulsets", "StatefulSet", "sts", ("scale", "status")))
                for item in [
                    {"name": plural, "singularName": kind.lower(), "namespaced": True,
                     "kind": kind, "verbs": ["create", "delete", "deletecollection", "get",
                                             "list", "patch", "update", "watch"],
                     "shortNames": [short], "categories": ["all"],
                     "storageVersionHash": "<hash>"},
                    *({"name": f"{plural}/{sub}", "singularName": "", "namespaced": True,
                       **({"group": "autoscaling", "version": "v1", "kind": "Scale"}
                          if sub == "scale" else {"kind": kind}),
                       "verbs": ["get", "patch", "update"]} for sub in subresources)]]}),
               get("/apis/apps", answer={
                   "kind": "APIGroup", "apiVersion": "v1", "name": "apps",
                   "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
                   "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}})),
    ),
    Case(
        "discovery-lists-every-group-of-the-real-server-in-its-order",
        "discovery.jsonl#2 and #3: /api, and /apis with the groups it serves whether or not the "
        "test server gives their resources any behaviour",
        steps=(get("/api", answer={"kind": "APIVersions", "versions": ["v1"],
                                   "serverAddressByClientCIDRs": [
                                       {"clientCIDR": "0.0.0.0/0",
                                        "serverAddress": "127.0.0.1:6443"}]}),
               get("/apis", answer={"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                   {"name": group,
                    "versions": [{"groupVersion": f"{group}/{v}", "version": v}
                                 for v in versions],
                    "preferredVersion": {"groupVersion": f"{group}/{versions[0]}",
                                         "version": versions[0]}}
                   for group, versions in (
                       ("apiregistration.k8s.io", ("v1",)), ("apps", ("v1",)),
                       ("events.k8s.io", ("v1",)), ("authentication.k8s.io", ("v1",)),
                       ("authorization.k8s.io", ("v1",)), ("autoscaling", ("v2", "v1")),
                       ("batch", ("v1",)), ("certificates.k8s.io", ("v1",)),
                       ("networking.k8s.io", ("v1",)), ("policy", ("v1",)),
                       ("rbac.authorization.k8s.io", ("v1",)), ("storage.k8s.io", ("v1",)),
                       ("admissionregistration.k8s.io", ("v1",)),
                       ("apiextensions.k8s.io", ("v1",)), ("scheduling.k8s.io", ("v1",)),
                       ("coordination.k8s.io", ("v1",)), ("node.k8s.io", ("v1",)),
                       ("discovery.k8s.io", ("v1",)), ("resource.k8s.io", ("v1",)),
                       ("flowcontrol.apiserver.k8s.io", ("v1",)))]})),
    ),
    Case(
        "discovery-of-a-version-a-known-group-lacks-is-a-status-404",
        "discovery.jsonl#13 and #15: a Status, unlike an unknown group's plain text",
        steps=tuple(get(path, status=404, answer=status_failure(
            404, "NotFound", "the server could not find the requested resource", {}))
            for path in ("/apis/apps/v1beta1", "/api/v2")),
    ),
    Case(
        "discovery-of-coordination-v1",
        "discovery.jsonl#7",
        steps=(get("/apis/coordination.k8s.io/v1", answer={
            "kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": "coordination.k8s.io/v1",
            "resources": [{"name": "leases", "singularName": "lease", "namespaced": True,
                           "kind": "Lease",
                           "verbs": ["create", "delete", "deletecollection", "get", "list",
                                     "patch", "update", "watch"],
                           "storageVersionHash": "<hash>"}]}),),
    ),
    Case(
        "job-selector-and-labels-from-its-uid",
        "ssa-defaults.jsonl#11: a Job's defaults, and the selector and labels the registry "
        "generates from the job's own uid (owned by nobody)",
        steps=(namespace_step(),
         apply(f"/apis/batch/v1/namespaces/{NS}/jobs/migrate", MIGRATE_JOB, dry_run=True,
               status=201, answer=stored(
                   "Job", "migrate", api_version="batch/v1", version=False, generation=1,
                   labels=JOB_LABELS, managed=[entry("gitdeploy", "Apply", {"f:spec": {
                       "f:template": {"f:spec": {
                           "f:containers": {'k:{"name":"m"}': {
                               ".": {}, "f:image": {}, "f:name": {}}},
                           "f:restartPolicy": {}}}}}, api_version="batch/v1")],
                   rest={"spec": {
                       "parallelism": 1, "completions": 1, "backoffLimit": 6,
                       "selector": {"matchLabels": {
                           "batch.kubernetes.io/controller-uid": "<uid>"}},
                       "manualSelector": False,
                       "template": {"metadata": {"labels": JOB_LABELS}, "spec": {
                           "containers": [{"name": "m", "image": "busybox:1.36",
                                           **DEFAULTED_CONTAINER}],
                           "restartPolicy": "Never", **DEFAULTED_POD_SPEC}},
                       "completionMode": "NonIndexed", "suspend": False,
                       "podReplacementPolicy": "TerminatingOrFailed"},
                       "status": {}}))),
    ),
    Case(
        "job-pod-template-is-immutable",
        "immutable-fields.jsonl#10 and #11: a changed image of a suspended Job is a 422 naming "
        "the new pod spec as the internal Go type prints it",
        steps=(namespace_step(),
         apply(f"/apis/batch/v1/namespaces/{NS}/jobs/migrate",
               {**MIGRATE_JOB, "spec": {**MIGRATE_JOB["spec"], "suspend": True}},
               status=201, check=False),
         apply(f"/apis/batch/v1/namespaces/{NS}/jobs/migrate",
               {**MIGRATE_JOB, "spec": {"suspend": True, "template": {"spec": {
                   "restartPolicy": "Never",
                   "containers": [{"name": "m", "image": "busybox:1.37"}]}}}},
               dry_run=True, status=422, answer=status_failure(
                   422, "Invalid", f'Job.batch "migrate" is invalid: spec.template.spec: '
                   f"{JOB_TEMPLATE_IMMUTABLE}",
                   {"name": "migrate", "group": "batch", "kind": "Job", "causes": [
                       {"reason": "FieldValueInvalid", "message": JOB_TEMPLATE_IMMUTABLE,
                        "field": "spec.template.spec"}]}))),
    ),
    Case(
        "node-port-service-defaults",
        "ssa-defaults.jsonl#8: a NodePort Service gets cluster IPs, node ports and the "
        "external traffic policy",
        steps=(namespace_step(),
         apply(f"/api/v1/namespaces/{NS}/services/np",
               {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "np", "namespace": NS},
                "spec": {"type": "NodePort", "selector": {"app": "web"},
                         "ports": [{"port": 80}]}}, dry_run=True, status=201,
               answer=stored("Service", "np", version=False, managed=[entry(
                   "gitdeploy", "Apply", {"f:spec": {
                       "f:ports": {'k:{"port":80,"protocol":"TCP"}': {".": {}, "f:port": {}}},
                       "f:selector": {}, "f:type": {}}})],
                   rest={"spec": {
                       "ports": [{"protocol": "TCP", "port": 80, "targetPort": 80,
                                  "nodePort": "<nodePort>"}],
                       "selector": {"app": "web"}, "clusterIP": "<clusterIP>",
                       "clusterIPs": ["<clusterIP>"], "type": "NodePort",
                       "sessionAffinity": "None", "externalTrafficPolicy": "Cluster",
                       "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                       "internalTrafficPolicy": "Cluster"},
                       "status": {"loadBalancer": {}}}))),
    ),
    Case(
        "claim-protection-finalizer-and-volume-mode",
        "ssa-defaults.jsonl#14: a PersistentVolumeClaim gets its protection finalizer and the "
        "Filesystem volume mode",
        steps=(namespace_step(),
         apply(f"/api/v1/namespaces/{NS}/persistentvolumeclaims/data",
               {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": "data", "namespace": NS},
                "spec": {"accessModes": ["ReadWriteOnce"],
                         "resources": {"requests": {"storage": "1Gi"}}}},
               dry_run=True, status=201,
               answer=stored("PersistentVolumeClaim", "data", version=False,
                             finalizers=["kubernetes.io/pvc-protection"],
                             managed=[entry("gitdeploy", "Apply", {"f:spec": {
                                 "f:accessModes": {},
                                 "f:resources": {"f:requests": {"f:storage": {}}}}})],
                             rest={"spec": {"accessModes": ["ReadWriteOnce"],
                                            "resources": {"requests": {"storage": "1Gi"}},
                                            "volumeMode": "Filesystem"},
                                   "status": {"phase": "Pending"}}))),
    ),
    Case(
        "crd-defaults-and-initial-status",
        "crd-establish-and-cr.jsonl#2: the conversion strategy defaulted; the status the "
        "registry starts a CRD with, before its controllers act",
        steps=(apply(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{CRD_NAME}",
                     WIDGET_CRD, dry_run=True, status=201, answer={
                         "kind": "CustomResourceDefinition",
                         "apiVersion": "apiextensions.k8s.io/v1",
                         "metadata": {"name": CRD_NAME, "uid": "<uid>", "generation": 1,
                                      "creationTimestamp": "<time>", "managedFields": [entry(
                                          "gitdeploy", "Apply", {"f:spec": {
                                              "f:group": {}, "f:names": {
                                                  "f:kind": {}, "f:listKind": {},
                                                  "f:plural": {}, "f:singular": {}},
                                              "f:scope": {}, "f:versions": {}}},
                                          api_version="apiextensions.k8s.io/v1")]},
                         "spec": {**WIDGET_CRD["spec"], "conversion": {"strategy": "None"}},
                         "status": {"conditions": None,
                                    "acceptedNames": {"plural": "", "kind": ""},
                                    "storedVersions": ["v1"]}}),),
    ),
    Case(
        "validation-causes-in-the-servers-order",
        "ssa-defaults.jsonl#17: name, replicas, selector against labels, containers; the "
        "labels written as JSON",
        steps=(namespace_step(),
         apply(f"{DEPLOY_PATH}/Bad_Name", BAD_DEPLOYMENT, dry_run=True, status=422,
               answer=status_failure(
                   422, "Invalid", 'Deployment.apps "Bad_Name" is invalid: ['
                   + ", ".join(f"{field}: {message}" for field, message in BAD_CAUSES) + "]",
                   {"name": "Bad_Name", "group": "apps", "kind": "Deployment", "causes": [
                       {"reason": "FieldValueRequired" if message == "Required value"
                        else "FieldValueInvalid", "message": message, "field": field}
                       for field, message in BAD_CAUSES]}))),
    ),
    Case(
        "custom-resource-list-has-an-empty-continue",
        "crd-establish-and-cr.jsonl#16 and cluster-scoped-cr.jsonl#9: the list of a custom "
        "resource, unstructured: items with kind and apiVersion, keys in alphabetical order, "
        "`continue` always there (empty without `limit`, normalised like a token)",
        steps=(namespace_step(),
         apply(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{CRD_NAME}",
               WIDGET_CRD, status=201, check=False),
         apply(f"/apis/fid-<run>.example.com/v1/namespaces/{NS}/widgets/gear",
               {"apiVersion": "fid-<run>.example.com/v1", "kind": "Widget",
                "metadata": {"name": "gear", "namespace": NS}, "spec": {"size": 3}},
               status=201, check=False),
         get(f"/apis/fid-<run>.example.com/v1/namespaces/{NS}/widgets", answer={
             "apiVersion": "fid-<run>.example.com/v1", "items": [{
                 "apiVersion": "fid-<run>.example.com/v1", "kind": "Widget", "metadata": {
                     "creationTimestamp": "<time>", "generation": 1, "managedFields": [{
                         "apiVersion": "fid-<run>.example.com/v1", "fieldsType": "FieldsV1",
                         "fieldsV1": {"f:spec": {"f:size": {}}}, "manager": "gitdeploy",
                         "operation": "Apply", "time": "<time>"}],
                     "name": "gear", "namespace": NS, "resourceVersion": "<resourceVersion>",
                     "uid": "<uid>"},
                 "spec": {"size": 3}}],
             "kind": "WidgetList",
             "metadata": {"continue": "<continue>", "resourceVersion": "<resourceVersion>"}})),
    ),
    Case(
        "a-list-sent-to-a-create-is-a-400",
        "list-kind.jsonl#3: the body is decoded as the kind it says it is, and a List does not "
        "convert to a ConfigMap",
        steps=(namespace_step(),
         Step("POST", CM_PATH, {"apiVersion": "v1", "kind": "List", "metadata": {}, "items": [
             configmap("one", {"a": "1"}), configmap("two", {"b": "2"})]},
              {"dryRun": "All"}, "application/json", 400, status_failure(
                  400, "BadRequest", 'List in version "v1" cannot be handled as a ConfigMap: '
                  "converting (v1.List) to (core.ConfigMap): unknown conversion"))),
    ),
    Case(
        "kubectl-get-is-answered-with-a-table",
        "list-selectors.jsonl#47: kubectl asks for a meta.k8s.io/v1 Table; columns from the "
        "ConfigMap printer, one row per object with its metadata as PartialObjectMetadata",
        steps=(namespace_step(),
         Step("POST", CM_PATH, configmap("a", {"k": "a"}, labels={"app": "web", "env": "prod"}),
              content_type="application/json", status=201, check=False),
         Step("GET", CM_PATH, query={"labelSelector": "env in (prod)", "limit": "500"},
              accept="application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;"
                     "v=v1beta1;g=meta.k8s.io,application/json",
              answer={"kind": "Table", "apiVersion": "meta.k8s.io/v1",
                      "metadata": {"resourceVersion": "<resourceVersion>"},
                      "columnDefinitions": TABLE_COLUMNS, "rows": [{
                          "cells": ["a", 1, "0s"], "object": {
                              "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                              "metadata": {
                                  "name": "a", "namespace": NS, "uid": "<uid>",
                                  "resourceVersion": "<resourceVersion>",
                                  "creationTimestamp": "<time>",
                                  "labels": {"app": "web", "env": "prod"},
                                  "managedFields": [entry("curl", "Update", {
                                      "f:data": {".": {}, "f:k": {}},
                                      "f:metadata": {"f:labels": {
                                          ".": {}, "f:app": {}, "f:env": {}}}})]}}}]})),
    ),
    Case(
        "a-cached-openapi-document-is-a-304",
        "immutable-fields.jsonl#15 and discovery.jsonl#17: kubectl asks again with the ETag "
        "it has; the same document is a 304, with no body and no content type",
        steps=(Step("GET", "/openapi/v3", accept="application/json, */*", status=304,
                    answer={"<openapi-document-omitted>": "", "bytes": 0}),
               Step("GET", "/api", status=304, accept=AGGREGATED_ACCEPT)),
    ),
    Case(
        "an-events-k8s-io-event-is-a-core-event",
        "unschedulable-workload.jsonl#9 and #10: one storage for both Event APIs; written "
        "through events.k8s.io/v1, read through core v1 converted, its managedFields as "
        "written; a name a client chose keeps its suffix",
        steps=(namespace_step(),
         Step("POST", f"/apis/events.k8s.io/v1/namespaces/{NS}/events", PROBE_EVENT,
              content_type="application/json", status=201, answer={
                  "kind": "Event", "apiVersion": "events.k8s.io/v1",
                  "metadata": {"name": "web-probe.1", "namespace": NS, "uid": "<uid>",
                               "resourceVersion": "<resourceVersion>",
                               "creationTimestamp": "<time>",
                               "managedFields": [PROBE_EVENT_MANAGED]},
                  **{k: v for k, v in PROBE_EVENT.items()
                     if k not in ("apiVersion", "kind", "metadata")},
                  "deprecatedSource": {}, "deprecatedFirstTimestamp": None,
                  "deprecatedLastTimestamp": None}),
         get(f"/api/v1/namespaces/{NS}/events", query={"fieldSelector": "type=Warning"},
             answer={"kind": "EventList", "apiVersion": "v1",
                     "metadata": {"resourceVersion": "<resourceVersion>"}, "items": [{
                         "metadata": {"name": "web-probe.1", "namespace": NS, "uid": "<uid>",
                                      "resourceVersion": "<resourceVersion>",
                                      "creationTimestamp": "<time>",
                                      "managedFields": [PROBE_EVENT_MANAGED]},
                         "involvedObject": PROBE_EVENT["regarding"],
                         "reason": "FailedScheduling", "message": PROBE_EVENT["note"],
                         "source": {}, "firstTimestamp": None, "lastTimestamp": None,
                         "type": "Warning", "eventTime": "2026-01-01T00:00:00.000000Z",
                         "action": "Scheduling", "reportingComponent": "default-scheduler",
                         "reportingInstance": "default-scheduler-probe"}]})),
    ),
    Case(
        "no-scheduler-no-failed-scheduling-event",
        "unschedulable-workload.jsonl#6 and #7: without a scheduler, a pod that fits no node "
        "gets no Warning event; the controllers' core v1 Events, read through "
        "events.k8s.io/v1, with generated pod names and event name suffixes",
        recorded_world=True,
        steps=(namespace_step(),
         apply(f"{DEPLOY_PATH}/web", UNSCHEDULABLE_DEPLOYMENT, status=201, check=False),
         get(f"/api/v1/namespaces/{NS}/events", query={"fieldSelector": "type=Warning"},
             answer={"kind": "EventList", "apiVersion": "v1",
                     "metadata": {"resourceVersion": "<resourceVersion>"}, "items": []}),
         get(f"/apis/events.k8s.io/v1/namespaces/{NS}/events", answer={
             "kind": "EventList", "apiVersion": "events.k8s.io/v1",
             "metadata": {"resourceVersion": "<resourceVersion>"}, "items": [
                 controller_event("web-7c7cbd59b8", "ReplicaSet", "replicaset-controller",
                                  "SuccessfulCreate", "Created pod: web-7c7cbd59b8-<generated>"),
                 controller_event("web", "Deployment", "deployment-controller",
                                  "ScalingReplicaSet",
                                  "Scaled up replica set web-7c7cbd59b8 from 0 to 1")]})),
    ),
    Case(
        "orphaned-replica-set-loses-its-owner-reference-and-managed-field",
        "delete-options.jsonl#12 and #22: the garbage collector's patch takes the owner "
        "reference and its managedFields entry away",
        recorded_world=True,
        steps=(namespace_step(),
         apply(f"{DEPLOY_PATH}/orphan", ORPHAN_DEPLOYMENT, status=201, check=False),
         delete(f"{DEPLOY_PATH}/orphan", options={"kind": "DeleteOptions", "apiVersion": "v1",
                                                  "propagationPolicy": "Orphan"}),
         get(f"/apis/apps/v1/namespaces/{NS}/replicasets", answer={
             "kind": "ReplicaSetList", "apiVersion": "apps/v1",
             "metadata": {"resourceVersion": "<resourceVersion>"},
             "items": [ORPHANED_REPLICA_SET]})),
    ),
)
