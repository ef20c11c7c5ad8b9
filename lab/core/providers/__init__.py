"""One module per provider API family, plus the shared streaming, retry and cost machinery.

What the runner and the GUI use:

    from lab.core.providers import ProviderClient, ProviderConfig, ChatRequest
    async with ProviderClient(config) as client:
        result = await client.complete(ChatRequest(model, messages), on_delta=print)

Layout: `base` (config, request, result), `errors` (typed errors), `client` (the shared
machinery), `retry`, `limiter`, `streaming`, `usage`, `outcomes`, `registry`, `pricing` (the price
table and cost), `keys` (API keys from the keyring or the environment, and which providers need
one), `discovery` (model servers on this machine's usual ports), and the family modules
`openai_chat`, `anthropic`, `gemini`, `ollama`. Batch APIs: `batches` (the `BatchClient`, limits,
splitting), `batch_types` (their shared vocabulary) and the wire formats `batch_openai`,
`batch_anthropic`, `batch_gemini`.

May import: `model`, `runtime` — nothing else of the core (an import-linter contract checks it).
"""

from lab.core.providers.base import ChatRequest, ChatResult, ProviderConfig, Timeouts
from lab.core.providers.errors import (
    AuthError,
    BadRequest,
    BadResponse,
    Cancelled,
    GenerationFailed,
    ModelNotFound,
    NetworkError,
    ProviderDown,
    ProviderError,
    ProviderOverloaded,
    ProviderTimeout,
    QuotaExceeded,
    RateLimited,
    StreamCut,
)
from lab.core.providers.retry import RetryPolicy


def __getattr__(name: str) -> object:
    # The client brings httpx and the keyring with it, the limiter asyncio; loaded when first
    # asked for, so what only needs the vocabulary above (the window before its first paint)
    # does not pay for them.
    if name == "ProviderClient":
        from lab.core.providers.client import ProviderClient

        return ProviderClient
    if name == "AdaptiveLimiter":
        from lab.core.providers.limiter import AdaptiveLimiter

        return AdaptiveLimiter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AdaptiveLimiter",
    "AuthError",
    "BadRequest",
    "BadResponse",
    "Cancelled",
    "ChatRequest",
    "ChatResult",
    "GenerationFailed",
    "ModelNotFound",
    "NetworkError",
    "ProviderClient",
    "ProviderConfig",
    "ProviderDown",
    "ProviderError",
    "ProviderOverloaded",
    "ProviderTimeout",
    "QuotaExceeded",
    "RateLimited",
    "RetryPolicy",
    "StreamCut",
    "Timeouts",
]
