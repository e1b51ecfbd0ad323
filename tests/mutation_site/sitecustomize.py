"""Imported by every Python process a test starts while scripts/mutation learns which tests call
which mutated function (tests/mutation_plugin.py puts this folder first on PYTHONPATH then).

mutmut counts only the calls made in the test's own process; a test that drives a real
`lianyun serve` calls the mutated code in the server's process, so mutmut would never give it
a mutant to kill. Here each such call is written, one line per call, to a file of its own in
MUTATION_SUBPROCESS_HITS, which the test's process reads when the test ends (the plugin)."""

import os

_HITS = os.environ.get("MUTATION_SUBPROCESS_HITS")

if _HITS and os.environ.get("MUTANT_UNDER_TEST") == "stats":
    from mutmut.mutation import trampoline

    _path = os.path.join(_HITS, f"{os.getpid()}.hits")

    def _record(name: str, caller: str | None = None) -> None:
        with open(_path, "a") as hits:
            hits.write(name + "\n")

    trampoline.record_trampoline_hit = _record  # type: ignore[assignment]
