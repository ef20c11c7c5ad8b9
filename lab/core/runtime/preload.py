"""Load, at start-up, the libraries that calls and keys need, so it never happens mid-session.

httpx imports its transport (httpcore, h11, anyio, the SSL context) on the first client, and
keyring imports its Secret Service backend (secretstorage, jeepney, cryptography) on the first
key. Done lazily on a worker thread in the middle of a run, those imports stall the GUI thread
for a few hundred milliseconds (bench/gui_responsiveness.py shows it). The window calls this on
its network thread once its first paint is done and its project shown (lab.gui.app.StartUp),
when nothing else is going on; it takes about 0.2 s.
"""

from __future__ import annotations

import asyncio


def preload_network_and_keyring() -> None:
    import httpx
    import keyring

    async def client() -> None:
        await httpx.AsyncClient().aclose()

    asyncio.run(client())
    try:
        keyring.get_keyring()
    except Exception:  # noqa: BLE001 - no backend is reported when a key is needed, not here
        pass
