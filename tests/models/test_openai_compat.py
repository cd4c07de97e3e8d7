"""The OpenAI-compatible adapter against a real HTTP server on 127.0.0.1 started by the test.

The server (stdlib ``http.server``) implements ``/v1/completions`` (echo + logprobs) and
``/v1/chat/completions`` (logprobs + top_logprobs) backed by a deterministic toy language
model, so every number the adapter returns can be checked against a direct computation.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

pytest.importorskip("openai")

from interplay.models.openai_compat import EndpointError, OpenAICompatLM
from interplay.values.text import GenerativeValue

_TOKEN = re.compile(r"\s*\S+|\s+")


def tokenize(text: str) -> list[tuple[str, int]]:
    return [(m.group(), m.start()) for m in _TOKEN.finditer(text)]


def token_logprob(token: str, context: str) -> float:
    """Toy LM: a word seen in the context is likelier; longer tokens are less likely."""
    seen = token.strip().lower() in context.lower()
    return -0.5 - 0.05 * len(token) - (0.0 if seen else 1.5)


def reference(prompt: str, answer: str) -> float:
    text = prompt + answer
    # the server gives the very first token of a text no log-probability (no start token)
    return sum(
        token_logprob(t, text[:off]) for t, off in tokenize(text) if off >= len(prompt) and off
    )


class ToyServer:
    def __init__(self) -> None:
        self.fail_next = 0
        self.requests = 0
        self.active = 0
        self.max_active = 0
        self.delay = 0.0
        self.broken = None  # "garbage": not JSON; "empty": no choices; "html": a web page
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.requests += 1
                    server.active += 1
                    server.max_active = max(server.max_active, server.active)
                    fail = server.fail_next > 0
                    server.fail_next -= int(fail)
                try:
                    time.sleep(server.delay)
                    reply = self._reply(fail, body)
                finally:
                    # no longer active before the answer goes out: the client may send its
                    # next request as soon as it has read this one
                    with server.lock:
                        server.active -= 1
                self._send_raw(*reply)

            def _reply(self, fail, body):
                """(code, data, kind) of the answer to this request."""
                if fail:
                    return self._json(500, {"error": {"message": "try again"}})
                if server.broken == "garbage":
                    return 200, b'{"choices": [{"text": "Wars', "json"
                if server.broken == "html":
                    return 200, b"<html><body>Welcome</body></html>", "html"
                if server.broken == "empty":
                    return self._json(200, {"id": "x", "object": "text_completion",
                                            "created": 0, "model": "toy", "choices": []})
                if self.path == "/v1/completions":
                    return self._json(200, server.completions(body))
                if self.path == "/v1/chat/completions":
                    return self._json(200, server.chat(body))
                return self._json(404, {"error": {"message": "no route"}})

            @staticmethod
            def _json(code, payload):
                return code, json.dumps(payload).encode(), "json"

            def _send_raw(self, code, data, kind):
                self.send_response(code)
                self.send_header("Content-Type", f"application/{kind}" if kind == "json"
                                 else "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @staticmethod
    def reply(context: str) -> str:
        return " Warsaw , Poland" if "warsaw" in context.lower() else " I do not know"

    def completions(self, body):
        prompts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
        choices = []
        for i, prompt in enumerate(prompts):
            generated = tokenize(self.reply(prompt))[: body.get("max_tokens", 16)]
            gen_text = "".join(t for t, _ in generated)
            entry = {"index": i, "finish_reason": "length", "text": gen_text}
            if body.get("logprobs") is not None:
                full = prompt + gen_text if body.get("echo") else gen_text
                toks = tokenize(full)
                base = 0 if body.get("echo") else len(prompt)
                context = "" if body.get("echo") else prompt
                lps = [None if (body.get("echo") and k == 0) else
                       token_logprob(t, context + full[:off]) for k, (t, off) in enumerate(toks)]
                entry["logprobs"] = {
                    "tokens": [t for t, _ in toks], "token_logprobs": lps,
                    "text_offset": [base + off for _, off in toks], "top_logprobs": None,
                }
                if body.get("echo"):
                    entry["text"] = full
            choices.append(entry)
        return {"id": "cmpl-1", "object": "text_completion", "created": 0,
                "model": body["model"], "choices": choices}

    def chat(self, body):
        prompt = body["messages"][-1]["content"]
        generated = tokenize(self.reply(prompt))[: body.get("max_tokens", 16)]
        text = "".join(t for t, _ in generated)
        message = {"role": "assistant", "content": text}
        choice = {"index": 0, "finish_reason": "stop", "message": message, "logprobs": None}
        if body.get("logprobs"):
            content = []
            for t, off in generated:
                alts = [" Warsaw", " I", " Paris"]
                top = [{"token": a, "logprob": token_logprob(a, prompt + text[:off]),
                        "bytes": None} for a in alts]
                content.append({"token": t, "logprob": token_logprob(t, prompt + text[:off]),
                                "bytes": None, "top_logprobs": top})
            choice["logprobs"] = {"content": content}
        return {"id": "chat-1", "object": "chat.completion", "created": 0,
                "model": body["model"], "choices": [choice]}

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def server():
    srv = ToyServer()
    yield srv
    srv.close()


PROMPTS = ["Marie Curie was born in Warsaw. Where was she born?", "Where was she born?",
           "Curie Warsaw Poland", "", "born in Poland"]


def test_completions_mode_is_exact_teacher_forcing(server):
    lm = OpenAICompatLM(server.url, "toy", max_concurrency=3, prompts_per_request=2,
                        max_retries=0)
    answer = lm.generate(PROMPTS[0], max_new_tokens=3)
    assert answer == " Warsaw , Poland"
    got = lm.answer_logprobs(PROMPTS, answer)
    np.testing.assert_allclose(got, [reference(p, answer) for p in PROMPTS], atol=1e-9)
    assert got[0] > got[1]  # the context that mentions the answer makes it likelier
    assert lm.n_requests == 1 + 3  # 5 prompts, 2 per request


def test_template_is_applied(server):
    lm = OpenAICompatLM(server.url, "toy", template="Q: {prompt}\nA:", max_retries=0)
    got = lm.answer_logprobs(PROMPTS[:2], " Warsaw")
    want = [reference(f"Q: {p}\nA:", " Warsaw") for p in PROMPTS[:2]]
    np.testing.assert_allclose(got, want, atol=1e-9)
    with pytest.raises(ValueError, match="prompt"):
        OpenAICompatLM(server.url, "toy", template="no placeholder")


def test_retries_after_server_errors(server):
    server.fail_next = 2
    lm = OpenAICompatLM(server.url, "toy", max_retries=3, timeout=10)
    got = lm.answer_logprobs(PROMPTS[:1], " Warsaw")
    assert got[0] == pytest.approx(reference(PROMPTS[0], " Warsaw"))
    assert server.requests == 3  # two failures, then success


def test_failures_beyond_retries_raise(server):
    server.fail_next = 5
    lm = OpenAICompatLM(server.url, "toy", max_retries=1, timeout=10, retry_backoff=0.01)
    with pytest.raises(EndpointError, match=r"answered HTTP 500 .*2 tries.*see its log"):
        lm.answer_logprobs(PROMPTS[:1], " Warsaw")
    assert server.requests == 2


@pytest.mark.parametrize(
    ("broken", "message"),
    [("garbage", "not valid JSON"), ("empty", "without choices"), ("html", "without choices")],
)
def test_malformed_answers_are_one_clear_error_without_retries(server, broken, message):
    server.broken = broken
    lm = OpenAICompatLM(server.url, "toy")
    for call in (lambda: lm.generate("hi"), lambda: lm.answer_logprobs(PROMPTS[:3], " x")):
        with pytest.raises(EndpointError, match=message) as info:
            call()
        assert server.url in str(info.value) and "\n" not in str(info.value)
        assert "OpenAI-compatible" in str(info.value)
    assert server.requests == 2  # one request each: an answer in the wrong format is final


def test_a_dead_or_hung_server_is_given_up_on_in_bounded_time(server):
    import socket

    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"
    start = time.perf_counter()
    with pytest.raises(EndpointError, match="cannot be reached.*server is running"):
        OpenAICompatLM(dead, "toy").generate("hi")  # default retry settings
    assert time.perf_counter() - start < 15
    server.delay = 3.0
    lm = OpenAICompatLM(server.url, "toy", timeout=0.5, max_retry_time=1.0, retry_backoff=0.1)
    start = time.perf_counter()
    with pytest.raises(EndpointError, match=r"did not answer within 0.5 s.*--timeout"):
        lm.answer_logprobs(PROMPTS[:1], " Warsaw")
    assert time.perf_counter() - start < 3.0


def test_a_server_dying_mid_run_stops_the_engine_at_once(server):
    from interplay.runtime import ModelQueryError, QueryEngine

    lm = OpenAICompatLM(server.url, "toy", retry_backoff=0.01, max_retry_time=0.2,
                        prompts_per_request=4)
    value = GenerativeValue(lm, "Marie Curie was born in Warsaw. Where was she born?",
                            answer=" Warsaw")
    engine = QueryEngine(value, value.n_features, batch_size=4)
    masks = np.random.default_rng(1).random((64, value.n_features)) < 0.5
    engine(masks[:8])
    server.fail_next = 10**6  # the server now fails every request
    before = server.requests
    start = time.perf_counter()
    with pytest.raises(ModelQueryError, match="answered HTTP 500"):
        engine(masks[8:])
    assert time.perf_counter() - start < 5 and server.requests - before <= 8


@pytest.mark.parametrize("url", ["", "   ", "htp://x/v1", "not a url", "http://:80/v1",
                                 "http://localhost:99999/v1", None])
def test_malformed_urls_are_refused_before_any_request(url):
    with pytest.raises(ValueError, match="endpoint URL"):
        OpenAICompatLM(url, "toy")


def test_concurrency_is_bounded(server):
    server.delay = 0.05
    lm = OpenAICompatLM(server.url, "toy", max_concurrency=2, prompts_per_request=1,
                        max_retries=0)
    lm.answer_logprobs(PROMPTS * 2, " Warsaw")
    assert server.max_active == 2


def test_chat_mode_scores_matching_answers(server):
    lm = OpenAICompatLM(server.url, "toy", mode="chat", max_retries=0, floor=-30.0)
    answer = lm.generate(PROMPTS[0], max_new_tokens=10)
    assert answer == " Warsaw , Poland"
    got = lm.answer_logprobs(PROMPTS[:2], answer)
    # prompt 0: the greedy reply is the answer -> exact sum of its token log-probs
    assert got[0] == pytest.approx(reference(PROMPTS[0], answer))
    # prompt 1: the reply diverges at once; " Warsaw" is found among the alternatives and the
    # rest of the answer (9 characters -> 3 tokens) is charged the floor
    expected = token_logprob(" Warsaw", PROMPTS[1]) - 30.0 * 3
    assert got[1] == pytest.approx(expected)


def test_generative_value_over_http(server):
    lm = OpenAICompatLM(server.url, "toy", max_retries=0)
    value = GenerativeValue(lm, "Marie Curie was born in Warsaw. Where was she born?",
                            max_new_tokens=3)
    masks = np.random.default_rng(0).random((6, value.n_features)) < 0.5
    np.testing.assert_allclose(
        value(masks), [reference(p, value.answer) for p in value.render(masks)], atol=1e-9
    )
    assert value.fingerprint() != GenerativeValue(lm, "Where was she born?",
                                                  answer=value.answer).fingerprint()
    with pytest.raises(ValueError, match="mode"):
        OpenAICompatLM(server.url, "toy", mode="responses")


def test_a_wrong_path_is_a_404_naming_what_to_check(server):
    lm = OpenAICompatLM(server.url[: -len("/v1")], "toy")  # the base URL without /v1
    with pytest.raises(EndpointError, match=r"answered HTTP 404 .*1 try.*check the URL"):
        lm.generate("hi")
    assert server.requests == 1
