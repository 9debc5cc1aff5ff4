"""What the offline build produces: prompts, dimensions, and the one error type of the build.

Shared by every step of the build, so it sits below all of them.
"""

from __future__ import annotations

QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
MAX_SEQ_LENGTH = 512
EMBEDDING_DIMENSION = 384


class OfflineModelError(RuntimeError):
    """The offline model cannot be built; the message says what to install or fix.

    Raised instead of falling back to any other model: vectors of different models must never
    end up in the same index.
    """
