"""gitdeploy: push-based GitOps for Kubernetes."""

__version__ = "0.1.0"
