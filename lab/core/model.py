"""The lab's vocabulary as plain dataclasses: what a prompt engineer edits, runs and judges.

Nothing here talks to the disk, the network or Qt. The store turns these into rows, the runner
turns them into calls, the GUI shows them. Field names follow the words the user sees.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant"]


@dataclass
class Message:
    """One turn as the lab sends it, before a provider module reshapes it for its wire format."""

    role: Role
    content: str
    # Few-shot turns are marked so exports can give them weight 0 or fold them into the system prompt.
    is_example: bool = False


@dataclass
class Example:
    """A few-shot example: an input the model is shown with the output it should have given."""

    input: str
    output: str
    note: str = ""
    enabled: bool = True
    id: int | None = None


RetrievalMode = Literal["off", "lexical", "embeddings", "hybrid"]


@dataclass
class Retrieval:
    """Retrieval-augmented context for a variant: the top `k` chunks of the project's documents
    for a query rendered from the test case fill `{{context}}` in its prompts."""

    mode: RetrievalMode = "lexical"
    k: int = 4
    query: str = ""  # a template over the test case; "" = the user message
    embedding_model: str = ""  # "provider/model", for embeddings and hybrid
    chunk_size: int | None = None  # None: the documents' own chunking
    chunk_overlap: int | None = None

    @property
    def on(self) -> bool:
        return self.mode != "off"


@dataclass
class DocumentSource:
    """Files for retrieval: a file, folder or glob, and how its documents are cut into chunks."""

    path: str
    chunk_size: int = 400  # tokens, by the lab's offline estimate
    chunk_overlap: int = 50


@dataclass
class Step:
    """One step of a chain: its own prompt and model. Its output feeds the steps after it as
    `{{steps.NAME}}` (and, when it is a JSON object, each field as `{{steps.NAME.field}}`)."""

    name: str
    user: str  # the step's user message, a template over the test case and earlier steps
    system: str = ""
    model: str = ""  # "provider/model"; "" = the variant's
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RetrievedChunk:
    """A passage given to a call: which chunk, how it was cited, and how well it matched."""

    chunk_id: int
    citation: str  # as the model saw it: "policy.md#3"
    heading: str
    text: str
    score: float  # higher is better
    rank: int  # 1-based
    method: str  # lexical | embeddings | hybrid


@dataclass
class Variant:
    """One contender in an A/B test: its own prompt, examples, model and parameters."""

    name: str
    model: str  # "provider/model", e.g. "openai/gpt-4o-mini"
    system: str = ""
    examples: list[Example] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)  # temperature, max_tokens, top_p, seed, ...
    retrieval: Retrieval | None = None
    # A chain: each step is a call; the last step's output is the variant's. Empty: one call.
    steps: list[Step] = field(default_factory=list)
    id: int | None = None

    @property
    def provider(self) -> str:
        return self.model.split("/", 1)[0] if "/" in self.model else ""

    @property
    def model_name(self) -> str:
        return self.model.split("/", 1)[1] if "/" in self.model else self.model

    def enabled_examples(self) -> list[Example]:
        return [e for e in self.examples if e.enabled]


@dataclass
class TestCase:
    """One row of inputs: the values of the template variables for a single call."""

    __test__ = False  # not a pytest test class, despite the name

    vars: dict[str, str]
    label: str = ""
    id: int | None = None


@dataclass
class Check:
    """An automatic grader attached to a project or experiment (equals, contains, regex, json, ...)."""

    type: str
    config: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    id: int | None = None

    @property
    def title(self) -> str:
        return self.name or self.type


@dataclass
class Project:
    """What the user edits in the workbench: variants, the user-message template, test cases, checks."""

    name: str
    user_template: str = "{{input}}"
    variants: list[Variant] = field(default_factory=list)
    cases: list[TestCase] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    description: str = ""
    documents: list[DocumentSource] = field(default_factory=list)
    id: int | None = None
    # The experiment file the project is kept in, if any (resolved path). Where it lives is not
    # what it is: two projects that differ only here are equal.
    source_path: str | None = field(default=None, compare=False)


@dataclass
class PromptVersion:
    """The exact prompt a call was made with, frozen: system text, user template and examples.

    Identified by a content hash, so the same text run twice is one version, and any two
    versions can be diffed.
    """

    system: str
    user_template: str
    examples: list[Example] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)  # a chain's steps, in order

    def content_hash(self) -> str:
        payload: dict[str, Any] = {
            "system": self.system,
            "user_template": self.user_template,
            "examples": [
                {"input": e.input, "output": e.output, "enabled": e.enabled} for e in self.examples
            ],
        }
        if self.steps:  # only then, so every earlier version keeps its hash
            payload["steps"] = [asdict(step) for step in self.steps]
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()


@dataclass
class Usage:
    """Token counts normalised across providers. Reasoning tokens are part of output_tokens.

    input_tokens is the whole prompt; cached_tokens (cache reads) and cache_write_tokens (prompt
    tokens written to a prompt cache, any duration) are parts of it. cache_write_1h_tokens is the
    part of the writes made with a one-hour life (Anthropic prices those higher than its
    five-minute writes).

    A provider that reported no usage (a stream without a usage chunk, a failed call) leaves every
    count None: unknown, which is not zero. Sums skip unknown counts and an unknown usage has an
    unknown cost. Within a reported usage a detail the provider left out (cached, reasoning) is 0.
    """

    input_tokens: int | None = 0
    output_tokens: int | None = 0
    cached_tokens: int | None = 0
    reasoning_tokens: int | None = 0
    cache_write_tokens: int | None = 0
    cache_write_1h_tokens: int | None = 0

    @classmethod
    def unknown(cls) -> Usage:
        """Usage nobody reported."""
        return cls(None, None, None, None, None, None)

    @property
    def known(self) -> bool:
        """Both the prompt and the reply were counted by the provider."""
        return self.input_tokens is not None and self.output_tokens is not None

    def to_dict(self) -> dict[str, int | None]:
        return asdict(self)


CallStatus = Literal["ok", "error", "cancelled", "pending"]
# The finish reason of a reply in which the model declined to answer: an "ok" call (it came back,
# and was billed) whose response_text is the refusal, which checks grade like any output.
REFUSAL = "refusal"


@dataclass
class Call:
    """One logged model call: everything needed to reproduce and audit it."""

    provider: str
    model: str
    request: dict[str, Any]  # the exact body sent, secrets removed
    status: CallStatus = "pending"
    response_text: str = ""
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage.unknown)  # unknown until a reply reports it
    raw_usage: dict[str, Any] | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    cost_usd: float | None = None
    error_type: str | None = None
    error_message: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    run_id: int | None = None
    experiment_id: int | None = None
    variant_name: str | None = None
    variant_id: int | None = None
    prompt_version_id: int | None = None
    test_case_id: int | None = None
    case_vars: dict[str, str] = field(default_factory=dict)
    sample_index: int = 0
    cache_key: str | None = None
    cached: bool = False
    step: str | None = None  # a chain's step this call made (its chain's call says the rest)
    started_at: str | None = None
    finished_at: str | None = None
    id: int | None = None

    @property
    def refused(self) -> bool:
        """The model declined: response_text is its refusal (see REFUSAL)."""
        return self.finish_reason == REFUSAL


@dataclass
class Rating:
    """A human's judgement of one output: thumbs, a 1-5 score, a note, failure-mode tags."""

    call_id: int
    thumbs: int | None = None  # +1 up, -1 down, None unset
    score: int | None = None  # 1..5
    note: str = ""
    tags: list[str] = field(default_factory=list)


PairwiseWinner = Literal["left", "right", "tie"]


@dataclass
class PairwiseJudgement:
    """A blind comparison of two outputs for the same input. Left/right is the order shown."""

    left_call_id: int
    right_call_id: int
    winner: PairwiseWinner
    note: str = ""
    id: int | None = None

    @property
    def better_call_id(self) -> int | None:
        if self.winner == "left":
            return self.left_call_id
        if self.winner == "right":
            return self.right_call_id
        return None


@dataclass
class Dataset:
    """A saved, named selection of logged outputs, re-evaluated when new judgements arrive."""

    name: str
    selection: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    licence: str = ""
    id: int | None = None
