"""The chain's message settings (a TOML file) and the gateway credentials (a 0600 secret file).

Settings say when and what to send; the secret file holds only what must not leak: the gateway's API key
and the webhook secret that the provider's callbacks carry in their path. Every mistake is a
:class:`MessageSettingsError` naming the key to fix.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cloud.errors import CloudError
from cloud.messages.gateways import Gateway, OutboxGateway
from cloud.messages.http_post import HttpPostGateway, HttpPostSpec
from cloud.messages.kavenegar import DEFAULT_BASE_URL, KavenegarGateway
from cloud.messages.rules import QuietHours, TemplateError, check_template

LANGUAGES = ("fa", "ar", "en")
MEMBER_VARIABLES = frozenset({"first_name", "points", "club", "link"})
# Texts with a variable of their own: {tier} is the tier reached ({points} in "expiring" is the points expiring).
# Campaigns also have the member's tier (named in the member's language) and the coupon the campaign gives.
CAMPAIGN_VARIABLES = MEMBER_VARIABLES | {"tier", "coupon"}
# The default tiers (kiosk.rules) as the kiosk screen names them (web/ catalogue); `[tier_names.ID]` names a
# tier (or renames it) per language; a tier named nowhere is texted by its id.
TIER_NAMES: dict[str, dict[str, str]] = {
    "bronze": {"fa": "برنزی", "ar": "برونزي", "en": "Bronze"},
    "silver": {"fa": "نقره‌ای", "ar": "فضي", "en": "Silver"},
    "gold": {"fa": "طلایی", "ar": "ذهبي", "en": "Gold"},
}
KIND_VARIABLES = {"tier": MEMBER_VARIABLES | {"tier"}, "coupon": MEMBER_VARIABLES | {"coupon"},
                  "draw_win": MEMBER_VARIABLES | {"draw", "prize"}}

DEFAULT_TEXTS: dict[str, dict[str, str]] = {
    "birthday": {"fa": "{first_name} عزیز، تولدت مبارک! از طرف {club}",
                 "ar": "{first_name} العزيز، عيد ميلاد سعيد! من {club}",
                 "en": "Happy birthday, {first_name}! From {club}"},
    "anniversary": {"fa": "{first_name} عزیز، یک سال دیگر با {club} بودی. سپاس!",
                    "ar": "{first_name}، شكراً لعام آخر مع {club}!",
                    "en": "{first_name}, thank you for another year with {club}!"},
    "lapsed": {"fa": "{first_name} عزیز، دلمان برایت تنگ شده! {points} امتیاز در {club} منتظر توست.",
               "ar": "{first_name}، اشتقنا إليك! {points} نقطة بانتظارك في {club}.",
               "en": "{first_name}, we miss you! {points} points are waiting at {club}."},
    "tier": {"fa": "{first_name} عزیز، به سطح {tier} در {club} رسیدید!",
             "ar": "{first_name}، وصلت إلى مستوى {tier} في {club}!",
             "en": "{first_name}, you have reached {tier} at {club}!"},
    "expiring": {"fa": "{first_name} عزیز، {points} امتیاز شما در {club} به‌زودی منقضی می‌شود.",
                 "ar": "{first_name}، ستنتهي صلاحية {points} من نقاطك في {club} قريباً.",
                 "en": "{first_name}, {points} of your points at {club} expire soon."},
    "coupon": {"fa": "{first_name} عزیز، کد کوپن شما در {club}: {coupon}",
               "ar": "{first_name}، رمز قسيمتك في {club}: {coupon}",
               "en": "{first_name}, your coupon code at {club}: {coupon}"},
    "draw_win": {"fa": "{first_name} عزیز، در قرعه‌کشی {draw} برنده شدید: {prize}. {club}",
                 "ar": "{first_name}، لقد فزت في سحب {draw}: {prize}. {club}",
                 "en": "{first_name}, you won the {draw} draw: {prize}. {club}"},
    "welcome": {"fa": "به باشگاه {club} خوش آمدید. در مراجعه بعدی عضویت خود را در فروشگاه کامل کنید.",
                "ar": "مرحباً بك في نادي {club}. أكمل عضويتك في زيارتك القادمة للمتجر.",
                "en": "Welcome to the {club} club. Complete your membership at the shop on your next visit."},
    "opted_out": {"fa": "لغو شد. دیگر پیام تبلیغاتی از {club} دریافت نمی‌کنید.",
                  "ar": "تم الإلغاء. لن تصلك رسائل ترويجية من {club}.",
                  "en": "Done: no more marketing messages from {club}."},
}

# Jalali month-day of the fixed occasions (lunar-calendar ones move each year and are added by the chain).
PRESET_OCCASIONS: tuple[dict[str, Any], ...] = (
    {"name": "nowruz", "jalali": "01-01", "fa": "{first_name} عزیز، نوروزتان پیروز! {club}",
     "ar": "{first_name}، نوروز مبارك! {club}", "en": "Happy Nowruz, {first_name}! {club}"},
    {"name": "sizdah_bedar", "jalali": "01-13", "fa": "سیزده‌بدر خوش بگذرد، {first_name}! {club}",
     "ar": "يوم طبيعة سعيد، {first_name}! {club}", "en": "Happy Nature Day, {first_name}! {club}"},
    {"name": "yalda", "jalali": "09-30", "fa": "{first_name} عزیز، شب یلدا مبارک! {club}",
     "ar": "ليلة يلدا سعيدة، {first_name}! {club}", "en": "Happy Yalda night, {first_name}! {club}"},
)


class MessageSettingsError(CloudError):
    """A message settings or secret file that cannot be used as it is."""


@dataclass(frozen=True)
class Occasion:
    name: str
    jalali_month: int
    jalali_day: int
    texts: Mapping[str, str]


@dataclass(frozen=True)
class MessageSettings:
    club: str = "Club"
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Tehran"))
    quiet: QuietHours = QuietHours()
    rate_per_second: float = 10.0
    calendar: str = "jalali"
    default_language: str = "fa"
    join_keywords: frozenset[str] = frozenset({"عضویت", "join"})
    anniversary: bool = True
    status_url: str = ""  # where /m/<code> is served, e.g. "https://club.example.ir/m/"; needed for {link}
    link_days: int = 14
    lapsed_days: int = 90
    expiry_warning_days: int = 14  # warn when points expire within this many days; 0 = off
    coupon_notice: bool = True  # text the code of a coupon a kiosk issued (a reward redeemed)
    tier_greeting: bool = True  # a member whose last purchase is older gets one "we miss you"; 0 = off
    max_attempts: int = 8
    concurrency: int = 1
    cost_per_part_rial: int | None = None  # the provider's price of one SMS part, for campaign estimates
    delivery_report_hours: float = 48.0  # a sent message without a report after this is "unconfirmed"; 0 = never
    # Each shop's own zone for quiet hours (branch name -> zone); a branch not named keeps `zone`.
    branch_zones: Mapping[str, ZoneInfo] = field(default_factory=dict)
    texts: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: DEFAULT_TEXTS)
    occasions: tuple[Occasion, ...] = ()
    gateway: Mapping[str, Any] = field(default_factory=lambda: {"kind": "outbox"})
    tier_names: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: TIER_NAMES)

    def tier_name(self, tier: str, language: str) -> str:
        """A tier as a member reads it: its name in the member's language, else in the chain's, else its id."""
        names = self.tier_names.get(tier, {})
        return names.get(language) or names.get(self.default_language) or tier

    def zone_for(self, branch: str | None) -> ZoneInfo:
        """The time zone of a member's shop: its branch's, else the chain's."""
        return self.branch_zones.get(branch, self.zone) if branch else self.zone

    def text(self, kind: str, language: str) -> str:
        by_language = self.texts[kind]
        return by_language.get(language) or by_language[self.default_language]


