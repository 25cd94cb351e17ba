"""Helpers for browser journeys: page loads counted per step, dead ends noted, a real SMTP sink.

``PageLoads`` counts every full page load (the ``load`` event) of every page it watches, including a
second browser context's (an approver's) and popups, and books each load to the journey step that
was running. ``DeadEnds`` collects what an operator could not do the way the issue wants (a JSON
field, a missing button, a page the role cannot reach) without failing the steps that work: the
test asserts the working steps and writes both lists next to its screenshots (``journey.txt``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# The SMTP sink for the test send, re-exported: tests/browser/conftest.py takes the fixture from here.
from tests.smtp_sink import smtp_sink  # noqa: F401

PASSWORD = "pass-word-123"  # tests.factories.UserFactory's password


@dataclass
class PageLoads:
    """Full page loads, per journey step, over every page :meth:`watch` was given."""

    steps: dict[str, int] = field(default_factory=dict)
    current: str = "start"

    def watch(self, page) -> None:
        page.on("load", lambda _page: self._count())
        # A popup ("+" next to a select) loads pages of its own: they count as the operator's too.
        page.on("popup", lambda popup: self.watch(popup))

    def _count(self) -> None:
        self.steps[self.current] = self.steps.get(self.current, 0) + 1

    def step(self, name: str) -> None:
        self.current = name
        self.steps.setdefault(name, 0)

    @property
    def total(self) -> int:
        return sum(self.steps.values())

    def lines(self) -> list[str]:
        return [f"{count:3d}  {name}" for name, count in self.steps.items()] + [f"{self.total:3d}  TOTAL"]


@dataclass
class DeadEnds:
    """What the journey had to work around: (step, where, what happened, what would fix it)."""

    found: list[tuple[str, str, str, str]] = field(default_factory=list)

    def note(self, step: str, where: str, what: str, fix: str) -> None:
        self.found.append((step, where, what, fix))

    def lines(self) -> list[str]:
        return [f"- [{step}] {where}: {what} -> fix: {fix}" for step, where, what, fix in self.found]


def write_journey_report(folder: Path, loads: PageLoads, dead_ends: DeadEnds) -> Path:
    path = folder / "journey.txt"
    text = ["Page loads per step:", *loads.lines(), "", "Dead ends:", *(dead_ends.lines() or ["none"])]
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


def log_in(page, base_url: str, username: str) -> None:
    """The login form, as a person would use it: /admin/ first, which sends them to the form."""
    page.goto(f"{base_url}/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def flash(page) -> str:
    """The admin's messages on the current page."""
    messages = page.locator("ul.messagelist")
    return messages.inner_text() if messages.count() else ""


def click_and_wait(page, selector: str, then: str) -> None:
    """Click something that loads a page, then wait for what that page shows."""
    page.click(selector)
    page.wait_for_load_state("load")
    page.wait_for_selector(then)
