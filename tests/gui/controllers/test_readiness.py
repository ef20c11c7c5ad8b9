"""Getting ready to run, from the window: a missing key is a problem beside Run before anything
is sent, with the button that opens the Providers dialog at that provider; a local server that
does not answer likewise; first start offers a model server found on this machine; "Add price…"
writes the user's price file; a budget with an unknown price is refused with the core's words."""

from __future__ import annotations

import socket

import pytest

from lab.core.providers import discovery, keys
from lab.core.providers.base import ProviderConfig
from lab.core.workspace.location import current_project_id, open_default_workspace
from lab.core.workspace.providers import save_provider
from lab.gui.dialogs import messages as dialogs
from tests.gui.sample_runs import KEY_ENV, point_sample_at
from tests.helpers.fake_provider import API_KEY


@pytest.fixture
def no_keys(monkeypatch):
    """A fresh machine: no key in the keyring or the environment."""
    monkeypatch.setattr(keys, "_from_keyring", lambda _name: None)
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def refusals(monkeypatch):
    shown: list[list[str]] = []
    monkeypatch.setattr(dialogs, "show_problems", lambda _p, _title, problems: shown.append(problems))
    return shown


def test_a_missing_key_is_shown_beside_run_and_nothing_is_sent(make_window, qtbot, no_keys,
                                                               refusals):
    window = make_window()
    bar = window.run_bar
    qtbot.waitUntil(lambda: bar.shows_problem(), timeout=10000)
    assert "No API key for openai" in bar.problem.text()
    assert bar.fix_button.text() == "Add key…"
    assert "variant 'A · concise'" in bar.problem.toolTip()
    # The estimate is still shown: the problem is about the provider, not the plan.
    assert "40 calls to send" in bar.estimate.text()

    window.commands.run_action.trigger()
    qtbot.waitUntil(lambda: bool(refusals), timeout=10000)
    assert "No API key for openai" in refusals[0][0] and "Nothing was sent" in refusals[0][0]
    assert window.commands.run_action.isEnabled()
    assert window.results_pane.model.cell(0, 0) is None  # no red cells

    # The button opens the Providers dialog at that provider.
    bar.fix_button.click()
    dialog = window.editing.providers_dialog
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.list.currentItem() is not None
                    and dialog.list.currentItem().text() == "openai", timeout=5000)
    assert "No key yet" in dialog.key_status.text() or dialog.key_status.text() == ""
    dialog.close()


def test_with_a_key_the_problem_goes(make_window, qtbot, no_keys, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    window = make_window()
    qtbot.waitUntil(lambda: "calls to send" in window.run_bar.estimate.text(), timeout=10000)
    qtbot.wait(300)  # the readiness probe follows the estimate
    assert not window.run_bar.shows_problem()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_local_server_that_is_not_running_is_a_problem(make_window, qtbot, lab_home, refusals):
    port = closed_port()
    with open_default_workspace(lab_home / "workspace.db") as store:
        save_provider(store, ProviderConfig(name="mine", kind="openai", local=True,
                                            base_url=f"http://127.0.0.1:{port}/v1"))
        project = store.load_project(current_project_id(store))
        for variant in project.variants:
            variant.model = "mine/llama"
        store.save_project(project)
    window = make_window()
    bar = window.run_bar
    qtbot.waitUntil(lambda: bar.shows_problem(), timeout=10000)
    assert bar.problem.text().strip() == "⚠ mine is not answering"
    assert bar.fix_button.text() == "Set up…"
    window.commands.run_action.trigger()
    qtbot.waitUntil(lambda: bool(refusals), timeout=10000)
    assert f"127.0.0.1:{port}" in refusals[0][0]


def test_first_start_offers_a_model_server_found_on_this_machine(
        make_window, qtbot, fake_server, lab_home, monkeypatch):
    ollama = discovery.LocalServer("ollama", "Ollama", "ollama", fake_server.base_url("ollama"))
    monkeypatch.setattr(discovery, "USUAL_SERVERS", (ollama,))
    window = make_window()
    welcome = window.welcome_bar
    qtbot.waitUntil(lambda: welcome.isVisible(), timeout=10000)
    assert "Ollama" in welcome.message.text()
    assert welcome.use_button.text().startswith("Use ollama/")
    model = welcome.use_button.text().removeprefix("Use ")
    welcome.use_button.click()
    qtbot.waitUntil(lambda: not welcome.isVisible(), timeout=5000)
    assert {v.model for v in window.session.project.variants} == {model}
    assert window.prompt_pane.model_picker.currentText() == model
    window.session.finish_saves()
    window.close()

    # Offered once per workspace.
    again = make_window()
    qtbot.wait(500)
    assert not again.welcome_bar.isVisible()
    assert {v.model for v in again.session.project.variants} == {model}


def test_first_start_with_nothing_found_offers_a_hosted_key(make_window, qtbot, no_keys):
    window = make_window()
    welcome = window.welcome_bar
    qtbot.waitUntil(lambda: welcome.isVisible(), timeout=10000)
    assert "No model server found" in welcome.message.text()
    assert not welcome.use_button.isVisible()
    welcome.key_button.click()
    dialog = window.editing.providers_dialog
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.list.currentItem() is not None
                    and dialog.list.currentItem().text() == "openai", timeout=5000)
    dialog.close()