@dataclass(frozen=True)
class Secrets:
    api_key: str = ""
    webhook_secret: str = ""


def _time(key: str, value: object) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise MessageSettingsError(f"{key} = {value!r}: write a 24-hour time like \"22:00\"") from None


def _texts(key: str, raw: Mapping[str, Any], allowed: frozenset[str] = MEMBER_VARIABLES) -> dict[str, str]:
    texts = {lang: raw[lang] for lang in LANGUAGES if isinstance(raw.get(lang), str)}
    if not texts:
        raise MessageSettingsError(f"{key} needs a text in at least one of {', '.join(LANGUAGES)}")
    for lang, text in texts.items():
        try:
            check_template(text, allowed)
        except TemplateError as exc:
            raise MessageSettingsError(f"{key}.{lang}: {exc}") from None
    return texts


def _occasion(key: str, raw: Mapping[str, Any]) -> Occasion:
    name, when = raw.get("name"), str(raw.get("jalali", ""))
    try:
        month, day = (int(part) for part in when.split("-"))
        if not (1 <= month <= 12 and 1 <= day <= (31 if month <= 6 else 30)):
            raise ValueError
    except ValueError:
        raise MessageSettingsError(f"{key}.jalali = {when!r}: write the Jalali month-day, like \"09-30\"") from None
    if not isinstance(name, str) or not name:
        raise MessageSettingsError(f"{key} needs a name")
    return Occasion(name, month, day, _texts(key, raw))


