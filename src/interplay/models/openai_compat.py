"""Any OpenAI-compatible HTTP endpoint (vLLM, llama.cpp server, TGI, OpenAI, ...).

Uses the official ``openai`` client, with its retries (exponential backoff, honouring
``Retry-After``) and timeouts, and a thread pool that bounds the number of requests in flight.

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
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from interplay.models.base import LanguageModel

__all__ = ["OpenAICompatLM"]

_MODES = ("completions", "chat")


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
        Retries of a failed request (connection errors, 408/409/429/5xx), with backoff.
    timeout : float
        Seconds before a request is abandoned (then retried).
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
        timeout: float = 60.0,
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
        if client is None:
            import os

            import openai

            client = openai.OpenAI(
                base_url=base_url,
                api_key=api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY",
                max_retries=int(max_retries),
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

    # ---------------------------------------------------------- generation
    def generate(self, prompt: str, *, max_new_tokens: int = 32) -> str:
        """Greedy (temperature 0) answer."""
        self._count()
        if self.mode == "completions":
            out = self.client.completions.create(
                model=self.model, prompt=self._format(prompt), max_tokens=int(max_new_tokens),
                temperature=0.0,
            )
            return out.choices[0].text
        out = self.client.chat.completions.create(
            model=self.model, messages=self._messages(prompt), max_tokens=int(max_new_tokens),
            temperature=0.0,
        )
        return out.choices[0].message.content or ""

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
        self._count()
        out = self.client.completions.create(
            model=self.model,
            prompt=[t + answer for t in texts],
            max_tokens=1,
            temperature=0.0,
            echo=True,
            logprobs=0,
        )
        choices = sorted(out.choices, key=lambda c: c.index)
        if len(choices) != len(texts):
            raise ValueError(f"the endpoint returned {len(choices)} choices for {len(texts)}")
        values = []
        for text, choice in zip(texts, choices):
            lp = choice.logprobs
            if lp is None or lp.token_logprobs is None:
                raise ValueError(
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
                        raise ValueError("the endpoint gave no log-probability to an answer token")
                    total += float(logp)
            values.append(total)
        return values

    def _score_chat(self, prompt: str, answer: str) -> float:
        self._count()
        n_tokens = max(1, len(answer) // 3 + 2)
        out = self.client.chat.completions.create(
            model=self.model, messages=self._messages(prompt), max_tokens=n_tokens,
            temperature=0.0, logprobs=True, top_logprobs=self.top_logprobs,
        )
        content = out.choices[0].logprobs.content if out.choices[0].logprobs else None
        if not content:
            raise ValueError("the endpoint returned no logprobs for the chat completion")
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
