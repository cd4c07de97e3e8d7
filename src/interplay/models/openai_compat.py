"""Any OpenAI-compatible HTTP endpoint (vLLM, llama.cpp server, TGI, OpenAI, ...).

Uses the official ``openai`` client and a thread pool that bounds the number of requests in
flight. Every request has a timeout; failures that may pass (connection refused or reset, a
timeout, HTTP 408/409/429/5xx) are retried with exponential backoff, but never for longer
than ``max_retry_time`` seconds in all, so a dead or hung server is reported within seconds,
not minutes. Every failure, including answers that are not valid JSON or hold no choices,
is raised as one :class:`EndpointError` whose one-line message names the endpoint, the cause
and what to do.

Two modes:

- ``"completions"`` (exact; the default): ``/v1/completions`` with ``echo=True`` and
  ``logprobs`` returns the log-probability of every token of prompt + answer, so
  log p(answer | prompt) is read off by teacher forcing, like the local adapters. Several
  prompts travel in one request.
- ``"chat"`` (approximate): ``/v1/chat/completions`` has no echo, so the answer is scored from
  a greedy reply with ``logprobs``/``top_logprobs``: tokens matching the answer add their
  log-probability; at the first token that differs, the answer's continuation is looked up
  among the top alternatives (or given ``floor``), and the rest of the answer, which the
  endpoint never conditioned on, is charged ``floor`` per remaining answer token (estimated
  at 4 characters a token). Use it only where no completions endpoint exists.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from interplay.errors import ModelUnavailableError
from interplay.models.base import LanguageModel

__all__ = ["EndpointError", "OpenAICompatLM", "check_base_url"]

_MODES = ("completions", "chat")
#: HTTP statuses worth retrying: timeout, conflict, rate limit, server errors
_RETRY_STATUS = frozenset({408, 409, 429})


class EndpointError(ModelUnavailableError):
    """The endpoint failed (unreachable, HTTP error, malformed answer) after bounded retries."""


def check_base_url(base_url: Any) -> str:
    """``base_url`` if it is an ``http(s)://host[:port][/path]`` URL, else a ``ValueError``."""
    from urllib.parse import urlsplit

    if not isinstance(base_url, str) or not base_url.strip():
        raise ValueError(
            "the endpoint URL is empty; give the server's base URL, e.g. http://127.0.0.1:8000/v1"
        )
    try:
        parts = urlsplit(base_url.strip())
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise ValueError(
            f"the endpoint URL {base_url!r} is not an http(s) URL; give the server's base URL, "
            "e.g. http://127.0.0.1:8000/v1"
        )
    return base_url.strip()


