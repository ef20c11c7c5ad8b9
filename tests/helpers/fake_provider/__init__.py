"""The fake LLM provider server for tests and benchmarks (see `server`), and a pytest plugin."""

from tests.helpers.fake_provider.server import *  # noqa: F401,F403
from tests.helpers.fake_provider.server import fake_server_checked, openai_schema_validator, openai_spec_path  # noqa: F401
