"""The issue forms in .github/ISSUE_TEMPLATE: valid, as GitHub reads them.

GitHub rejects a form whose top level lacks a name, a description or a
body, whose body elements have an unknown type, or whose inputs lack a
label; the erratum form is the one the Corrections page points to.
"""

from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.workflows

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / ".github" / "ISSUE_TEMPLATE"
FORMS = ("erratum.yml", "bug.yml", "question.yml")
# The body element types of GitHub's issue forms and what each requires.
TYPES = {
    "markdown": ("value",),
    "input": ("label",),
    "textarea": ("label",),
    "dropdown": ("label", "options"),
    "checkboxes": ("label", "options"),
}


def form(name):
    return yaml.safe_load((TEMPLATES / name).read_text(encoding="utf-8"))


def check_form(data):
    """Raise AssertionError unless data is a valid issue form."""
    assert isinstance(data, dict), "a form is a mapping"
    for key in ("name", "description", "body"):
        assert isinstance(data.get(key), (str, list)) and data[key], (
            f"the form needs a non-empty {key}"
        )
    assert isinstance(data["body"], list)
    assert any(e.get("type") != "markdown" for e in data["body"]), (
        "a form needs at least one field besides markdown"
    )
    ids = []
    for element in data["body"]:
        kind = element.get("type")
        assert kind in TYPES, f"unknown body element type {kind!r}"
        attributes = element.get("attributes") or {}
        for key in TYPES[kind]:
            assert attributes.get(key), f"a {kind} needs attributes.{key}"
        if kind != "markdown":
            ids.append(element.get("id"))
            required = (element.get("validations") or {}).get(
                "required", False
            )
            assert isinstance(required, bool)
    named = [i for i in ids if i is not None]
    assert len(named) == len(set(named)), "ids must be unique"
    assert all(
        isinstance(i, str) and i.replace("_", "").replace("-", "").isalnum()
        for i in named
    ), "ids are letters, -, _"


@pytest.mark.parametrize("name", FORMS)
def test_each_form_is_valid(name):
    check_form(form(name))


def test_the_erratum_form_asks_what_is_wrong_and_what_is_right():
    fields = {e["id"]: e for e in form("erratum.yml")["body"] if "id" in e}
    for key in ("where", "says", "right"):
        assert fields[key]["validations"]["required"] is True


def test_the_folder_holds_the_forms_and_a_config():
    assert sorted(p.name for p in TEMPLATES.iterdir()) == sorted(
        FORMS + ("config.yml",)
    )
    config = form("config.yml")
    assert config == {"blank_issues_enabled": False}


@pytest.mark.parametrize(
    "broken, message",
    [
        ({"name": "x", "description": "y"}, "non-empty body"),
        (
            {
                "name": "x",
                "description": "y",
                "body": [{"type": "text", "attributes": {"label": "a"}}],
            },
            "unknown body element type",
        ),
        (
            {
                "name": "x",
                "description": "y",
                "body": [{"type": "input", "attributes": {}}],
            },
            "attributes.label",
        ),
        (
            {
                "name": "x",
                "description": "y",
                "body": [
                    {"type": "input", "id": "a", "attributes": {"label": "a"}},
                    {"type": "input", "id": "a", "attributes": {"label": "b"}},
                ],
            },
            "unique",
        ),
    ],
)
def test_the_check_rejects_broken_forms(broken, message):
    with pytest.raises(AssertionError, match=message):
        check_form(broken)


def test_the_corrections_page_names_the_erratum_form():
    page = (ROOT / "book" / "appendix_errata.md").read_text(encoding="utf-8")
    assert f"**{form('erratum.yml')['name']}**" in page