class OpenAICompatLM(LanguageModel):
    """A language model behind an OpenAI-compatible endpoint.

    Parameters
    ----------
    base_url : str
        E.g. ``"http://127.0.0.1:8000/v1"``.
    model : str
        The model name the endpoint serves.
    api_key : str, optional
        Sent as a bearer token (default: ``$OPENAI_API_KEY`` or ``"EMPTY"``).
    mode : {"completions", "chat"}
        See the module docstring: ``completions`` is exact teacher forcing.
    template : str, optional
        Completions mode: the prompt sent is ``template.format(prompt=text)`` (e.g. a chat
        format written out); default: the text itself.
    system_prompt : str, optional
        Chat mode: a system message.
    max_concurrency : int
        Requests in flight at once.
    prompts_per_request : int
        Completions mode: prompts sent together in one request.
    max_retries : int
        Retries of a failed request (connection errors, timeouts, 408/409/429/5xx), with
        exponential backoff from ``retry_backoff`` seconds.
    timeout : float
        Seconds before one request is abandoned (then retried while time is left).
    max_retry_time : float
        Seconds after a request's first failure beyond which it is not retried again; the
        failure is then raised as :class:`EndpointError`.
    retry_backoff : float
        Seconds before the first retry; doubled at each further retry.
    top_logprobs : int
        Chat mode: alternatives requested per position.
    floor : float
        Chat mode: log-probability charged per answer token the endpoint did not score.
    client : openai.OpenAI, optional
        A ready client (the other connection options are then ignored).
    """

    def __init__(
        self,
        base_url: str | None,
        model: str,
        *,
        api_key: str | None = None,
        mode: str = "completions",
        template: str | None = None,
        system_prompt: str | None = None,
        max_concurrency: int = 4,
        prompts_per_request: int = 8,
        max_retries: int = 3,
        timeout: float = 30.0,
        max_retry_time: float = 20.0,
        retry_backoff: float = 0.5,
        top_logprobs: int = 20,
        floor: float = -20.0,
        client: Any = None,
    ) -> None:
        if mode not in _MODES:
            raise ValueError(f"unknown mode {mode!r}; valid: {', '.join(_MODES)}")
        if int(max_concurrency) < 1 or int(prompts_per_request) < 1:
            raise ValueError("max_concurrency and prompts_per_request must be positive")
        if template is not None and "{prompt}" not in template:
            raise ValueError("template must contain '{prompt}'")
        if not float(timeout) > 0:
            raise ValueError(f"timeout must be positive (seconds), got {timeout}")
        if int(max_retries) < 0 or not float(max_retry_time) >= 0 or float(retry_backoff) < 0:
            raise ValueError("max_retries, max_retry_time and retry_backoff must be non-negative")
        if client is None:
            import os

            import openai

            base_url = check_base_url(base_url)
            client = openai.OpenAI(
                base_url=base_url,
                api_key=api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY",
                max_retries=0,  # retried here, within max_retry_time
                timeout=float(timeout),
            )
        self.client = client
        self.base_url = str(base_url)
        self.model = str(model)
        self.mode = mode
        self.template = template
        self.system_prompt = system_prompt
        self.max_concurrency = int(max_concurrency)
        self.prompts_per_request = int(prompts_per_request)
        self.top_logprobs = int(top_logprobs)
        self.floor = float(floor)
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.max_retry_time = float(max_retry_time)
        self.retry_backoff = float(retry_backoff)
        self.n_requests = 0
        self._lock = threading.Lock()

    def identity(self) -> str:
        return (
            f"openai:{self.base_url}:{self.model}:{self.mode}:{self.template}:"
            f"{self.system_prompt}"
        )

    # ------------------------------------------------------------- helpers
    def _format(self, text: str) -> str:
        return text if self.template is None else self.template.format(prompt=text)

    def _messages(self, text: str) -> list[dict[str, str]]:
        messages = []
        if self.system_prompt is not None:
            messages.append({"role": "system", "content": self.system_prompt})
        messages.append({"role": "user", "content": text})
        return messages

    def _count(self) -> None:
        with self._lock:
            self.n_requests += 1

    def _request(self, create: Callable[..., Any], **kwargs: Any) -> Any:
        """``create(**kwargs)`` with bounded retries; a response holding choices, or an
        :class:`EndpointError`."""
        import openai

        started = time.monotonic()
        attempt = 0
        not_openai = "check that the URL is an OpenAI-compatible API (it usually ends in /v1)"
        while True:
            self._count()
            try:
                out = create(model=self.model, **kwargs)
            except openai.APIStatusError as exc:
                status = exc.status_code
                error, retry = exc, status in _RETRY_STATUS or status >= 500
                cause = f"answered HTTP {status} ({_first_line(exc.message)})"
                advice = {401: "check --api-key", 403: "check --api-key",
                          404: f"check the URL and the model name {self.model!r}"}.get(
                    status, "the server is failing: see its log")
            except openai.APITimeoutError as exc:
                error, retry = exc, True
                cause = f"did not answer within {self.timeout:g} s"
                advice = "raise --timeout if the server is only slow"
            except openai.APIConnectionError as exc:
                error, retry = exc, True
                cause = f"cannot be reached ({_root_cause(exc)})"
                advice = "check that the server is running at this address"
            except (openai.APIResponseValidationError, ValueError, TypeError) as exc:
                error, retry = exc, False
                cause = f"sent an answer that is not valid JSON ({_first_line(str(exc))})"
                advice = not_openai
            else:
                choices = getattr(out, "choices", None)
                if isinstance(choices, list) and choices:
                    return out
                error, retry = None, False
                cause = "sent an answer without choices"
                advice = not_openai
            wait = self.retry_backoff * 2.0**attempt
            elapsed = time.monotonic() - started
            if not retry or attempt >= self.max_retries or elapsed + wait > self.max_retry_time:
                tries = f"{attempt + 1} tries in {elapsed:.0f} s" if attempt else "1 try"
                raise EndpointError(
                    f"the endpoint {self.base_url} {cause} ({tries}); {advice}"
                ) from error
            time.sleep(wait)
            attempt += 1

    # ---------------------------------------------------------- generation
    def generate(self, prompt: str, *, max_new_tokens: int = 32) -> str:
        """Greedy (temperature 0) answer."""
        if self.mode == "completions":
            out = self._request(
                self.client.completions.create, prompt=self._format(prompt),
                max_tokens=int(max_new_tokens), temperature=0.0,
            )
            return str(out.choices[0].text or "")
        out = self._request(
            self.client.chat.completions.create, messages=self._messages(prompt),
            max_tokens=int(max_new_tokens), temperature=0.0,
        )
        return str(out.choices[0].message.content or "")

    # -------------------------------------------------------------- scoring
    def answer_logprobs(self, prompts: Sequence[str], answer: str) -> np.ndarray:
        """(N,) float array: log p(answer | prompt) summed over the answer's tokens."""
        prompts = list(prompts)
        if not answer:
            raise ValueError("the answer is empty")
        if self.mode == "completions":
            step = self.prompts_per_request
            chunks = [prompts[i : i + step] for i in range(0, len(prompts), step)]

            def work(chunk: list[str]) -> list[float]:
                return self._score_completions(chunk, answer)
        else:
            chunks = [[p] for p in prompts]

            def work(chunk: list[str]) -> list[float]:
                return [self._score_chat(chunk[0], answer)]

        if len(chunks) == 1:
            results = [work(chunks[0])]
        else:
            with ThreadPoolExecutor(max_workers=self.max_concurrency) as pool:
                results = list(pool.map(work, chunks))
        return np.array([v for chunk in results for v in chunk], dtype=np.float64)

    def _score_completions(self, prompts: list[str], answer: str) -> list[float]:
        texts = [self._format(p) for p in prompts]
        out = self._request(
            self.client.completions.create,
            prompt=[t + answer for t in texts],
            max_tokens=1,
            temperature=0.0,
            echo=True,
            logprobs=0,
        )
        choices = sorted(out.choices, key=lambda c: c.index)
        if len(choices) != len(texts):
            raise EndpointError(
                f"the endpoint {self.base_url} returned {len(choices)} choices for "
                f"{len(texts)} prompts; use a server that accepts a list of prompts"
            )
        values = []
        for text, choice in zip(texts, choices):
            lp = choice.logprobs
            if lp is None or lp.token_logprobs is None:
                raise EndpointError(
                    "the endpoint returned no logprobs for echo=True; it cannot score answers "
                    "in completions mode (try mode='chat')"
                )
            tokens = list(lp.tokens or [])
            offsets = list(lp.text_offset or [])
            if len(offsets) != len(tokens):  # rebuild offsets from the token texts
                offsets = list(np.cumsum([0] + [len(t) for t in tokens[:-1]]))
            start, end = len(text), len(text) + len(answer)
            total = 0.0
            for k, (tok, off, logp) in enumerate(zip(tokens, offsets, lp.token_logprobs)):
                # tokens overlapping the answer span; the one generated token comes after it
                if off + len(tok) > start and off < end:
                    if logp is None and k == 0:  # empty prompt, no start token: no context
                        continue
                    if logp is None:
                        raise EndpointError(
                            f"the endpoint {self.base_url} gave no log-probability to an "
                            "answer token; use a server that supports echo with logprobs"
                        )
                    total += float(logp)
            values.append(total)
        return values

    def _score_chat(self, prompt: str, answer: str) -> float:
        n_tokens = max(1, len(answer) // 3 + 2)
        out = self._request(
            self.client.chat.completions.create, messages=self._messages(prompt),
            max_tokens=n_tokens, temperature=0.0, logprobs=True, top_logprobs=self.top_logprobs,
        )
        content = out.choices[0].logprobs.content if out.choices[0].logprobs else None
        if not content:
            raise EndpointError(
                f"the endpoint {self.base_url} returned no logprobs for the chat completion; "
                "use a server that supports logprobs"
            )
        total, matched = 0.0, 0
        for item in content:
            rest = answer[matched:]
            if not rest:
                break
            if item.token and rest.startswith(item.token):
                total += float(item.logprob)
                matched += len(item.token)
                continue
            alt = [a for a in (item.top_logprobs or []) if a.token and rest.startswith(a.token)]
            if alt:
                best = max(alt, key=lambda a: len(a.token))
                total += float(best.logprob)
                matched += len(best.token)
            else:
                total += self.floor
            break  # the endpoint's context has left the answer: stop teacher forcing here
        remaining = len(answer) - matched
        if remaining > 0:
            total += self.floor * max(1, -(-remaining // 4))
        return total


def _first_line(text: Any) -> str:
    lines = str(text).strip().splitlines()
    return lines[0][:200] if lines else ""


def _root_cause(exc: BaseException) -> str:
    """The innermost cause's message (``Connection refused`` rather than ``Connection error.``)."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return _first_line(exc) or type(exc).__name__
