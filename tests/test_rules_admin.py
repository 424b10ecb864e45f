"""Rules that admins edit — and only edit: a raised deadline, a disabled check, an exemption, a new
formula and a whole new format each change the results without a code change; `rules check` names
file:line for every kind of broken file; the running service reloads good edits, refuses bad ones
(keeping the last good rules) and tells the admin channel once; `recheck` re-judges stored reports
through the normal alert lifecycle."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from bot.checking import Options, run_check
from bot.cli import main
from bot.fixture_portal import Route
from rules.config import BUNDLED, RulesError, load_rules
from tests.alerting import BODY, OPS_KEY, report
from tests.conftest import FILES
from tests.corpus import model
from tests.corpus.model import COLS, consistent, to_html

NOW = datetime(2026, 11, 27, 9, 0)
RULES_TOML = BUNDLED.read_text(encoding="utf-8")
F2021 = (BUNDLED.parent / "formats" / "F2021.toml").read_text(encoding="utf-8")


def rules_dir(tmp: Path, rules_toml: str = RULES_TOML, **formats: str) -> Path:
    """A copy of the bundled rules with edits, as an admin would make them."""
    d = tmp / "rules"
    if d.exists():
        shutil.rmtree(d)
    shutil.copytree(BUNDLED.parent / "formats", d / "formats")
    (d / "rules.toml").write_text(rules_toml, encoding="utf-8")
    for name, text in formats.items():
        (d / "formats" / f"{name}.toml").write_text(text, encoding="utf-8")
    return d


def kinds(path: Path, rules, **opts) -> list[tuple[str, str, str]]:
    out = run_check(str(path), rules, Options(**opts))
    return sorted((f.kind, f.rule, f.where) for f in out.findings)


def write(tmp: Path, name: str, data: bytes) -> Path:
    p = tmp / name
    p.write_bytes(data)
    return p


# ------------------------------------------------------------------ results change without code edits
def test_raising_a_regional_deadline(tmp_path: Path) -> None:
    late = write(tmp_path, "r.html", to_html(consistent(BODY, 2023, "F2021", date(2024, 2, 15), seed=3)))
    assert ("deadline.late", "deadline", "document") in kinds(late, load_rules(), region="江苏省/示例区")
    edited = RULES_TOML.replace(
        'legacy = "03-31"',
        'legacy = "03-31"\n\n[[deadlines.regional]]\nregion = "江苏省"\nbody_types = ["township", "subdistrict"]\n'
        'date = "02-28"\nfrom_year = 2023\n',
    )
    rules = load_rules(rules_dir(tmp_path, edited))
    assert rules.deadline(2023, "township", "江苏省/淮安市/示例区") == date(2024, 2, 28)
    assert rules.deadline(2022, "township", "江苏省/淮安市/示例区") == date(2023, 1, 31)  # before from_year
    assert rules.deadline(2023, "department", "江苏省/淮安市") == date(2024, 1, 31)  # other body types
    assert rules.deadline(2023, "township", "浙江省/杭州市") == date(2024, 1, 31)  # other regions
    assert not [k for k in kinds(late, rules, region="江苏省/示例区") if k[0] == "deadline.late"]
    assert ("deadline.late", "deadline", "document") in kinds(late, rules, region="浙江省/杭州市")


def test_the_most_specific_region_wins(tmp_path: Path) -> None:
    edited = RULES_TOML + (
        '\n[[deadlines.regional]]\nregion = "江苏省"\ndate = "02-28"\n'
        '\n[[deadlines.regional]]\nregion = "淮安市"\ndate = "03-15"\n'
    )
    rules = load_rules(rules_dir(tmp_path, edited))
    assert rules.deadline(2024, "township", "江苏省/淮安市/洪泽区") == date(2025, 3, 15)
    assert rules.deadline(2024, "township", "江苏省/苏州市") == date(2025, 2, 28)


def test_disabling_a_check(tmp_path: Path) -> None:
    defect = FILES / "defect-blank.html"
    assert any(k[0] == "table.blank" for k in kinds(defect, load_rules()))
    edited = RULES_TOML.replace(
        "[checks.no-blank-cells]      # table.blank", "[checks.no-blank-cells]\nenabled = false #"
    )
    rules = load_rules(rules_dir(tmp_path, edited))
    assert not any(k[0] == "table.blank" for k in kinds(defect, rules))
    assert rules.check("no-blank-cells").enabled is False


def test_an_exemption_silences_exactly_its_body_year_and_rule(tmp_path: Path) -> None:
    defect = FILES / "defect-blank.html"
    before = kinds(defect, load_rules())
    edited = RULES_TOML + (
        '\n[[exemptions]]\nbody = "示例区王集镇人民政府"\nyear = 2021\nrule = "table.blank"\n'
        'reason = "表格由市里统一填报，已书面说明"\nuntil = 2099-12-31\n'
    )
    rules = load_rules(rules_dir(tmp_path, edited))
    after = kinds(defect, rules)
    assert [k for k in before if k[0] != "table.blank"] == after and len(before) > len(after)
    lapsed = rules_dir(tmp_path, edited.replace("until = 2099-12-31", "until = 2022-01-01"))
    from rules.engine import check

    out = run_check(str(defect), load_rules(lapsed), Options())
    assert any(f.kind == "table.blank" for f in check(out.report, load_rules(lapsed), today=date(2026, 1, 1)))


def test_adding_a_formula(tmp_path: Path) -> None:
    clean = FILES / "clean-f2021-gbk.html"
    assert not any(k[0] == "table.sum" for k in kinds(clean, load_rules()))
    formula = (
        '\n[[identities]]\nid = "R9"\ntitle = "予以公开的申请不多于本年新收申请"\n'
        'formula = \'applications."3.1".total + applications."3.2".total = applications."1".total\'\n'
    )
    rules = load_rules(rules_dir(tmp_path, F2021=F2021 + formula))
    found = [k for k in kinds(clean, rules) if k[0] == "table.sum"]
    assert found == [("table.sum", "R9", "applications/R9")], found


def f2026_site(monkeypatch: pytest.MonkeyPatch) -> None:
    """The corpus model taught the fictional F2026 (F2021 plus row 3.6.4), for rendering reports."""
    monkeypatch.setitem(model.RESULT_ROWS, "F2026", [*model.RESULT_ROWS["F2021"], "3.6.4"])
    monkeypatch.setitem(model.ACTIVE, "F2026", model.ACTIVE["F2021"])
    monkeypatch.setitem(model.ROW_LABELS, "3.6.4", "4.申请人撤回申请")


F2026 = (
    F2021.replace('id = "F2021"', 'id = "F2026"')
    .replace("years = [", "years = [2026, ")
    .replace('tokens = ["', 'tokens = ["申请人撤回申请", "')
    .replace(
        '{ key = "3.6.3", label = "其他", short = "其他处理/3.其他" },',
        '{ key = "3.6.3", label = "其他", short = "其他处理/3.其他" },\n'
        '  { key = "3.6.4", label = "申请人撤回申请", short = "其他处理/4.撤回申请" },',
    )
    .replace('"3.6.3", "3.7", "4"]', '"3.6.3", "3.6.4", "3.7", "4"]')
    .replace('replaces = ["3.6.1", "3.6.2", "3.6.3"]', 'replaces = ["3.6.1", "3.6.2", "3.6.3", "3.6.4"]')
)


def test_adding_a_new_format_version_as_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert F2026.count("3.6.4") == 3 and 'id = "F2026"' in F2026
    f2026_site(monkeypatch)
    rules = load_rules(rules_dir(tmp_path, RULES_TOML.replace("F2021 = { from = 2021 }",
                                                              "F2021 = { from = 2021 }\nF2026 = { from = 2026 }"),
                                 F2026=F2026))  # fmt: skip
    assert rules.format_for_year(2026) == "F2026" and rules.format_for_year(2025) == "F2021"
    m = consistent(BODY, 2026, "F2021", date(2027, 1, 20), seed=7)
    for c in COLS[:-1]:  # one withdrawn application per applicant type, carried through R1 and R3
        m.applications["3.6.4"] = {**m.applications.get("3.6.4", {}), c: 1}
        m.applications["3.7"][c] = int(m.applications["3.7"][c]) + 1  # type: ignore[arg-type]
        m.applications["1"][c] = int(m.applications["1"][c]) + 1  # type: ignore[arg-type]
    m.applications["3.6.4"]["total"] = 6
    for r in ("3.7", "1"):
        m.applications[r]["total"] = int(m.applications[r]["total"]) + 6  # type: ignore[arg-type]
    m.fmt = "F2026"
    new = write(tmp_path, "2026.html", to_html(m))
    out = run_check(str(new), rules, Options())
    assert out.report.format == "F2026" and out.report.tables["applications"]["3.6.4"]["total"] == 6
    assert [f for f in out.findings if f.severity == "error"] == []
    m.applications["3.6.4"]["legal"] = 4  # the new row takes part in R2 and R3 like any other
    broken = run_check(str(write(tmp_path, "bad.html", to_html(m))), rules, Options())
    assert {(f.kind, f.rule) for f in broken.findings if f.kind == "table.sum"} == {("table.sum", "R2"),
                                                                                    ("table.sum", "R3")}  # fmt: skip
    m_old = consistent(BODY, 2026, "F2021", date(2027, 1, 20), seed=7)  # a 2026 report in last year's format
    old = run_check(str(write(tmp_path, "old.html", to_html(m_old))), rules, Options())
    assert ("table.row_missing", "applications/3.6.4") in {(f.kind, f.where) for f in old.findings}


# ------------------------------------------------------------------ broken rule files: precise messages
BROKEN = [
    ("rules.toml", "[checks\n", "rules.toml:1", "TOML"),
    ("rules.toml", '[checks.no-such-check]\nseverity = "error"\n', "rules.toml:1", "no-such-check"),
    ("rules.toml", '[checks.deadline]\nseverity = "fatal"\n', "rules.toml:2", "fatal"),
    ("rules.toml", "[checks.deadline]\nenabled = 1\n", "rules.toml:2", "true or false"),
    ("rules.toml", '[checks.duplicate-prose]\nthreshold = "high"\n', "rules.toml:2", "float"),
    ("rules.toml", "[checks.deadline]\ngrace = 3\n", "rules.toml:2", "unknown parameter"),
    ("rules.toml", '[checks.deadline]\nunknown_severity = "loud"\n', "rules.toml:2", "not a severity"),
    ("rules.toml", '[deadlines]\ntownship = "02-30"\n', "rules.toml:2", "MM-DD"),
    ("rules.toml", '[deadlines]\nvillage = "01-31"\n', "rules.toml:2", "unknown body type"),
    ("rules.toml", '[[deadlines.regional]]\nregion = "江苏省"\ndate = "02-28"\n[[deadlines.regional]]\n'
     'region = "江苏省"\ndate = "03-15"\n', "rules.toml:4", "overlaps"),
    ("rules.toml", '[[deadlines.regional]]\nregion = "江苏省"\ndate = "02-28"\nfrom_year = 2025\nuntil_year = 2024\n',
     "rules.toml:1", "from_year"),
    ("rules.toml", '[formats]\nF2030 = { from = 2030 }\n', "rules.toml:2", "F2030"),
    ("rules.toml", '[formats]\nF2019 = { from = 2021 }\nF2021 = { from = 2021 }\n', "rules.toml:1", "same year"),
    ("rules.toml", '[[exemptions]]\nbody = "某镇"\nyear = 2023\nrule = "no-such-rule"\nreason = "x"\n',
     "rules.toml:1", "no-such-rule"),
    ("rules.toml", '[[exemptions]]\nbody = "某镇"\nyear = 2023\nrule = "*"\n', "rules.toml:1", "reason"),
    ("rules.toml", '[templates."table.sum"]\nheadline = "{机关}有错"\n', "rules.toml:1", "placeholder"),
    ("rules.toml", '[templates."table.sum"]\nheadline = "{body"\n', "rules.toml:1", "braces"),
    ("rules.toml", '[colours]\nred = 1\n', "rules.toml:1", "unknown section"),
    ("F2021.toml", "FORMULA:applications.\"1\".nosuchcolumn = applications.\"2\".total", "F2021.toml:", "nosuchcolumn"),
    ("F2021.toml", "FORMULA:applications.\"1\".total = applications.\"1\".total", "F2021.toml:", "circular"),
    ("F2021.toml", "FORMULA:__import__(\"os\").system(\"id\") = 1", "F2021.toml:", "R99"),
    ("F2021.toml", "FORMULA:applications.\"1\".total = = 2", "F2021.toml:", "R99"),
    ("F2021.toml", 'KEY:colour = "red"', "F2021.toml:", "colour"),
]  # fmt: skip


@pytest.mark.parametrize(("file", "edit", "where", "needle"), BROKEN, ids=[f"{i:02d}" for i in range(len(BROKEN))])
def test_broken_rule_files_are_refused_with_file_line_and_reason(tmp_path: Path, capsys, file, edit, where, needle):
    if file == "rules.toml":
        d = rules_dir(tmp_path, edit)
    elif edit.startswith("FORMULA:"):
        d = rules_dir(tmp_path, F2021=F2021 + f"\n[[identities]]\nid = \"R99\"\nformula = '{edit[8:]}'\n")
    else:
        d = rules_dir(tmp_path, F2021=edit[4:] + "\n" + F2021)
    with pytest.raises(RulesError) as err:
        load_rules(d)
    assert where in str(err.value) and needle in str(err.value), str(err.value)
    assert " / " in str(err.value)  # Chinese / English
    assert main(["rules", "check", str(d)]) == 1
    assert where in capsys.readouterr().err
    # the same edit made under a running service: refused, the rules in force stay, the refusal is logged
    from bot.alerts import Alerting, Policy
    from bot.rules_admin import RulesWatcher
    from bot.store import Store

    good_dir = rules_dir(tmp_path / "live")
    good = load_rules(good_dir)
    watcher = RulesWatcher(good_dir, good)
    shutil.rmtree(good_dir)
    shutil.copytree(d, good_dir)
    store = Store(tmp_path / "s.sqlite", on_event=Alerting(Policy()))
    try:
        assert watcher.poll(store, store.on_event, NOW) is None and watcher.rules is good
        assert [(r["status"], where.split(":")[0] in r["error"]) for r in store.rule_changes()] == [("rejected", True)]
    finally:
        store.close()


def test_message_templates_reword_alerts(make_site, tmp_path: Path) -> None:
    template = (
        '\n[templates."deadline.missing"]\nheadline = "{body}未按期公开{year}年度年报"\n'
        'advice = "请于3日内联系{body}，并在{deadline}后的周例会上通报。"\n'
    )
    rules_dir(tmp_path, RULES_TOML + template)
    site = make_site(rules='[rules]\ndir = "rules"\n', routes='[[routes]]\nchannels = ["robot"]\n')
    site.portal.routes["/nb/index.html"] = Route(b"<html><body><ul class='list'><li>none</li></ul></body></html>")
    assert main(["scan", "--config", str(site.cfg)]) == 0
    text = site.robot_texts()[0]
    assert "示例区王集镇人民政府未按期公开2023年度年报" in text and "并在2024-01-31后的周例会上通报" in text


def test_rules_check_and_explain_commands(tmp_path: Path, capsys) -> None:
    assert main(["rules", "check", str(rules_dir(tmp_path))]) == 0
    assert "规则有效" in capsys.readouterr().out
    assert main(["rules", "explain", "table.sum", "--config", str(tmp_path / "none.toml")]) == 0
    out = capsys.readouterr().out
    assert "identities" in out and "R1" in out and "F2021" in out and "规则版本" in out
    assert main(["rules", "explain", "nope", "--config", str(tmp_path / "none.toml")]) == 2


# ------------------------------------------------------------------ the running service and recheck
def test_recheck_after_disabling_a_check_revokes_its_alerts(make_site, tmp_path: Path) -> None:
    site = make_site(rules='[rules]\ndir = "rules"\n', routes='[[routes]]\nchannels = ["robot"]\n')
    rules_dir(tmp_path)
    site.publish(report(defect=True))
    site.scan(NOW)
    site.deliver(NOW)
    assert "表格勾稽关系不成立" in site.robot_texts()[0]
    exemption = '\n[[exemptions]]\nbody = "示例区李庄镇人民政府"\nyear = 2023\nrule = "deadline.missing"\n'
    exemption += 'reason = "已撤并"\n'
    (tmp_path / "rules" / "rules.toml").write_text(
        RULES_TOML.replace("[checks.identities]          # table.sum", "[checks.identities]\nenabled = false #")
        + exemption,
        encoding="utf-8",
    )
    assert main(["recheck", "--config", str(site.cfg), "--no-send"]) == 0
    from bot.service import now_local

    site.deliver(now_local() + timedelta(minutes=1))  # the command stamps its alerts with the real time
    texts = site.robot_texts()
    assert len(texts) == 4  # before: the new report, the other town's deadline; now: both revoked
    revoked = "\n".join(texts[2:])
    assert revoked.count("**不再告警（规则已调整）：表格勾稽关系不成立**") == 2 and "已豁免：已撤并" in revoked
    from bot.store import Store

    store = Store(site.config().database)
    try:
        versions = {r["rules_version"] for r in store.rows("SELECT rules_version FROM versions")}
        firing = [r["kind"] for r in store.alerts("firing")]
    finally:
        store.close()
    assert versions == {load_rules(tmp_path / "rules").version} and "table.sum" not in firing
    assert main(["recheck", "--config", str(site.cfg)]) == 0  # again: nothing changes, nothing is sent
    assert len(site.robot_texts()) == 4


def test_the_service_reloads_good_edits_and_refuses_bad_ones(make_site, tmp_path: Path) -> None:
    from tests.helpers import run_service_until

    site = make_site(rules='rules_poll_seconds = 0.5\n[rules]\ndir = "rules"\n',
                     routes='[[routes]]\nchannels = ["robot"]\n')  # fmt: skip
    d = rules_dir(tmp_path)
    site.publish(report(defect=True))
    steps = {"edited": False, "fixed": False}

    def progress() -> bool:
        ops = site.robot_texts(OPS_KEY)
        if not steps["edited"] and site.robot_texts():
            bad = RULES_TOML.replace('unknown_severity = "advisory"', 'unknown_severity = "fatal"')
            (d / "rules.toml").write_text(bad, encoding="utf-8")
            steps["edited"] = True
        if steps["edited"] and not steps["fixed"] and any("规则配置修改被拒绝" in t for t in ops):
            (d / "rules.toml").write_text(
                RULES_TOML.replace(
                    "[checks.identities]          # table.sum", "[checks.identities]\nenabled = false #"
                ),
                encoding="utf-8",
            )
            steps["fixed"] = True
        return steps["fixed"] and any("不再告警（规则已调整）" in t for t in site.robot_texts())

    code, err = run_service_until(site.cfg, progress, timeout=90)
    assert code == 0, err
    ops = site.robot_texts(OPS_KEY)
    rejected = [t for t in ops if "规则配置修改被拒绝" in t]
    assert len(rejected) == 1 and "rules.toml:" in rejected[0] and "fatal" in rejected[0]  # once, naming the error
    assert any("规则配置修改已生效" in t for t in ops)
    assert any("不再告警（规则已调整）：表格勾稽关系不成立" in t for t in site.robot_texts())
    from bot.store import Store

    store = Store(site.config().database)
    try:
        log = [(r["status"], bool(r["error"])) for r in reversed(store.rule_changes())]
    finally:
        store.close()
    assert log == [("accepted", False), ("rejected", True), ("accepted", False)]
    assert json.dumps(log)  # recorded in the store: when, who, file hashes (rules log)