def _zone(key: str, value: object) -> ZoneInfo:
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise MessageSettingsError(f"{key} = {value!r}: use a zone like \"Asia/Tehran\"") from None


def settings_from(raw: Mapping[str, Any]) -> MessageSettings:
    """Validated settings from the parsed TOML document (sections [messages], [gateway], [texts.*])."""
    base = raw.get("messages", {})
    zone = _zone("messages.time_zone", base.get("time_zone", "Asia/Tehran"))
    branch_raw = base.get("branch_time_zones", {})
    if not isinstance(branch_raw, Mapping):
        raise MessageSettingsError("messages.branch_time_zones: give a table of branch = \"Zone/Name\"")
    branch_zones = {str(b): _zone(f"messages.branch_time_zones.{b}", z) for b, z in branch_raw.items()}
    report_hours = base.get("delivery_report_hours", 48)
    if isinstance(report_hours, bool) or not isinstance(report_hours, (int, float)) or report_hours < 0:
        raise MessageSettingsError(f"messages.delivery_report_hours = {report_hours!r}: give the hours to wait for"
                                   " a delivery report before a sent message counts as unconfirmed, 0 = never")
    quiet_raw = base.get("quiet_hours", ["22:00", "08:00"])
    if not isinstance(quiet_raw, list) or len(quiet_raw) != 2:
        raise MessageSettingsError("messages.quiet_hours: give [start, end], like [\"22:00\", \"08:00\"];"
                                   " equal times mean no quiet hours")
    rate = base.get("rate_per_second", 10)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate <= 0:
        raise MessageSettingsError(f"messages.rate_per_second = {rate!r}: give a positive number")
    concurrency = base.get("concurrency", 1)
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= 32:
        raise MessageSettingsError(f"messages.concurrency = {concurrency!r}: give 1..32 messages in flight"
                                   " (1 keeps the order strict across gateway faults)")
    status_url = str(base.get("status_url", ""))
    if status_url and not (status_url.startswith(("https://", "http://")) and status_url.endswith("/m/")):
        raise MessageSettingsError(f"messages.status_url = {status_url!r}: give the cloud's public address ending"
                                   " in /m/, like \"https://club.example.ir/m/\"")
    link_days = base.get("link_days", 14)
    if isinstance(link_days, bool) or not isinstance(link_days, int) or not 1 <= link_days <= 365:
        raise MessageSettingsError(f"messages.link_days = {link_days!r}: give 1..365 days a status link works")
    warning_days = base.get("expiry_warning_days", 14)
    if isinstance(warning_days, bool) or not isinstance(warning_days, int) or not 0 <= warning_days <= 365:
        raise MessageSettingsError(f"messages.expiry_warning_days = {warning_days!r}: give 0..365 days, 0 = off")
    lapsed_days = base.get("lapsed_days", 90)
    if isinstance(lapsed_days, bool) or not isinstance(lapsed_days, int) or lapsed_days < 0:
        raise MessageSettingsError(f"messages.lapsed_days = {lapsed_days!r}: give whole days without a purchase"
                                   " before the \"we miss you\" text, 0 = never")
    price = base.get("cost_per_part_rial")
    if price is not None and (isinstance(price, bool) or not isinstance(price, int) or price < 0):
        raise MessageSettingsError(f"messages.cost_per_part_rial = {price!r}: give the rial one SMS part costs,"
                                   " a whole number like 1200")
    calendar = base.get("calendar", "jalali")
    if calendar not in ("jalali", "gregorian"):
        raise MessageSettingsError(f"messages.calendar = {calendar!r}: use \"jalali\" or \"gregorian\"")
    language = base.get("default_language", "fa")
    if language not in LANGUAGES:
        raise MessageSettingsError(f"messages.default_language = {language!r}: use one of {', '.join(LANGUAGES)}")
    texts = {kind: dict(by_language) for kind, by_language in DEFAULT_TEXTS.items()}
    for kind, by_language in raw.get("texts", {}).items():
        if kind not in DEFAULT_TEXTS:
            raise MessageSettingsError(f"texts.{kind}: unknown; the texts are {', '.join(DEFAULT_TEXTS)}")
        texts[kind] = _texts(f"texts.{kind}", by_language, KIND_VARIABLES.get(kind, MEMBER_VARIABLES))
    tier_names = {tier: dict(names) for tier, names in TIER_NAMES.items()}
    for tier, names in raw.get("tier_names", {}).items():
        if not isinstance(names, Mapping) or not names or set(names) - set(LANGUAGES) \
                or not all(isinstance(v, str) and v.strip() for v in names.values()):
            raise MessageSettingsError(f"tier_names.{tier}: give the tier's name as text in one or more of"
                                       f" {', '.join(LANGUAGES)}, like fa = \"طلایی\"")
        tier_names[str(tier)] = {**TIER_NAMES.get(str(tier), {}), **names}
    occasions_raw = raw.get("occasions", list(PRESET_OCCASIONS))
    occasions = tuple(_occasion(f"occasions[{i}]", o) for i, o in enumerate(occasions_raw))
    if not base.get("status_url"):
        for where, by_language in [*((f"texts.{k}", v) for k, v in texts.items()),
                                   *((f"occasions {o.name}", o.texts) for o in occasions)]:
            if any("{link}" in text for text in by_language.values()):
                raise MessageSettingsError(f"{where} uses {{link}}: set messages.status_url first")
    gateway = dict(raw.get("gateway", {"kind": "outbox"}))
    if gateway.get("kind") not in ("outbox", "kavenegar", "http_post"):
        raise MessageSettingsError(f"gateway.kind = {gateway.get('kind')!r}: use outbox, kavenegar or http_post")
    return MessageSettings(
        club=str(base.get("club", "Club")), zone=zone,
        quiet=QuietHours(_time("messages.quiet_hours[0]", quiet_raw[0]), _time("messages.quiet_hours[1]", quiet_raw[1])),
        rate_per_second=float(rate), calendar=calendar, default_language=language,
        join_keywords=frozenset(str(k) for k in base.get("join_keywords", ["عضویت", "join"])),
        anniversary=bool(base.get("anniversary", True)), concurrency=concurrency, lapsed_days=lapsed_days, status_url=status_url,
        expiry_warning_days=warning_days, tier_greeting=bool(base.get("tier_greeting", True)),
        coupon_notice=bool(base.get("coupon_notice", True)),
        link_days=link_days, texts=texts, occasions=occasions, gateway=gateway,
        delivery_report_hours=float(report_hours), branch_zones=branch_zones, cost_per_part_rial=price,
        tier_names=tier_names,
    )


