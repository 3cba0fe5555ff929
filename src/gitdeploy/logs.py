"""The loggers the core reports external commands to. The core never prints: with `-v`, the
console (output/console.py) subscribes to them and shows each command run."""

EXEC_LOGGER = "gitdeploy.exec"  # external commands (kustomize), logged as "Popen(%s)" with argv
GIT_LOGGER = "git.cmd"  # GitPython's own logger of the git commands it runs (credentials redacted)
