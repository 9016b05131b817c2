"""`CheckReport`: the outcome of a conformance suite (`check_sampler`, `check_family`)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CheckReport"]


@dataclass(kw_only=True)
class CheckReport:
    """One entry per check: the names that passed and, for each failure, why."""

    passed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return not self.failed

    def record(self, name: str, condition: bool, why: str) -> bool:
        """Record check ``name`` as passed if ``condition``, else as failed because ``why``."""
        if condition:
            self.passed.append(name)
        else:
            self.failed[name] = why
        return condition

    def title(self) -> str:
        """The suite and its subject, e.g. ``check_family('poisson')``."""
        return type(self).__name__

    def __str__(self) -> str:
        head = f"{self.title()}: {len(self.passed)} passed"
        if self.ok:
            return head + "."
        lines = [head + f", {len(self.failed)} failed:"]
        lines += [f"  - {name}: {why}" for name, why in self.failed.items()]
        return "\n".join(lines)
