"""Running one command over many environments (docs/fleet.md): which environments
(`selection`, `changed`), in what order and how many at once (`run`), and posting the report
as pull-request comments (`publish`)."""
