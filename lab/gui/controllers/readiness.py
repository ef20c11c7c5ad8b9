"""Getting ready to run: what stands in the way (a provider with no key, a local server that does
not answer) shown beside Run with a button that opens the Providers dialog at that provider;
"Add price…" for a model the estimate cannot price; and, on a workspace's first start, model
servers found on this machine offered for the sample's variants.

The checks themselves are the core's (lab.core.run.readiness, lab.core.providers.discovery);
looking for servers and writing the price file happen on the network thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMainWindow, QMessageBox

from lab.core.providers import discovery
from lab.core.providers.discovery import FoundServer
from lab.core.runtime.async_thread import AsyncLoopThread
from lab.core.workspace.location import user_prices_path
from lab.core.workspace.providers import add_found_server
from lab.gui.controllers.editing import EditingController
from lab.gui.controllers.run_controller import RunController
from lab.gui.controllers.session import Session
from lab.gui.panes.run_bar import RunBar
from lab.gui.panes.welcome_bar import WelcomeBar
from lab.gui.tasks import when_done

if TYPE_CHECKING:  # annotations only: loaded where used, not before the first paint
    from lab.gui.dialogs.price import AddPriceDialog, PriceEntry

WELCOMED_KEY = "welcomed"  # workspace meta: the first-start offer was made


class ReadinessController(QObject):
    servers_found = Signal(list)  # FoundServers, once looked for on first start

    def __init__(self, session: Session, runs: RunController, editing: EditingController,
                 run_bar: RunBar, welcome_bar: WelcomeBar, network: AsyncLoopThread,
                 window: QMainWindow):
        super().__init__(window)
        self._session = session
        self._runs = runs
        self._editing = editing  # opens the Providers dialog and shows the project again
        self._bar = run_bar
        self._welcome = welcome_bar
        self._network = network
        self._window = window
        self._unpriced: dict[str, str] = {}
        self.price_dialog: AddPriceDialog | None = None
        run_bar.fix_requested.connect(self.fix_provider)
        run_bar.add_price_requested.connect(self.add_price)
        runs.estimated.connect(self._estimated)
        welcome_bar.use_server.connect(self.use_server)
        welcome_bar.add_key.connect(lambda: self.fix_provider(self._hosted_provider()))

    # ---- what stands in the way

    def fix_provider(self, provider: str | None):
        dialog = self._editing.show_providers(select=provider)
        # A key or address saved: plan again, and the problem beside Run goes (or stays).
        dialog.providers_changed.connect(self._editing.matrix_changed.emit)
        return dialog

    def _hosted_provider(self) -> str:
        """The provider of the first variant, when it is a hosted one; else openai."""
        project = self._session.project
        if project and project.variants and project.variants[0].provider in (
                "openai", "anthropic", "gemini"):
            return project.variants[0].provider
        return "openai"

    # ---- prices

    def _estimated(self, outcome) -> None:
        self._unpriced = {} if isinstance(outcome, list) else outcome.estimate.unpriced_kinds

    def add_price(self) -> AddPriceDialog | None:
        # imported when opened, not before the window's first paint
        from lab.gui.dialogs.price import AddPriceDialog

        if not self._unpriced:
            return None
        self.price_dialog = AddPriceDialog(self._unpriced, user_prices_path(), self._window)
        self.price_dialog.accepted.connect(lambda: self.save_price(self.price_dialog.entry()))
        self.price_dialog.open()
        return self.price_dialog

    def save_price(self, entry: PriceEntry) -> None:
        from lab.core.providers.pricing import ModelPrice, save_user_price

        price = ModelPrice(input=entry.input, output=entry.output)

        def saved(_path) -> None:
            self._window.statusBar().showMessage(
                f"Price of {entry.model} saved: ${entry.input:g} in, ${entry.output:g} out "
                "per 1M tokens", 6000)
            self._runs.reload_prices()

        when_done(self._network.run_blocking(save_user_price, user_prices_path(), entry.kind,
                                             entry.model_name, price),
                  saved, lambda exc: QMessageBox.warning(self._window, "Price not saved", str(exc)))

    # ---- first start

    def first_start(self) -> None:
        """Once per workspace: look for model servers on this machine, and offer what was found
        (or a hosted provider's key)."""
        store = self._session.store

        def check(store_) -> bool:
            if store_.get_meta(WELCOMED_KEY):
                return False
            store_.set_meta(WELCOMED_KEY, "1")
            return True

        def look(first: bool) -> None:
            if first:
                when_done(self._network.submit(discovery.find_local_servers(
                              discovery.USUAL_SERVERS)),
                          self._found, lambda _exc: self._found([]))

        when_done(store.submit(check), look, lambda _exc: None)

    def _found(self, found: list[FoundServer]) -> None:
        self.servers_found.emit(found)
        self._welcome.offer(found)

    def use_server(self, found: FoundServer) -> None:
        """Point every variant of the open project at the server's first model."""
        project = self._session.project
        if project is None:
            return

        def added(provider: str) -> None:
            model = f"{provider}/{found.models[0]}"
            for variant in project.variants:
                variant.model = model
            self._editing.show_project(project)
            self._session.save()
            self._welcome.hide()
            self._window.statusBar().showMessage(f"Every variant now calls {model}", 6000)

        when_done(self._session.store.submit(lambda store: add_found_server(store, found)),
                  added, lambda exc: QMessageBox.warning(self._window, "Not set up", str(exc)))
