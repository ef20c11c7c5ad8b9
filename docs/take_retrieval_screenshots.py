"""Take the screenshots of retrieval and chaining for the README: the Documents pane, variant B
("A + policies") with the passages of a result in the detail panel, and a two-step chain.

Run on a real (virtual) screen so what is captured is what a user sees:
    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/take_retrieval_screenshots.py
Uses a fresh workspace in a temporary folder (the policy sample project, with a chain variant
added), never your own, and answers from the test suite's fake provider server on 127.0.0.1,
scripted with plausible replies: from memory for A, from the retrieved policies for B and C.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
sys.path.insert(0, str(ROOT))

FROM_MEMORY = [
    "You can usually return unworn boots within 30 days of delivery, in their original box.",
    "Refunds are usually processed within 7 to 10 days after we receive your return.",
    "Opened gas canisters usually can't be shipped back; please check with support first.",
    "I'm not sure of the exact price of express delivery; it is shown at checkout.",
    "Standard shipping is free on orders over 50 euros.",
    "Contact support and we will open an investigation with the carrier.",
    "Northwind tents come with a 2-year warranty against manufacturing defects.",
    "Headlamps are covered for 2 years, so a fault after 14 months should be covered.",
    "That jacket is outside the warranty, but we may be able to repair it for a fee.",
    "We keep your account data for as long as your account is open.",
    "No, we never store your full card number.",
    "Email our privacy team and we will send you a copy of your data.",
]
FROM_POLICIES = [  # (reply, the passage it cites)
    ("You can return unused boots within 60 days of delivery, with the tags on and the receipt "
     "or order number; the return label is free", "refunds.md#2"),
    ("We refund within 5 business days of your return reaching our warehouse; your bank may "
     "take another 3 to 7 days to show it", "refunds.md#3"),
    ("No: for safety we cannot accept opened fuel canisters, even unused ones",
     "refunds.md#4"),
    ("Express delivery costs 12.50 euros and arrives the next working day if you order before "
     "2 pm", "shipping.md#3"),
    ("Standard delivery is free for orders over 60 euros; otherwise it costs 4.95 euros",
     "shipping.md#3"),
    ("A parcel counts as lost when its tracking hasn't changed for 10 working days; contact "
     "support and we resend the order or refund it", "shipping.md#5"),
    ("Northwind's own tents are covered for 5 years from delivery", "warranty.md#2"),
    ("Electronics such as headlamps are covered for 1 year, so a fault after 14 months is "
     "outside the warranty", "warranty.md#2"),
    ("Yes: our workshop repairs gear outside the warranty at cost; a new zip starts at 15 "
     "euros, and we quote before any work", "warranty.md#5"),
    ("Your account is deleted 24 months after your last order or login, unless you ask sooner",
     "privacy.md#3"),
    ("No. Our payment provider handles payments and gives us only the last four digits of your "
     "card", "privacy.md#2"),
    ("Write to privacy@northwind.example; we answer every request within 30 days",
     "privacy.md#5"),
]


def add_chain(project) -> None:
    """Variant C: the same retrieval, in two steps: find the sentence, then answer from it."""
    from dataclasses import replace

    from lab.core.model import Step, Variant

    b = project.variants[1]
    project.variants.append(Variant(
        name="C · find, then answer", model=b.model, params=dict(b.params),
        retrieval=replace(b.retrieval), steps=[
            Step(name="find", model="openai/gpt-4.1-mini", user="{{question}}",
                 params={"response_format": "json"},
                 system="Find the one sentence of these policy passages that answers the "
                        "customer's question. Reply as JSON: {\"quote\": \"...\", \"source\": "
                        "\"refunds.md#2\"}.\n\n{{context}}"),
            Step(name="answer", model="openai/gpt-4.1",
                 system="Answer the customer in one or two sentences, from this quote only, "
                        "and cite its source like [refunds.md#2].",
                 user="Quote: {{steps.find.quote}}\nSource: {{steps.find.source}}\n\n"
                      "Question: {{question}}"),
        ]))


def main() -> int:
    home = Path(tempfile.mkdtemp(prefix="lab-screens-"))
    os.environ["LAB_HOME"] = str(home)
    os.environ["LAB_SCREENSHOT_KEY"] = "sk-screenshot"
    from PySide6.QtCore import Qt, QUrl

    from lab.core.providers.base import ProviderConfig
    from lab.core.workspace.location import LAST_PROJECT_KEY, open_default_workspace
    from lab.core.workspace.providers import save_provider
    from docs.screenshot_player import play
    from lab.gui.app import create_window, make_application
    from tests.helpers.fake_provider import FakeProviderServer, reply

    server = FakeProviderServer(api_keys=("sk-screenshot",)).start()
    server.latency = 0.03
    with open_default_workspace(home / "workspace.db") as store:
        # "openai" itself, answered by the fake: the sample's models and prices as they are
        save_provider(store, ProviderConfig(name="openai", kind="openai", local=False,
                                            base_url=server.base_url("openai"),
                                            api_key_env="LAB_SCREENSHOT_KEY", concurrency=1))
        project_id = next(p["id"] for p in store.list_projects()
                          if p["name"] == "Policy answers")
        project = store.load_project(project_id)
        project.variants[1].model = "openai/gpt-4o"  # B's replies are scripted apart from A's
        add_chain(project)
        store.save_project(project)
        store.set_meta(LAST_PROJECT_KEY, str(project_id))
        store.set_meta("welcomed", "1")  # the first-start offer is not what these pictures show
    server.script(*[reply(text) for text in FROM_MEMORY], model="gpt-4o-mini")
    server.script(*[reply(f"{text} [{cite}].") for text, cite in FROM_POLICIES], model="gpt-4o")
    server.script(*[reply(json.dumps({"quote": text.split(";")[0] + ".", "source": cite}))
                    for text, cite in FROM_POLICIES], model="gpt-4.1-mini")
    server.script(*[reply(f"{text} [{cite}].") for text, cite in FROM_POLICIES],
                  model="gpt-4.1")

    app = make_application(sys.argv[:1])
    window = create_window()
    window.resize(1440, 900)
    window.show()
    OUT.mkdir(exist_ok=True)

    def documents() -> None:
        window.documents_dock.raise_()
        window.resizeDocks([window.documents_dock], [400], Qt.Orientation.Vertical)
        pane = window.documents_pane
        pane.split.setSizes([760, 680])
        pane.tree.setCurrentItem(pane.tree.topLevelItem(0))  # the entry: its chunking below
        pane.search.setText("How much does express delivery cost?")

    def run() -> None:
        window.cases_dock.raise_()
        window.commands.run_action.trigger()

    def retrieval() -> None:
        # Room for the results and their detail: the bottom docks closed, the grid wider.
        for dock in (window.cases_dock, window.checks_dock, window.history_dock,
                     window.documents_dock):
            dock.hide()
        window.centre.setSizes([560, 880])
        window.results_pane.view.parentWidget().setSizes([330, 470])
        window.variants_pane.select(1)
        window.results_pane.select_cell(3, 1)

    def expand() -> None:
        window.results_pane.detail.anchorClicked.emit(QUrl("toggle:chunk:1"))

    def chain() -> None:
        window.variants_pane.select(2)
        window.prompt_pane.steps.list.setCurrentRow(1)
        window.results_pane.select_cell(8, 2)

    # (name or None for "no screenshot", action, delay before the next step in ms)
    steps = [
        (None, lambda: None, 1500),  # the policy documents are read on open
        ("documents", documents, 1200),
        (None, run, 6000),
        (None, retrieval, 800),
        ("retrieval", expand, 800),
        ("chain", chain, 1200),
    ]

    play(app, window, steps, OUT)
    window.session.store.close()
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
