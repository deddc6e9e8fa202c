"""The console's survey and complaint pages (issue 14).

Surveys are the chain's (admins and marketers make them; every user sees results of their branches);
complaints are a queue by branch that every user works on for their branches (a branch manager sees only
theirs), each change kept in the complaint's history and the audit log.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from cloud import complaints as cases
from cloud import surveys as survey_setup
from cloud.console import sessions
from cloud.console.views import CHAIN_ROLES, _csv
from cloud.errors import BadConfig
from cloud.store import CloudStore
from kiosk.rules.complaints import STATES
from kiosk.rules.names import LANGUAGES, pick_name
from kiosk.rules.surveys import QUESTION_TYPES, TARGET_KINDS


def blueprint(store: CloudStore) -> Blueprint:
    pages = Blueprint("engagement", __name__)
    login_required = sessions.login_required

    @pages.get("/surveys")
    @login_required()
    def survey_list() -> str:
        return render_template("console/surveys.html", surveys=survey_setup.all_surveys(store))

    @pages.route("/surveys/edit", methods=["GET", "POST"])
    @login_required(*CHAIN_ROLES)
    def survey_edit() -> Any:
        """A new survey, or the one named by ?id=; saving copies the chain's surveys into every branch config."""
        form: dict[str, Any] = {"active": "1", "reward_points": "0", "target_kind": "all"}
        error, status = None, 200
        if request.method == "POST":
            form = request.form.to_dict()
            try:
                survey, branches = survey_setup.save(store, survey_setup.survey_from_form(request.form),
                                                     g.user.username)
            except BadConfig as exc:
                error, status = str(exc), 422
            else:
                flash(_("Survey %(id)s saved; the kiosks of %(n)s branches get it at their next config pull.",
                        id=survey.survey_id, n=str(len(branches))))
                return redirect(url_for("engagement.survey_list"))
        elif request.args.get("id"):
            found = survey_setup.find(store, request.args["id"])
            if found is None:
                abort(404)
            form = form_of(found.as_document())
        return render_template("console/survey_edit.html", form=form, error=error, languages=LANGUAGES,
                               slots=range(survey_setup.FORM_QUESTIONS), types=QUESTION_TYPES,
                               targets=TARGET_KINDS), status

    @pages.get("/surveys/<survey_id>/results")
    @login_required()
    def survey_results(survey_id: str) -> str:
        survey = survey_setup.find(store, survey_id)
        if survey is None:
            abort(404)
        return render_template("console/survey_results.html",
                               view=survey_setup.results(store, survey, g.user.branch_filter), pick=pick_name)

    @pages.get("/surveys/<survey_id>/results.csv")
    @login_required()
    def survey_csv(survey_id: str) -> Response:
        survey = survey_setup.find(store, survey_id)
        if survey is None:
            abort(404)
        return _csv(f"survey-{survey_id}.csv", ["answered_at", "branch", "device_id", "member_id", "question", "answer"],
                    survey_setup.csv_rows(store, survey, g.user.branch_filter))

    @pages.get("/complaints")
    @login_required()
    def complaint_queue() -> str:
        state = request.args.get("state") or None
        branch = request.args.get("branch") or None
        found = cases.queue(store.db, g.user.branch_filter, state=state, branch=branch)
        branches = sorted(b for b in store.branches() if g.user.sees_branch(b))
        return render_template("console/complaints.html", cases=found, states=STATES, state=state, branch=branch,
                               branches=branches)

    @pages.route("/complaints/<code>", methods=["GET", "POST"])
    @login_required()
    def complaint(code: str) -> Any:
        found = cases.case(store.db, code)
        if found is None:
            abort(404)
        if not g.user.sees_branch(found.branch):
            abort(403)  # the same refusal whatever the case says
        error, status = None, 200
        if request.method == "POST":
            try:
                cases.change(store.db, found.code, state=request.form.get("state", ""),
                             answer=request.form.get("answer", ""), actor=g.user.username, now=store.clock())
            except BadConfig as exc:
                error, status = str(exc), 422
            else:
                flash(_("The complaint is saved; the shopper sees it when they look the code up."))
                return redirect(url_for("engagement.complaint", code=found.shown_code))
        return render_template("console/complaint.html", case=found, states=STATES, error=error), status

    return pages


def form_of(document: dict[str, Any]) -> dict[str, Any]:
    """The form fields that show a saved survey for editing (the inverse of survey_from_form)."""
    form: dict[str, Any] = {"id": document["id"], "active": "1" if document["active"] else "",
                            "reward_points": str(document["reward_points"]), "target_kind": document["target"]["kind"]}
    values = [v for k, v in document["target"].items() if k != "kind"]
    form["target_values"] = ", ".join(values[0]) if values else ""
    for lang, text in document["title"].items():
        form[f"title_{lang}"] = text
    for i, q in enumerate(document["questions"]):
        form[f"q{i}_type"] = q["type"]
        for lang, text in q["text"].items():
            form[f"q{i}_text_{lang}"] = text
        for lang in LANGUAGES:
            form[f"q{i}_choices_{lang}"] = "\n".join(c.get(lang, "") for c in q.get("choices", []))
    return form
