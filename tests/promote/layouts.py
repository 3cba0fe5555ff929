"""Repository layouts of the promotion tests: staging ahead of prod, written as people write
them (comments, their own indentation and quotes), in real git repositories."""

from __future__ import annotations

from tests.conftest import ConfigRepo


def deployment(name: str, image: str, *, replicas: int = 1, comment: str = "") -> str:
    return f"""# {comment or 'the ' + name + ' service'}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}   # how many pods
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
        - name: {name}
          image: "{image}"    # keep the quotes
          ports:
            - containerPort: 8080
"""


def plain(repo: ConfigRepo) -> None:
    """Plain YAML in both environments; names prefixed in staging; replicas differ on
    purpose."""
    repo.write("environments/staging/gitdeploy.yaml", """context: kind-staging
namespace: shop-staging
promotion:
  namePrefix: stg-
  environmentSpecific:
    - kind: Deployment
      jsonPointers: [/spec/replicas]
""")
    repo.write("environments/staging/web.yaml",
               deployment("stg-web", "ghcr.io/acme/web:1.5.0", replicas=1))
    repo.write("environments/staging/config.yaml", """apiVersion: v1
kind: ConfigMap
metadata:
  name: stg-web-config
data:
  LOG_LEVEL: debug
  FEATURE_SEARCH: "on"
""")
    repo.write("environments/staging/worker.yaml", deployment("stg-worker",
                                                              "ghcr.io/acme/worker:2.0.0"))
    repo.write("environments/prod/gitdeploy.yaml", """# prod settings
context: prod
namespace: shop
""")
    repo.write("environments/prod/web.yaml",
               deployment("web", "ghcr.io/acme/web:1.4.2", replicas=5,
                          comment="prod web: do not scale below 5"))
    repo.write("environments/prod/config.yaml", """apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  LOG_LEVEL: debug
""")
    repo.commit("plain layout")


def kustomize(repo: ConfigRepo) -> None:
    """A shared base outside both environments; overlays set the image with `images:` in
    staging, and not at all in prod (which takes the base's)."""
    repo.write("environments/base/kustomization.yaml", """resources:
  - web.yaml
""")
    repo.write("environments/base/web.yaml", deployment("web", "ghcr.io/acme/web:1.0.0"))
    repo.write("environments/staging/gitdeploy.yaml", "context: kind-staging\n"
                                                       "namespace: shop-staging\n")
    repo.write("environments/staging/kustomization.yaml", """# staging overlay
namespace: shop-staging
resources:
    - ../base
images:
    - name: ghcr.io/acme/web
      newTag: 1.5.0   # the release candidate
""")
    repo.write("environments/prod/gitdeploy.yaml", "context: prod\nnamespace: shop\n")
    repo.write("environments/prod/kustomization.yaml", """# prod overlay
namespace: shop
resources:
    - ../base
""")
    repo.commit("kustomize layout")


def helm(repo: ConfigRepo) -> None:
    """A chart folder shared by both; staging sets the image in its inline values, prod in a
    values file of its folder; a remote chart version differs."""
    repo.write("environments/charts/app/Chart.yaml", "apiVersion: v2\nname: app\n"
                                                     "version: 0.1.0\n")
    repo.write("environments/charts/app/values.yaml", """image:
  repository: ghcr.io/acme/app
  tag: "1.0.0"
""")
    repo.write("environments/charts/app/templates/deployment.yaml", """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  selector:
    matchLabels:
      app: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: {{ .Release.Name }}
    spec:
      containers:
        - name: app
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
""")
    repo.write("environments/staging/gitdeploy.yaml", """context: kind-staging
namespace: shop-staging
charts:
  - release: app
    chart: ../charts/app
    values:
      image:
        tag: "1.3.0"   # candidate
""")
    repo.write("environments/prod/gitdeploy.yaml", """context: prod
namespace: shop
charts:
  - release: app
    chart: ../charts/app
    valuesFiles: [app-values.yaml]
""")
    repo.write("environments/prod/app-values.yaml", """# prod values
image:
  repository: ghcr.io/acme/app
  tag: "1.2.0"   # live
""")
    repo.commit("helm layout")
