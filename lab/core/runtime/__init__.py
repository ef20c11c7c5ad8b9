"""What the lab needs from its surroundings: its shipped files (`resources`), an asyncio loop on a
thread for callers that are not async (`async_thread`), and loading libraries before the first
window (`preload`).

Imports nothing of the lab: every other package may use it.
"""