def unpriced_sample(server, lab_home) -> None:
    point_sample_at(server, lab_home)
    with open_default_workspace(lab_home / "workspace.db") as store:
        project = store.load_project(current_project_id(store))
        project.variants[1].model = "fake/house-model-7"
        store.save_project(project)


def test_add_price_writes_the_user_price_file(make_window, qtbot, fake_server, lab_home):
    unpriced_sample(fake_server, lab_home)
    window = make_window()
    bar = window.run_bar
    qtbot.waitUntil(lambda: "unpriced" in bar.estimate.text(), timeout=10000)
    assert bar.offers_price()
    assert "Cost unknown for fake/house-model-7" in bar.estimate.toolTip()

    dialog = window.readiness.add_price()
    qtbot.addWidget(dialog)
    assert dialog.model.currentText() == "fake/house-model-7"
    dialog.input.setValue(0.5)
    dialog.output.setValue(1.5)
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    qtbot.waitUntil(lambda: "unpriced" not in bar.estimate.text()
                    and "calls to send" in bar.estimate.text(), timeout=10000)
    assert not bar.offers_price()
    text = (lab_home / "prices.toml").read_text()
    assert '[openai."house-model-7"]' in text and "input = 0.5" in text


def test_a_budget_with_an_unknown_price_is_refused(make_window, qtbot, fake_server, lab_home,
                                                    refusals):
    unpriced_sample(fake_server, lab_home)
    window = make_window()
    bar = window.run_bar
    qtbot.waitUntil(lambda: "unpriced" in bar.estimate.text(), timeout=10000)
    bar.budget.setValue(1.0)
    qtbot.waitUntil(lambda: "problem" in bar.estimate.text(), timeout=10000)
    assert "budget of $1 cannot be kept: cost unknown for fake/house-model-7" in bar.estimate.toolTip()
    window.commands.run_action.trigger()
    qtbot.waitUntil(lambda: bool(refusals), timeout=10000)
    assert "cannot be kept" in refusals[0][0]
    assert fake_server.chat_requests() == []


def test_a_budget_stops_the_run(make_window, qtbot, fake_server, lab_home, monkeypatch):
    point_sample_at(fake_server, lab_home)
    monkeypatch.setenv(KEY_ENV, API_KEY)
    window = make_window()
    window.run_bar.budget.setValue(0.01)
    qtbot.waitUntil(lambda: "calls to send" in window.run_bar.estimate.text(), timeout=10000)
    window.commands.run_action.trigger()
    qtbot.waitUntil(lambda: window.run_status.progress_label.text().startswith(
        ("Budget reached", "Run finished")), timeout=30000)
    assert window.run_status.progress_label.text().startswith("Budget reached")
    assert len(fake_server.chat_requests()) < 40
