"""A local Kubernetes API server for gitdeploy's tests (see server.py)."""
