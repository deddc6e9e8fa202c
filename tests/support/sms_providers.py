"""Loopback SMS providers speaking the documented shapes of the APIs the cloud's adapters call.

`FakeKavenegar`: POST /v1/<API-KEY>/sms/send.json (form receptor, message, sender, localid) answered with
Kavenegar's {"return": {...}, "entries": [...]} envelope and its error codes (403 key, 418 credit,
411 receptor); a repeated localid returns the first message, as Kavenegar documents. Its bulk call
POST /v1/<API-KEY>/sms/sendarray.json takes receptor, sender, message and localmessageids as JSON arrays
of equal length (419 otherwise), at most 200 (414), and answers one entry per receptor in order; one bad
receptor refuses the whole call (411). `calls` counts the HTTP calls each path received. `FakePanel`: a
generic JSON panel (401 key, 402 credit, 400 number, 429 + Retry-After). Both can be told to answer
429 (rate limited) or 503 (down) for a while. `hold_until_clients` holds every send until that many client
connections have called (so a test knows two drain processes overlap); each Sent keeps its arrival time.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field

from flask import Flask, jsonify, request

from appliance.web_server import WebServer

_MOBILE = re.compile(r"^(?:98|0)?9[0-9]{9}$")


@dataclass
class Sent:
    receptor: str
    message: str
    sender: str
    provider_id: int
    at: float = field(default_factory=time.time)  # arrival, wall clock (comparable across processes)


@dataclass
class ProviderState:
    api_key: str
    credit: int = 1_000_000
    rate_limited: int = 0  # answer 429 to this many next requests
    down: int = 0  # answer 503 to this many next requests
    sent: list[Sent] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    by_local_id: dict[str, Sent] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    hold_until_clients: int = 0
    clients: set[str] = field(default_factory=set)
    gate: threading.Condition = field(default_factory=threading.Condition)

    def wait_for_clients(self, client: str) -> None:
        if not self.hold_until_clients:
            return
        with self.gate:
            self.clients.add(client)
            self.gate.notify_all()
            # Bounded, so a test whose second client never comes fails on its assertions instead of hanging.
            self.gate.wait_for(lambda: len(self.clients) >= self.hold_until_clients, timeout=60)

    def outage(self) -> tuple[int, dict] | None:
        if self.down:
            self.down -= 1
            return 503, {}
        if self.rate_limited:
            self.rate_limited -= 1
            return 429, {"Retry-After": "7"}
        return None


def _kavenegar_app(state: ProviderState) -> Flask:
    app = Flask("fake-kavenegar")

    def answer(status: int, message: str, entries: list | None = None, headers: dict | None = None):
        return jsonify({"return": {"status": status, "message": message}, "entries": entries}), status, headers or {}

    def take(receptor: str, message: str, sender: str, local_id: str) -> Sent:
        """Send one checked message (or find the one its local id already sent); the caller holds the lock."""
        if local_id and local_id in state.by_local_id:
            return state.by_local_id[local_id]
        state.credit -= 1
        sent = Sent(receptor, message, sender, 8792343 + len(state.sent))
        state.sent.append(sent)
        if local_id:
            state.by_local_id[local_id] = sent
        return sent

    @app.post("/v1/<api_key>/sms/sendarray.json")
    def send_array(api_key: str):
        state.wait_for_clients(f"{request.remote_addr}:{request.environ.get('REMOTE_PORT')}")
        with state.lock:
            state.calls["sendarray"] = state.calls.get("sendarray", 0) + 1
            outage = state.outage()
            if outage:
                return answer(outage[0], "try later", headers=outage[1])
            if api_key != state.api_key:
                return answer(403, "کد شناسائی API-Key معتبر نمی‌باشد")
            try:
                arrays = {name: json.loads(request.form[name]) for name in ("receptor", "sender", "message")}
                local_ids = json.loads(request.form.get("localmessageids", "null"))
            except (KeyError, ValueError):
                return answer(406, "پارامترهای اجباری خالی ارسال شده اند")
            receptors = arrays["receptor"]
            if not all(isinstance(a, list) for a in arrays.values()) or not receptors:
                return answer(406, "پارامترهای اجباری خالی ارسال شده اند")
            local_ids = local_ids if local_ids is not None else [""] * len(receptors)
            if any(len(a) != len(receptors) for a in (*arrays.values(), local_ids)):
                return answer(419, "طول آرایه ها برابر نیست")
            if len(receptors) > 200:
                return answer(414, "تعداد رکوردها بیش از حد مجاز است")
            fresh = [i for i, local in enumerate(local_ids) if not (local and str(local) in state.by_local_id)]
            if any(not _MOBILE.match(str(receptors[i])) for i in fresh):
                return answer(411, "دریافت کننده نامعتبر است")
            if state.credit < len(fresh):
                return answer(418, "اعتبار حساب شما کافی نیست")
            entries = [_entry(take(str(r), str(m), str(s), str(local or "")))
                       for r, s, m, local in zip(receptors, arrays["sender"], arrays["message"], local_ids)]
            return answer(200, "تایید شد", entries)

    @app.post("/v1/<api_key>/sms/send.json")
    def send(api_key: str):
        state.wait_for_clients(f"{request.remote_addr}:{request.environ.get('REMOTE_PORT')}")
        with state.lock:
            state.calls["send"] = state.calls.get("send", 0) + 1
            outage = state.outage()
            if outage:
                return answer(outage[0], "try later", headers=outage[1])
            if api_key != state.api_key:
                return answer(403, "کد شناسائی API-Key معتبر نمی‌باشد")
            form = request.form
            if not form.get("receptor") or not form.get("message"):
                return answer(406, "پارامترهای اجباری خالی ارسال شده اند")
            local_id = form.get("localid", "")
            if local_id and local_id in state.by_local_id:
                return answer(200, "تایید شد", [_entry(state.by_local_id[local_id])])
            if not _MOBILE.match(form["receptor"]):
                return answer(411, "دریافت کننده نامعتبر است")
            if state.credit < 1:
                return answer(418, "اعتبار حساب شما کافی نیست")
            return answer(200, "تایید شد", [_entry(take(form["receptor"], form["message"], form.get("sender", ""),
                                                         local_id))])

    return app


def _entry(sent: Sent) -> dict:
    return {"messageid": sent.provider_id, "message": sent.message, "status": 1, "statustext": "در صف ارسال",
            "sender": sent.sender, "receptor": sent.receptor, "date": 1356619709, "cost": 120}


def _panel_app(state: ProviderState) -> Flask:
    app = Flask("fake-panel")

    @app.post("/api/send")
    def send():
        with state.lock:
            outage = state.outage()
            if outage:
                return jsonify({"error": "busy"}), outage[0], outage[1]
            body = request.get_json(silent=True) or {}
            if body.get("key") != state.api_key:
                return jsonify({"error": "wrong key"}), 401
            if not _MOBILE.match(str(body.get("to", ""))):
                return jsonify({"error": "invalid number"}), 400
            if state.credit < 1:
                return jsonify({"error": "no credit"}), 402
            state.credit -= 1
            sent = Sent(body["to"], body.get("text", ""), body.get("from", ""), 5000 + len(state.sent))
            state.sent.append(sent)
            return jsonify({"id": sent.provider_id}), 200

    return app


class FakeProvider:
    def __init__(self, kind: str, api_key: str = "good-key") -> None:
        self.state = ProviderState(api_key)
        app = _kavenegar_app(self.state) if kind == "kavenegar" else _panel_app(self.state)
        self._server = WebServer(app, threads=8).start()
        self.url = self._server.url

    @property
    def sent(self) -> list[Sent]:
        with self.state.lock:
            return list(self.state.sent)

    def __enter__(self) -> FakeProvider:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.close()


def main() -> None:
    """`python -m tests.support.sms_providers KIND`: serve a loopback provider in its own process (benchmarks:
    a real provider is another machine, so its work should not share the measured process's GIL); prints the
    URL, serves until its standard input closes."""
    import sys

    with FakeProvider(sys.argv[1] if len(sys.argv) > 1 else "kavenegar") as provider:
        print(provider.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
