"""Every deployment, setting and template is defined, documented and loads."""

import re
from pathlib import Path

import pytest
import yaml
from prefect import Flow
from pydantic import BaseModel

from config.settings import Settings
from documents.templating import TEMPLATES_DIR, environment
from flows.serve import build_deployments, deployment_specs, load_flow

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_deployment_loads_with_its_schedules():
    specs = deployment_specs()
    assert {s["name"] for s in specs} == {
        "cycle-calendar",
        "open-cycle",
        "send-reminders",
        "consolidate",
        "deliver-outbox",
        "read-replies",
        "submit-to-ministry",
        "send-back-report",
        "reissue-link",
        "set-cycle-status",
        "decide-extensions",
        "midterm-review",
        "final-review",
    }
    slugs = []
    for spec in specs:
        flow = load_flow(spec["entrypoint"])
        assert isinstance(flow, Flow) and flow.name == spec["name"]
        for schedule in spec.get("schedules") or []:
            assert schedule["timezone"] == "Asia/Ho_Chi_Minh" and schedule["slug"]
            slugs.append(schedule["slug"])
        assert f"prefect deployment run {flow.name}/{spec['name']}" in README
    assert len(slugs) == len(set(slugs)) == 3
    # The cycle's dates live in each programme.yaml: one daily calendar run starts what is due.
    scheduled = {s["name"]: s["schedules"] for s in specs if s.get("schedules")}
    assert scheduled["cycle-calendar"] == [
        {"cron": "0 8 * * *", "timezone": "Asia/Ho_Chi_Minh", "slug": "cycle-calendar-daily"}
    ]
    assert set(scheduled) == {"cycle-calendar", "deliver-outbox", "read-replies"}
    deployments = build_deployments()
    assert [d.name for d in deployments] == [s["name"] for s in specs]
    assert sum(len(d.schedules) for d in deployments) == len(slugs)


def _fields(model: type[BaseModel], prefix: str = "R42_"):
    for name, field in model.model_fields.items():
        env = f"{prefix}{name.upper()}"
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _fields(annotation, env + "__")
        yield env, field


def test_every_setting_has_a_description():
    missing = [env for env, field in _fields(Settings) if not (field.description or "").strip()]
    assert missing == []


def test_settings_named_in_the_readme_exist():
    known = {env for env, _ in _fields(Settings)}
    named = set(re.findall(r"R42_[A-Z0-9_]+", README))
    expanded = set()
    for name in named:  # "R42_MAIL__SENDER_ADDRESS` / `__SENDER_NAME" style shortcuts
        expanded.add(name.rstrip("_"))
    assert expanded - known - {"R42_PROJECT_DIR"} == set()


@pytest.mark.parametrize(
    "name", sorted({p.name.split(".")[0] for p in (TEMPLATES_DIR / "email").glob("[!_]*.j2")})
)
def test_every_email_has_subject_text_and_html(name):
    for part in ("subject", "txt", "html"):
        assert (TEMPLATES_DIR / "email" / f"{name}.{part}.j2").exists()
        environment().get_template(f"email/{name}.{part}.j2")  # compiles


def test_html_is_escaped_and_plain_text_is_not():
    import datetime as dt

    subject = (
        environment()
        .get_template("email/request.subject.j2")
        .render(short_name="A & <B>", year=2026, deadline=dt.date(2026, 12, 4))
    )
    assert "A & <B>" in subject and "hạn 04/12/2026" in subject
    html = (
        environment()
        .get_template("email/_layout.html.j2")
        .render(sender_name="<b>", standing_agency="x")
    )
    assert "&lt;b&gt;" in html and "<b>" not in html


def test_prefect_yaml_is_valid_yaml_with_a_work_pool():
    data = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    assert all(d["work_pool"]["name"] == "r42-process" for d in data["deployments"])
