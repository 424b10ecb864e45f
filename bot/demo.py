"""The bundled demo: a sample portal on 127.0.0.1 (a Hanweb-style column with dataproxy paging, a
TRS-style list over two pages, a GBK article, PDF and DOCX attachments, clean and defective reports,
one body that never publishes), one real scan cycle into an embedded SQLite file, and what it found."""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict
from pathlib import Path

from bot.fixture_portal import FixturePortal, Route, datastore
from bot.status import matrix, render
from bot.store import Store

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "demo" / "reports"

_LI = '<li><a href="{href}" target="_blank" title="{title}">{title}</a><span>{date}</span></li>'


def _article(title: str, attachment: str, name: str, date: str) -> bytes:
    return (
        f'<html><head><meta name="ArticleTitle" content="{title}"><meta name="PubDate" content="{date} 10:00">'
        f'<title>{title}</title></head><body><div class="TRS_Editor"><p>{title}</p>'
        f'<p>附件：<a href="{attachment}">{name}</a></p></div></body></html>'
    ).encode()


def build(portal: FixturePortal) -> None:
    """Fill the fixture portal with the demo site."""
    r = portal.routes
    # ---- Hanweb column: 2 records in the page, 2 more (and a news item) through dataproxy.jsp
    records = [
        _LI.format(
            href="/art/2022/1/20/art_1001_11.html",
            title="示例区王集镇人民政府2021年政府信息公开工作年度报告",
            date="2022-01-20",
        ),
        _LI.format(
            href="/art/2022/1/21/art_1001_12.html", title="示例区王集镇人民政府2021年度防汛工作总结", date="2022-01-21"
        ),
        _LI.format(
            href="/art/2024/2/6/art_1001_13.html",
            title="示例区城东街道办事处2023年政府信息公开工作年度报告",
            date="2024-02-06",
        ),
        _LI.format(
            href="/art/2023/3/20/art_1001_14.html",
            title="示例区人民政府2022年政府信息公开工作年度报告",
            date="2023-03-20",
        ),
    ]
    portal.proxies["/module/web/jpage/dataproxy.jsp"] = records
    column = (
        '<html><head><meta charset="utf-8"><title>政府信息公开年报</title></head><body><div id="1001">'
        '<script type="text/xml">'
        + datastore(
            records[:2],
            len(records),
            "/module/web/jpage/dataproxy.jsp?page=1&webid=1&path=/&columnid=1001"
            "&unitid=5001&webname=示例区&permissiontype=0",
        )
        + "</script><script>var perpage=2;</script></div></body></html>"
    )
    r["/col/col1001/index.html"] = Route(column.encode())
    r["/art/2022/1/20/art_1001_11.html"] = Route(
        (REPORTS / "02-示例区王集镇-2021-GBK.html").read_bytes(), "text/html; charset=gb2312"
    )
    r["/art/2024/2/6/art_1001_13.html"] = Route(
        _article(
            "示例区城东街道办事处2023年政府信息公开工作年度报告",
            "/module/download/P020240206.pdf",
            "年报全文.pdf",
            "2024-02-06",
        )
    )
    r["/module/download/P020240206.pdf"] = Route(
        (REPORTS / "03-示例区城东街道-2023.pdf").read_bytes(), "application/octet-stream"
    )
    r["/art/2023/3/20/art_1001_14.html"] = Route(
        _article(
            "示例区人民政府2022年政府信息公开工作年度报告",
            "/module/download/P020230320.docx",
            "年报.docx",
            "2023-03-20",
        )
    )
    r["/module/download/P020230320.docx"] = Route(
        (REPORTS / "06-示例区人民政府-2022.docx").read_bytes(), "application/vnd.openxmlformats-officedocument"
    )
    # ---- TRS list: index.html + index_1.html
    page0 = (
        '<html><body><ul class="list">'
        + _LI.format(
            href="./202404/t20240401_2001.html", title="洪泽区人民政府2023年政府信息公开工作年度报告", date="2024-04-01"
        )
        + '</ul><script>createPageHTML(2, 0, "index", "html");</script></body></html>'
    )
    page1 = (
        '<html><body><ul class="list">'
        + _LI.format(
            href="./202201/t20220120_1999.html",
            title="示例区王集镇人民政府2021年政府信息公开工作年度报告",
            date="2022-01-20",
        )
        + '</ul><script>createPageHTML(2, 1, "index", "html");</script></body></html>'
    )
    r["/bm/nb/index.html"] = Route(page0.encode())
    r["/bm/nb/index_1.html"] = Route(page1.encode())
    r["/bm/nb/202404/t20240401_2001.html"] = Route(
        _article("洪泽区人民政府2023年政府信息公开工作年度报告", "./P020240401.pdf", "年报.pdf", "2024-04-01")
    )
    r["/bm/nb/202404/P020240401.pdf"] = Route((REPORTS / "04-洪泽区-2023.pdf").read_bytes(), "application/pdf")
    r["/bm/nb/202201/t20220120_1999.html"] = Route((REPORTS / "05-示例区王集镇-表三为图片.html").read_bytes())


