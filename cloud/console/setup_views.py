"""The console's club setup: tiers and earn rules, the reward catalogue and the chain's brand, per branch.

Who may change what, as a chain divides the work: what a point is worth, tiers, bonuses and expiry are the
chain's money, so only a chain admin saves them (a marketer sees them); the reward catalogue and the brand
are marketing's, so admins and marketers save those. Branch managers do not open club setup.
Every save goes through cloud.club_setup: checked by the kiosks' rules, audited, and sent by the config pull.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from cloud import brand_setup, club_setup
from cloud.console import sessions
from cloud.errors import BadConfig, ConfigConflict
from cloud.store import CloudStore
from kiosk.rules.config import LoyaltyRules
from kiosk.rules.names import LANGUAGES
from kiosk.rules.branding import COLOR_KEYS, MAX_LOGO_BYTES

VIEWERS = ("admin", "marketer")
RULES_EDITORS = ("admin",)
CATALOGUE_EDITORS = ("admin", "marketer")



def N_(message: str) -> str:
    """Marks a label for the catalogue (babel extracts N_); the page translates it when it shows it."""
    return message


RULE_LABELS = {
    "rial_per_point": N_("Rial spent per point"),
    "tier_window_days": N_("Days counted for the tier"),
    "point_value_rial": N_("Rial of credit per point"),
    "cashback_basis_points": N_("Cashback (hundredths of a percent)"),
    "enrollment_bonus": N_("Joining bonus (points)"),
    "profile_completion_bonus": N_("Profile completion bonus (points)"),
    "birthday_bonus": N_("Birthday bonus (points)"),
    "birthday_mode": N_("Birthday bonus on"),
    "referral_bonus": N_("Bonus for referring a friend (points)"),
    "referred_bonus": N_("Bonus for the referred friend (points)"),
    "expiry_days": N_("Days until points expire (0: never)"),
    "streak_bonus": N_("Visit streak bonus (points, 0: none)"),
    "streak_periods": N_("Periods in a streak"),
    "streak_period_days": N_("Days in a streak period"),
    "offline_daily_redeem_cap": N_("Points a member may redeem per day offline"),
    "max_points_percent": N_("Most of a bill paid with points (percent)"),
    "staff_approval_rial": N_("Staff approve discounts above (rial, 0: never)"),
    "calendar": N_("Calendar of birthdays and years"),
}
DEFAULTS = LoyaltyRules()


def blueprint(store: CloudStore) -> Blueprint:
    pages = Blueprint("setup", __name__)
    login_required = sessions.login_required

    def refuse_unless(editors: tuple[str, ...]) -> None:
        """Every chain user may look; only `editors` may save (403 before anything is read or written)."""
        if request.method == "POST" and g.user.role not in editors:
            abort(403)

    def chosen_branch() -> str:
        branches = store.branches()
        return request.values.get("branch") or (branches[0] if branches else "")

    def current(branch: str) -> tuple[dict[str, Any] | None, str, str | None]:
        """The branch's document and ETag, or None and why it cannot be edited."""
        try:
            document, etag = club_setup.branch_document(store, branch)
        except BadConfig as exc:
            return None, "", str(exc)
        return document, etag, None

    def saved(branch: str, changes: dict[str, Any], action: str) -> None:
        """Save from the version the form was opened on; BadConfig (ConfigConflict) says why not."""
        club_setup.save(store, branch, request.form.get("etag", ""), changes, g.user.username, action)
        flash(_("Saved for %(branch)s; its kiosks get it at their next config pull.", branch=branch))

    def page(template: str, branch: str, document: dict[str, Any] | None, etag: str, error: str | None,
             status: int, **extra: Any) -> Any:
        return render_template(template, branches=store.branches(), branch=branch, document=document, etag=etag,
                               error=error, languages=LANGUAGES, **extra), status

    def status_of(exc: BadConfig) -> int:
        return 409 if isinstance(exc, ConfigConflict) else 422

    @pages.get("/setup")
    @login_required(*VIEWERS)
    def start() -> Any:
        return redirect(url_for("setup.rules"))

    @pages.route("/setup/rules", methods=["GET", "POST"])
    @login_required(*VIEWERS)
    def rules() -> Any:
        refuse_unless(RULES_EDITORS)
        branch = chosen_branch()
        document, etag, error = current(branch)
        status, form = (422 if error and request.method == "POST" else 200), None
        if request.method == "POST" and document is not None:
            form = request.form.to_dict()
            changes = {"rules": club_setup.rules_from_form(form), "tiers": club_setup.tiers_from_form(form)}
            try:
                saved(branch, changes, "config.rules")
                return redirect(url_for("setup.rules", branch=branch))
            except BadConfig as exc:
                error, status = str(exc), status_of(exc)
        if form is None and document is not None:
            form = {f"rule_{k}": str(v) for k, v in document["rules"].items()}
            form.update(club_setup.tier_form(document["tiers"]))
        rows = len(document["tiers"]) + club_setup.EMPTY_TIER_ROWS if document else 0
        return page("console/setup_rules.html", branch, document, etag, error, status, form=form or {},
                    fields=club_setup.RULE_FIELDS, labels=RULE_LABELS, choices=club_setup.RULE_CHOICES,
                    defaults=DEFAULTS, rows=range(rows), columns=club_setup.TIER_COLUMNS,
                    may_edit=g.user.role in RULES_EDITORS)

    @pages.route("/setup/rewards", methods=["GET", "POST"])
    @login_required(*VIEWERS)
    def rewards() -> Any:
        refuse_unless(CATALOGUE_EDITORS)
        branch = chosen_branch()
        document, etag, error = current(branch)
        status, form = (422 if error and request.method == "POST" else 200), {"active": "1"}
        if request.method == "POST" and document is not None:
            form = request.form.to_dict()
            try:
                if form.get("action") == "remove":
                    catalogue = club_setup.without_reward(document["rewards"], form.get("id", ""))
                else:
                    catalogue = club_setup.with_reward(document["rewards"], club_setup.reward_from_form(form))
                saved(branch, {"rewards": catalogue}, "config.rewards")
                return redirect(url_for("setup.rewards", branch=branch))
            except BadConfig as exc:
                error, status = str(exc), status_of(exc)
        elif document is not None and request.args.get("id"):
            found = next((r for r in document["rewards"] if r.get("id") == request.args["id"]), None)
            if found is None:
                abort(404)
            form = reward_form_of(found)
        return page("console/setup_rewards.html", branch, document, etag, error, status, form=form,
                    tiers=[t["name"] for t in (document or {}).get("tiers", [])], name_in=reward_name)

    @pages.route("/setup/brand", methods=["GET", "POST"])
    @login_required(*VIEWERS)
    def brand() -> Any:
        refuse_unless(CATALOGUE_EDITORS)
        branch = chosen_branch()
        document, etag, error = current(branch)
        status = 422 if error and request.method == "POST" else 200
        form = brand_setup.form_of((document or {}).get("branding"))
        if request.method == "POST" and document is not None:
            form = request.form.to_dict()
            try:
                section = brand_setup.branding_from_form(form, request.files.get("logo_file"),
                                                         document.get("branding"))
                saved(branch, {"branding": section}, "config.branding")
                return redirect(url_for("setup.brand", branch=branch))
            except BadConfig as exc:
                error, status = str(exc), status_of(exc)
        logo = ((document or {}).get("branding") or {}).get("logo")
        return page("console/setup_brand.html", branch, document, etag, error, status, form=form, logo=logo,
                    colors=COLOR_KEYS, max_kb=MAX_LOGO_BYTES // 1024)

    return pages


def reward_name(reward: dict[str, Any], lang: str) -> str:
    name = reward.get("name")
    if isinstance(name, dict):
        return name.get(lang) or next(iter(name.values()), "")
    return str(name or "")


def reward_form_of(reward: dict[str, Any]) -> dict[str, str]:
    """The reward form's fields for a saved reward (the inverse of club_setup.reward_from_form)."""
    form = {k: str(v) for k, v in reward.items() if k not in ("name", "active")}
    name = reward.get("name")
    for lang in LANGUAGES:
        form[f"name_{lang}"] = name.get(lang, "") if isinstance(name, dict) else str(name or "")
    form["active"] = "1" if reward.get("active", True) else ""
    return form

