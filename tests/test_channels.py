"""Each channel against its real counterpart on 127.0.0.1 — the conformance suite of ARCHITECTURE.md:
success only on the channel's real success signal, transient vs permanent vs broken, bad config
refused, long content split on character boundaries, the e-mail headers and encodings."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.notify import TRANSPORT
from bot.sinks import SmtpSink, WeComReceiver
from notifiers.base import Item, NotifyError
from notifiers.email import Email
from notifiers.render import render
from notifiers.wecom import WeCom, split_utf8
from tests.helpers import self_signed

KEY = "k-0123456789"


def message(n: int = 1, title: str = "示例区王集镇人民政府2023年政府信息公开工作年度报告") -> object:
    items = [
        Item("fire", "table.sum", "error", alert=f"{i:016x}", body="示例区王集镇人民政府", year=2023, title=title,
             url="http://127.0.0.1/a.html", message=f"表三R2在第{i}行不成立：左边 5，右边 8", rule="R2")
        for i in range(n)
    ]  # fmt: skip
    return render("N7", items)


def send(channel: object, msg: object) -> str:
    return asyncio.run(channel.send(msg, TRANSPORT))  # type: ignore[attr-defined]


@given(st.text(min_size=0, max_size=3000), st.integers(min_value=8, max_value=600))
@settings(max_examples=200, deadline=None)
def test_split_utf8_never_cuts_a_character_and_loses_nothing(text: str, limit: int) -> None:
    parts = split_utf8(text, limit)
    assert "".join(parts) == text
    assert all(len(p.encode()) <= limit for p in parts)


@pytest.mark.parametrize(
    ("answer", "kind"),
    [(0, "ok"), (45009, "transient"), (-1, "transient"), (500, "transient"), ("hang", "transient"),
     (93000, "broken"), (45002, "permanent"), (44004, "permanent"), (40008, "permanent"), (12345, "transient")],
)  # fmt: skip
def test_wecom_success_is_errcode_zero_only(answer: object, kind: str) -> None:
    with WeComReceiver(keys={KEY}, hang_seconds=3) as robot:
        robot.script = [answer]
        ch = WeCom(name="r", key=KEY, url=robot.url, allow_private=True, timeout=1.0)
        if kind == "ok":
            assert send(ch, message()).startswith("errcode 0")
            return
        with pytest.raises(NotifyError) as err:
            send(ch, message())
    assert (err.value.broken, err.value.permanent) == {
        "transient": (False, False),
        "permanent": (False, True),
        "broken": (True, True),
    }[kind]
    assert KEY not in err.value.detail
    if answer == 45009:
        assert err.value.retry_after == 60


def test_wecom_refuses_an_unknown_key_and_never_echoes_it() -> None:
    with WeComReceiver(keys={"other"}) as robot:
        ch = WeCom(name="r", key=KEY, url=robot.url, allow_private=True)
        with pytest.raises(NotifyError) as err:
            send(ch, message())
    assert err.value.broken and "93000" in err.value.detail and KEY not in err.value.detail
    assert KEY not in repr(ch)


def test_wecom_long_messages_are_split_into_accepted_parts_and_mentions_are_a_text_message() -> None:
    msg = message(40)
    assert len(msg.markdown.encode()) > 8000  # type: ignore[attr-defined]
    with WeComReceiver(keys={KEY}) as robot:
        ch = WeCom(name="r", key=KEY, url=robot.url, allow_private=True, mention=("zhangsan",))
        send(ch, msg)
    got = robot.received
    assert all(r.answer == {"errcode": 0, "errmsg": "ok"} for r in got)
    parts = [r for r in got if r.payload["msgtype"] == "markdown"]
    assert len(parts) >= 3 and all(len(r.content.encode()) <= 4096 for r in parts)
    assert parts[0].content.rstrip().endswith(f"（1/{len(parts)}）")
    assert "".join(p.content.rsplit("\n", 1)[0] + "\n" for p in parts).count("表三R2") == 40
    text = got[-1].payload
    assert (
        text["msgtype"] == "text" and text["text"]["mentioned_list"] == ["zhangsan"] and "N7" in text["text"]["content"]
    )


def test_wecom_resumes_a_split_message_after_the_parts_already_sent() -> None:
    msg = message(40)
    with WeComReceiver(keys={KEY}) as robot:
        ch = WeCom(name="r", key=KEY, url=robot.url, allow_private=True)
        total = ch.parts(msg)  # type: ignore[arg-type]
        asyncio.run(ch.send(msg, TRANSPORT, done_parts=total - 1))  # type: ignore[arg-type]
    assert len(robot.received) == 1 and robot.received[0].content.rstrip().endswith(f"（{total}/{total}）")


def test_email_plain_chinese_subject_alternatives_and_a_stable_message_id() -> None:
    hostile = "示例区王集镇人民政府\r\nBcc: victim@example.com"
    msg = render("N42", [Item("fire", "deadline.missing", "error", body=hostile, year=2023, deadline="2024-01-31")])
    with SmtpSink() as sink:
        ch = Email(name="m", host="127.0.0.1", port=sink.port, security="plain", sender="nb@test.gov.cn",
                   to=("a@test.gov.cn", "b@test.gov.cn"))  # fmt: skip
        assert send(ch, msg).startswith("250")
        send(ch, msg)
    first, again = sink.messages
    assert first["Message-ID"] == again["Message-ID"] == "<nianbao.N42@test.gov.cn>"
    assert str(first["Subject"]).startswith("【年报监测】逾期未发布年报") and "\n" not in str(first["Subject"])
    assert "Bcc" not in first and sink.envelopes[0][1] == ["a@test.gov.cn", "b@test.gov.cn"]
    plain = first.get_body(("plain",)).get_content()
    html = first.get_body(("html",)).get_content()
    assert "逾期未发布年报" in plain and "2024-01-31" in plain and "督促" in plain
    assert "<table>" in html and "示例区王集镇人民政府 Bcc" in html


def test_email_starttls_with_login_and_implicit_tls(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    users = {"nianbao": "s3cret-口令"}
    with SmtpSink(tls_context=tls, users=users) as sink:
        ok = Email(name="m", host="127.0.0.1", port=sink.port, security="starttls", sender="nb@test.gov.cn",
                   to=("a@test.gov.cn",), username="nianbao", password="s3cret-口令", ca_bundle=str(cert))  # fmt: skip
        assert send(ok, message()).startswith("250")
        bad = Email(name="m", host="127.0.0.1", port=sink.port, security="starttls", sender="nb@test.gov.cn",
                    to=("a@test.gov.cn",), username="nianbao", password="wrong", ca_bundle=str(cert))  # fmt: skip
        with pytest.raises(NotifyError) as err:
            send(bad, message())
        assert err.value.broken and "535" in err.value.detail and "wrong" not in err.value.detail
        untrusted = Email(name="m", host="127.0.0.1", port=sink.port, security="starttls", sender="nb@test.gov.cn",
                          to=("a@test.gov.cn",))  # fmt: skip
        with pytest.raises(NotifyError) as err:
            send(untrusted, message())
        assert err.value.broken and "ca_bundle" in err.value.detail
    assert len(sink.messages) == 1
    with SmtpSink(tls_context=tls, implicit_tls=True) as sink:
        implicit = Email(name="m", host="127.0.0.1", port=sink.port, security="tls", sender="nb@test.gov.cn",
                         to=("a@test.gov.cn",), ca_bundle=str(cert))  # fmt: skip
        assert send(implicit, message()).startswith("250")
    assert len(sink.messages) == 1


@pytest.mark.parametrize(
    ("reply", "permanent"), [("451 4.3.0 try again later", False), ("550 5.1.1 no such user", True)]
)
def test_email_4xx_is_transient_and_5xx_permanent(reply: str, permanent: bool) -> None:
    with SmtpSink() as sink:
        sink.reply = reply
        ch = Email(name="m", host="127.0.0.1", port=sink.port, security="plain", sender="nb@test.gov.cn",
                   to=("a@test.gov.cn",))  # fmt: skip
        with pytest.raises(NotifyError) as err:
            send(ch, message())
    assert err.value.permanent is permanent and not err.value.broken and reply[:3] in err.value.detail


def test_email_server_down_is_transient() -> None:
    ch = Email(name="m", host="127.0.0.1", port=9, security="plain", sender="nb@test.gov.cn", to=("a@test.gov.cn",),
               timeout=2)  # fmt: skip
    with pytest.raises(NotifyError) as err:
        send(ch, message())
    assert not err.value.permanent


CFG = """
[[channels]]
name = "robot"
type = "wecom"
url = "{url}"
key = {{ env = "NB_CH_KEY" }}
allow_private = true
"""


def test_notify_test_command_prints_the_real_answer(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("NB_CH_KEY", KEY)
    with WeComReceiver(keys={KEY}) as robot:
        cfg = tmp_path / "config.toml"
        cfg.write_text(CFG.format(url=robot.url), encoding="utf-8")
        assert main(["notify", "test", "robot", "--config", str(cfg)]) == 0
        assert "已送达" in capsys.readouterr().out and "通道测试" in robot.received[0].content
        robot.keys.clear()
        assert main(["notify", "test", "robot", "--config", str(cfg)]) == 1
        out = capsys.readouterr().out
        assert "93000" in out and KEY not in out
        assert main(["notify", "test", "nope", "--config", str(cfg)]) == 2
        assert "robot" in capsys.readouterr().err


BAD_CONFIGS = [
    ('[[channels]]\nname = "a"\ntype = "pager"\n', "unknown channel type"),
    ('[[channels]]\nname = "a"\ntype = "wecom"\nkey = { env = "NB_CH_KEY" }\ncolour = "red"\n', "unknown key 'colour'"),
    ('[[channels]]\nname = "a"\ntype = "wecom"\nkey = "abc"\n', "references"),
    ('[[channels]]\nname = "a"\ntype = "wecom"\n', "needs 'key'"),
    ('[[channels]]\nname = "a"\ntype = "wecom"\nkey = { env = "NB_CH_KEY" }\ntimeout = "10"\n', "wrong type"),
    ('[[channels]]\nname = "m"\ntype = "email"\nhost = "h"\nsender = "bad"\nto = ["a@b.cn"]\n', "invalid e-mail"),
    ('[[channels]]\nname = "m"\ntype = "email"\nhost = "h"\nsender = "a@b.cn"\nto = ["a@b.cn"]\nsecurity = "ssl"\n',
     "security"),
    ('[alerts]\nadmin = ["ghost"]\n', "unknown channel"),
    ('[alerts]\nremind_every = 3\n', "unknown key 'remind_every'"),
    ('[[routes]]\nchannels = ["ghost"]\n', "unknown or no channels"),
    ('[[channels]]\nname = "a"\ntype = "wecom"\nkey = { env = "NB_CH_KEY" }\n[[routes]]\nchannels = ["a"]\n'
     'quiet_hours = "22:00"\n', "quiet_hours"),
    ('[[channels]]\nname = "a"\ntype = "wecom"\nkey = { env = "NB_CH_KEY" }\n[[routes]]\nchannels = ["a"]\n'
     'digest_at = "25:00"\n', "HH:MM"),
    ('[[channels]]\nname = "a"\ntype = "wecom"\nkey = { env = "NB_CH_KEY" }\n[[routes]]\nchannels = ["a"]\n'
     'bodies = ["无此机关"]\n', "unknown bodies"),
    ('[[channels]]\nname = "a"\ntype = "wecom"\nkey = { env = "NB_CH_KEY" }\n[[routes]]\nchannels = ["a"]\n'
     'severities = ["fatal"]\n', "severities"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "needle"), BAD_CONFIGS)
def test_bad_alert_config_is_refused_with_a_precise_message(
    tmp_path: Path, monkeypatch, text: str, needle: str
) -> None:
    from bot.config import ConfigError, load_config

    monkeypatch.setenv("NB_CH_KEY", KEY)
    cfg = tmp_path / "config.toml"
    cfg.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert needle in str(err.value) and str(cfg) in str(err.value)