def config_text(base: str, database: str, wecom_url: str = "http://127.0.0.1:9/", smtp_port: int = 9) -> str:
    """demo/config.toml with the sample portal's address, the database, the rules directory and the
    local alert sinks filled in (the robot key is read from wecom.key beside the config, mode 0600)."""
    template = (ROOT / "demo" / "config.toml").read_text(encoding="utf-8")
    return template.format(
        base=base,
        database=database,
        rules=(ROOT / "rules").as_posix(),
        wecom_url=wecom_url,
        smtp_port=smtp_port,
        scorecard=Path(database).with_name("scorecard.html").as_posix(),
    )


DEMO_KEY = "demo-key"


def write_config(
    folder: Path, base: str, database: str, wecom_url: str = "http://127.0.0.1:9/", smtp_port: int = 9
) -> Path:
    """config.toml plus the robot key file (0600) it refers to, in ``folder``."""
    key = folder / "wecom.key"
    key.write_text(DEMO_KEY + "\n", encoding="utf-8")
    key.chmod(0o600)
    cfg = folder / "config.toml"
    cfg.write_text(config_text(base, database, wecom_url, smtp_port), encoding="utf-8")
    return cfg


def run_demo(json_out: bool = False) -> int:
    """Serve the sample portal on 127.0.0.1, run one real cycle into var/demo.sqlite, deliver the
    alerts to local sinks (a WeCom-compatible robot and an SMTP server), print what arrived."""
    from bot.scorecard import build as build_card
    from bot.scorecard.page import headline_sentence
    from bot.service import _load, describe_event, now_local, scan_once, scan_summary
    from bot.sinks import SmtpSink, WeComReceiver

    root = Path(__file__).resolve().parent.parent
    db = root / "var" / "demo.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    with (
        FixturePortal() as portal,
        WeComReceiver(keys={DEMO_KEY}) as robot,
        SmtpSink() as mail,
        tempfile.TemporaryDirectory() as tmp,
    ):
        build(portal)
        cfg = write_config(Path(tmp), portal.url, db.as_posix(), robot.url, mail.port)
        config, rules = _load(cfg)
        print(f"nianbao demo：示例门户运行于 {portal.url}，数据库 {db}\n")
        results, stats = scan_once(config, rules)
        events = [e for r in results for e in r.events]
        store = Store(config.database)
        rows = matrix(config, store, rules, now_local().date())
        if json_out:
            print(
                json.dumps(
                    {
                        "events": [{"type": type(e).__name__, **asdict(e)} for e in events],
                        "status": rows,
                        "wecom": [r.payload for r in robot.delivered()],
                        "email": [{"subject": m["Subject"], "message_id": m["Message-ID"]} for m in mail.messages],
                    },
                    ensure_ascii=False,
                    default=str,
                )
            )
            return 0
        print("━━ 扫描结果\n" + scan_summary(results))
        print("\n━━ 事件")
        for e in events:
            print("  " + describe_event(e))
        print("\n━━ 机关 × 年度（nianbao status）\n" + render(rows))
        print("\n━━ 已发现的年报问题（nianbao show ID）")
        for r in store.reports():
            print(
                f"  #{r['id']} {r['body']} {r['year']}年度：错误 {r['errors']}，警告 {r['warnings']}，"
                f"提示 {r['advisories']}  发布 {r['published'] or '-'}（{r['evidence'] or '-'}）"
            )
            for f in store.findings_of(r["id"]):
                if f["severity"] == "error":
                    print(f"      [错误] {f['kind']} @ {f['where']}：{f['message'][:90]}")
        print(
            f"\n━━ 告警（已发送 {stats.sent} 条；本地企业微信机器人 {robot.url}，本地邮件服务器 127.0.0.1:{mail.port}）"
        )
        for m in mail.messages:
            print(f"  邮件 {m['Message-ID']}  {m['Subject']}")
        for got in robot.delivered():
            first = got.content.splitlines()[0] if got.content else ""
            more = "（上一条超过 4096 字节，续段）"
            print(f"  企业微信 {first[:100]}" if first.startswith("**") else f"  企业微信 {more}")
        page = config.scorecard.path
        if page is not None and page.exists():
            print(f"\n━━ 发布与质量情况页面（nianbao scorecard）：{page}（用浏览器打开，可筛选、排序、打印）")
            print("  " + headline_sentence(build_card(config, store, rules, max(config.years), now_local()).total,
                                           max(config.years)))  # fmt: skip
        sample = next((g for g in robot.delivered() if "问题 " in g.content.splitlines()[0]), None)
        if sample:
            print("\n  —— 其中一条企业微信消息的全文（markdown）——")
            print("  " + sample.content.replace("\n", "\n  "))
        store.close()
    return 0
