"""The composition root of a running kiosk: store, service, sync, flows, GPIO, readers, then the web server.

Used by `kiosk` (appliance.daemon), the demo and the tests; nothing below this package builds any of them."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from appliance.web_server import WebServer
from kiosk.config import Secrets, Settings, network_warning
from kiosk.flows import KioskFlows, build_flows
from kiosk.identity import digital_card_key
from kiosk.service import KioskService
from kiosk.store import Store, utcnow
from kiosk.ui_events import REFRESH, UiEvent, feedback_for
from web import create_app

if TYPE_CHECKING:
    from drivers.card_formats import CardFormats

log = logging.getLogger(__name__)


def card_formats(settings: Settings, secrets: Secrets) -> "CardFormats":
    """The readers' view of the chain's card formats; the digital-card key derives from the chain secret."""
    from drivers.card_formats import CardFormats
    from drivers.magstripe import MagstripeFormat

    c = settings.cards
    token_key = digital_card_key(secrets.chain_secret) if c.digital_cards else None
    return CardFormats(
        magstripe=MagstripeFormat(c.magstripe_track, c.magstripe_pattern),
        barcode_pattern=c.barcode_pattern,
        token_key=token_key,
        magstripe_lrc=c.magstripe_lrc,
        magstripe_enter_per_track=c.magstripe_enter_per_track,
        swipe_timeout_s=c.swipe_timeout_s,
    )


class Runtime:
    """Everything a kiosk runs, started in dependency order and closed in reverse."""

    def __init__(
        self,
        settings: Settings,
        secrets: Secrets,
        *,
        clock: Callable[[], datetime] = utcnow,
        open_reader: Callable[..., Any] | None = None,
        port: int | None = None,
        pin_factory: Any = None,
    ) -> None:
        self.settings = settings
        self.secrets = secrets
        self._clock = clock
        if open_reader is None:
            from drivers.registry import open_reader as default_open_reader

            open_reader = default_open_reader
        self._open_reader = open_reader
        self._pin_factory = pin_factory
        self._port = settings.web.port if port is None else port
        self.store: Store | None = None
        self.service: KioskService | None = None
        self.readers: list[Any] = []
        self.tap_server: Any = None
        self.sync: Any = None
        self._server: Any = None
        self.flows: KioskFlows | None = None
        self._closers: list[Callable[[], None]] = []

    @property
    def url(self) -> str:
        return f"http://{self.settings.web.host}:{self._server.port}/"

    @property
    def emulators(self) -> dict[str, Any]:
        """Emulated devices by reader id, for the demo's `kioskctl tap` and for tests."""
        return {r.reader_id: r.emulator for r in self.readers if getattr(r, "emulator", None) is not None}

    def start(self) -> "Runtime":
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self) -> None:
        s = self.settings
        s.device.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(s.database_path, device_id=s.device.id, clock=self._clock)
        self._closers.append(self.store.close)
        self.service = KioskService(self.store, s, self.secrets, clock=self._clock).start()
        self._closers.append(self.service.close)
        self._start_sync()
        self._start_gpio()
        formats = card_formats(s, self.secrets)
        for reader_settings in s.readers:
            reader = self._open_reader(
                reader_settings.uri, self.service.put, reader_id=reader_settings.id,
                debounce_s=reader_settings.debounce_s, formats=formats,
            )
            self.readers.append(reader)
            self._closers.append(reader.close)
            reader.start()
        if self.emulators:
            from drivers.emulated.control import TapControlServer

            by_kind = {getattr(e, "kind", rid): e for rid, e in self.emulators.items()}
            self.tap_server = TapControlServer(by_kind, s.control_socket)
            self.tap_server.start()
            self._closers.append(self.tap_server.close)
        self.flows = build_flows(self.service, codes=self._phone_codes(), cases=self._complaint_cases())
        self._closers.append(self.flows.close)
        if self.sync is not None and self.flows.on_screen is not None:
            # What the tap's reconcile learned shows on that tap's screen (kiosk.flows.on_screen).
            self.sync.after_reconcile.append(self.flows.on_screen.reconciled)
        app, self.socketio = create_app(self.flows, s)
        self.app = app
        warning = network_warning(s.web)
        if warning:
            log.warning("%s", warning)
        self._server = WebServer(app, self.socketio, host=s.web.host, port=self._port).start()
        self._closers.append(self._server.close)
        log.info("kiosk %s serving on %s", s.device.id, self.url)

    def _start_sync(self) -> None:
        """The outbox drains to the cloud in the background; the screen hears about the link."""
        from kiosk.sync.errors import NotRegistered
        from kiosk.sync.setup import worker_from_settings

        service, store = self.service, self.store
        assert service is not None and store is not None

        def on_status(status: Any) -> None:
            service.link = status.link.value
            service.emit(UiEvent.LINK_STATE, status.to_json())

        def on_config(document: dict[str, Any]) -> None:
            service.apply_config(document)

        try:
            self.sync = worker_from_settings(self.settings, store, clock=self._clock, on_config=on_config,
                                             on_status=on_status)
        except NotRegistered as exc:
            log.warning("not syncing: %s", exc)
            service.link = "offline"
            return
        if self.sync is None:
            return
        service.link = "offline"  # until the first exchange with the cloud succeeds
        store.add_listener(self.sync.wake)
        # Every member tap is followed by a reconcile; its own repaint (REFRESH) is not a tap.
        service.subscribe(lambda name, payload: self.sync.request_reconcile(payload["member_id"])
                          if name == UiEvent.MEMBER and not payload.get(REFRESH) else None)
        from kiosk.sync.engagement import exchange_engagement

        sync = self.sync
        sync.after_drain.append(lambda: exchange_engagement(store, sync.client))  # draws, games, prize grants
        # The fleet page's heartbeat: version, outbox backlog, readers; a reader that changes is reported at once.
        from kiosk.sync.fleet import HeartbeatSender, software_version

        heartbeat = HeartbeatSender(store, sync.client, lambda: {rid: st.state.value for rid, st in
                                                                 list(service.reader_status.items())},
                                    software_version(), clock=self._clock)
        sync.before_drain.append(heartbeat)
        service.subscribe(lambda name, payload: (heartbeat.due_now(), sync.wake())
                          if name == UiEvent.READER_STATUS else None)
        self.sync.start()
        self._closers.append(self.sync.close)
        # Members enrolled at other branches: an unknown card is looked up in the cloud.
        from kiosk.sync.lookup import ChainCardLookup

        lookup = ChainCardLookup(self.sync.client.clone())
        self._closers.append(lookup.close)
        service.chain_lookup = lookup
        service.chain_join_lookup = lookup.joined_by_sms
        # Coupons of other branches at this till, and this kiosk's own claimed chain-wide before they are used.
        from kiosk.sync.coupons import ChainCoupons

        chain_coupons = ChainCoupons(self.sync.client.clone())
        self._closers.append(chain_coupons.close)
        service.chain_coupons = chain_coupons

    def _phone_codes(self) -> Any:
        """One-time enrolment codes through the cloud's SMS hook, when the chain turned them on."""
        if not self.settings.enrollment.sms_otp:
            return None
        from kiosk.sync.phone_codes import PhoneCodes
        from kiosk.sync.setup import client_from_settings

        # A client per request: credentials are read then, so a kiosk registered after start works at once.
        return PhoneCodes(lambda: client_from_settings(self.settings, clock=self._clock))

    def _complaint_cases(self) -> Any:
        """Complaint look-ups ask the cloud; a kiosk without one says it cannot look codes up."""
        if not self.settings.cloud.url:
            return None
        from kiosk.sync.complaints import CloudCases
        from kiosk.sync.setup import client_from_settings

        return CloudCases(lambda: client_from_settings(self.settings, clock=self._clock))

    def _start_gpio(self) -> None:
        """LEDs and buzzer follow the service's UI events; a PIR sensor wakes the screen."""
        from drivers.gpio.feedback import feedback_from_config
        from drivers.gpio.motion import motion_from_config

        s = self.settings
        if not (s.feedback or s.motion):
            return  # no GPIO configured: do not make gpiozero look for pins on a dev machine
        service = self.service
        assert service is not None
        feedback = feedback_from_config(s.feedback, pin_factory=self._pin_factory)
        self._closers.append(feedback.close)

        def play(name: str, payload: dict[str, Any]) -> None:
            pattern = feedback_for(name, payload)
            if pattern is not None:
                feedback.signal(pattern)

        service.subscribe(play)
        motion = motion_from_config(s.motion, lambda: service.emit(UiEvent.WAKE, {}), pin_factory=self._pin_factory)
        if motion is not None:
            self._closers.append(motion.close)

    def close(self) -> None:
        while self._closers:
            closer = self._closers.pop()
            try:
                closer()
            except Exception:  # keep closing the rest
                log.exception("error while closing %r", closer)

    def __enter__(self) -> "Runtime":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
