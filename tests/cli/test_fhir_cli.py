"""`alliance fhir export-questionnaire` and `import-questionnaire`."""

from __future__ import annotations

import json


from alliance.core.instruments import load_bundled, load_definition


def test_a_licensed_wai_sr_exports_with_its_text_and_imports_as_the_same_definition(tmp_path, run):
    text = tmp_path / "wai-text.csv"
    text.write_text("item,en\n" + "".join(f"wai{k},Licensed wording {k}\n" for k in range(1, 13)))
    exported = run("fhir", "export-questionnaire", "wai-sr", "--text", text,
                   "--out", tmp_path / "wai.json")
    assert exported.exit_code == 0, exported.output
    questionnaire = json.loads((tmp_path / "wai.json").read_text())
    assert questionnaire["item"][0]["text"] == "Licensed wording 1"

    imported = run("fhir", "import-questionnaire", tmp_path / "wai.json",
                   "--out", tmp_path / "wai.toml")
    assert imported.exit_code == 0, imported.output
    assert "Recognised as the bundled instrument 'wai-sr'" in imported.output
    definition = load_definition(tmp_path / "wai.toml")
    bundled = load_bundled("wai-sr")
    assert definition.can_administer
    assert definition.item("wai12").text == {"en": "Licensed wording 12"}
    assert definition.subscales == bundled.subscales and definition.scales == bundled.scales


def test_the_questionnaire_is_printed_when_no_file_is_given(run):
    result = run("fhir", "export-questionnaire", "alliance-client")
    assert result.exit_code == 0
    assert json.loads(result.output)["resourceType"] == "Questionnaire"


def test_a_file_that_is_not_json_is_a_clean_error(tmp_path, run):
    bad = tmp_path / "q.json"
    bad.write_text("<Questionnaire/>")
    result = run("fhir", "import-questionnaire", bad)
    assert result.exit_code == 1
    assert "not a JSON file" in result.output and "Traceback" not in result.output
