"""rollback_target: which commit `gitdeploy rollback ENV [--to RECORD|COMMIT]` deploys, from the
environment's deploy records (newest first)."""

from __future__ import annotations

import pytest

from gitdeploy.commands.deploy import rollback_target
from gitdeploy.errors import SettingsError
from gitdeploy.results.state import FAILED, ROLLBACK, DeployRecord
from tests.builders import record

A = "a" * 40
B = "b" * 40
C = "c" * 40
D = "d" * 40


def error_of(records: list[DeployRecord], to: str | None) -> SettingsError:
    with pytest.raises(SettingsError) as caught:
        rollback_target(records, to, "prod")
    return caught.value


def test_default_is_the_previous_deploy_of_another_commit() -> None:
    records = [record(3, C), record(2, B), record(1, A)]
    assert rollback_target(records, None, "prod") == (B, "record 2 (bbbbbbb)")


def test_default_skips_deploys_of_the_live_commit() -> None:
    records = [record(4, C), record(3, C), record(2, B), record(1, A)]
    assert rollback_target(records, None, "prod") == (B, "record 2 (bbbbbbb)")


def test_default_skips_failed_deploys() -> None:
    records = [record(4, D), record(3, C, outcome=FAILED), record(2, B), record(1, A)]
    assert rollback_target(records, None, "prod") == (B, "record 2 (bbbbbbb)")


def test_default_after_a_failed_deploy_returns_to_the_last_good_commit() -> None:
    records = [record(3, C, outcome=FAILED), record(2, B), record(1, A)]
    assert rollback_target(records, None, "prod") == (B, "record 2 (bbbbbbb)")


def test_default_skips_deploys_without_a_commit() -> None:
    records = [record(3, C), record(2, ""), record(1, A)]
    assert rollback_target(records, None, "prod") == (A, "record 1 (aaaaaaa)")


def test_default_when_the_live_deploy_has_no_commit() -> None:
    records = [record(2, ""), record(1, A)]
    assert rollback_target(records, None, "prod") == (A, "record 1 (aaaaaaa)")


def test_default_may_return_to_a_rollback() -> None:
    records = [record(3, C), record(2, B, kind=ROLLBACK), record(1, A)]
    assert rollback_target(records, None, "prod") == (B, "record 2 (bbbbbbb)")


@pytest.mark.parametrize(
    "records",
    [
        [record(1, A)],
        [record(3, A), record(2, A), record(1, A)],
        [record(2, B), record(1, A, outcome=FAILED)],
        [record(2, B), record(1, "")],
    ],
    ids=["one-deploy", "always-the-same-commit", "only-a-failed-one", "only-without-commit"],
)
def test_default_without_an_earlier_good_deploy_of_another_commit(
        records: list[DeployRecord]) -> None:
    error = error_of(records, None)
    assert error.message == "prod has no earlier successful deploy of another commit"
    assert error.details == ["see gitdeploy history; pass --to RECORD or --to COMMIT"]


@pytest.mark.parametrize("to", [None, "3", "123456"])
def test_no_records_to_roll_back_to(to: str | None) -> None:
    error = error_of([], to)
    assert error.message == "prod has no deploy records to roll back to"
    assert error.details == ["see gitdeploy history; pass --to COMMIT to deploy a commit"]


def test_to_a_record_number() -> None:
    records = [record(3, C), record(2, B), record(1, A)]
    assert rollback_target(records, "1", "prod") == (A, "record 1 (aaaaaaa)")


def test_to_the_live_record_is_allowed() -> None:
    records = [record(3, C), record(2, B)]
    assert rollback_target(records, "3", "prod") == (C, "record 3 (ccccccc)")


def test_to_a_failed_record_is_taken_as_asked() -> None:
    records = [record(3, C), record(2, B, outcome=FAILED), record(1, A)]
    assert rollback_target(records, "2", "prod") == (B, "record 2 (bbbbbbb)")


def test_to_a_record_number_with_leading_zeros() -> None:
    records = [record(12, C), record(11, B)]
    assert rollback_target(records, "011", "prod") == (B, "record 11 (bbbbbbb)")


def test_to_a_record_that_is_not_kept() -> None:
    error = error_of([record(30, C), record(29, B)], "3")
    assert error.message == "prod has no deploy record 3"
    assert error.details == ["see gitdeploy history for the record numbers kept"]


def test_to_a_record_without_a_commit() -> None:
    error = error_of([record(3, C), record(2, "")], "2")
    assert error.message == "record 2 of prod was not deployed from a commit"


@pytest.mark.parametrize("to", ["5f2c1ab", "5f2c1ab9e0d4", "v1.4.2", "origin/main", "1234567",
                                B])
def test_to_anything_else_is_a_commit_given_as_is(to: str) -> None:
    assert rollback_target([record(2, C), record(1, A)], to, "prod") == (to, "")


def test_to_a_commit_needs_no_records() -> None:
    assert rollback_target([], "5f2c1ab", "prod") == ("5f2c1ab", "")


def test_a_six_digit_number_is_a_record_and_a_seven_digit_one_a_commit() -> None:
    records = [record(123456, C)]
    assert rollback_target(records, "123456", "prod") == (C, "record 123456 (ccccccc)")
    assert rollback_target(records, "1234567", "prod") == ("1234567", "")