def load_settings(path: Path | None) -> MessageSettings:
    if path is None:
        return settings_from({})
    try:
        return settings_from(tomllib.loads(Path(path).read_text(encoding="utf-8")))
    except OSError as exc:
        raise MessageSettingsError(f"cannot read message settings {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise MessageSettingsError(f"message settings {path} are not valid TOML: {exc}") from exc


def load_secrets(path: Path | None) -> Secrets:
    """The secret file's [gateway] api_key and [webhook] secret; refused unless only its owner can read it."""
    if path is None:
        return Secrets()
    try:
        mode = os.stat(path).st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise MessageSettingsError(f"secret file {path} is readable by others (mode {stat.S_IMODE(mode):o});"
                                       f" run chmod 600 {path}")
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise MessageSettingsError(f"cannot read secret file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise MessageSettingsError(f"secret file {path} is not valid TOML: {exc}") from exc
    return Secrets(api_key=str(raw.get("gateway", {}).get("api_key", "")),
                   webhook_secret=str(raw.get("webhook", {}).get("secret", "")))


def build_gateway(settings: MessageSettings, secrets: Secrets, outbox: Callable[[str, str], None]) -> Gateway:
    """The gateway the settings name; `outbox` is the one-time-code outbox's send, for kind = "outbox"."""
    spec = settings.gateway
    try:
        if spec["kind"] == "kavenegar":
            return KavenegarGateway(secrets.api_key, str(spec.get("sender", "")),
                                    base_url=str(spec.get("base_url", DEFAULT_BASE_URL)))
        if spec["kind"] == "http_post":
            return HttpPostGateway(HttpPostSpec(
                url=str(spec.get("url", "")), fields=dict(spec.get("fields", {})),
                encoding=str(spec.get("encoding", "json")), headers=dict(spec.get("headers", {})),
                id_field=str(spec.get("id_field", "")), sender=str(spec.get("sender", "")),
            ), secrets.api_key)
    except (ValueError, TemplateError) as exc:
        raise MessageSettingsError(f"[gateway]: {exc}") from exc
    return OutboxGateway(outbox)
