"""Small projects built in code, for tests of templates and the problems found before a run."""

from __future__ import annotations

from lab.core.model import Example, Variant


def support_variant(**kw) -> Variant:
    """A support-reply variant with a {{company}} variable and one disabled example."""
    defaults = dict(
        name="A",
        model="openai/gpt-4o-mini",
        system="You answer for {{company}}.",
        examples=[
            Example("Where is order 1?", "It ships today from {{company}}."),
            Example("disabled one", "never sent", enabled=False),
            Example("Refund?", "Yes, within 30 days."),
        ],
    )
    defaults.update(kw)
    return Variant(**defaults)
