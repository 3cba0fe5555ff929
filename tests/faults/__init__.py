"""Fault injection: a seeded fault proxy between gitdeploy and an API server (`proxy.py`), the
suite that checks what gitdeploy says and leaves behind under faults (`test_faults.py`), and a
longer soak over many seeds (`soak.py`, `nox -s soak`). See README.md."""
