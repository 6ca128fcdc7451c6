"""Small documents the knowledge tests share: a repealed policy and its replacement, an interpretation,
a current policy and a Taipei FAQ in traditional script."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from knowledge.document import Document, Kind, Validity
from knowledge.settings import Settings


def make_settings(tmp_path: Path, url: str | None = None) -> Settings:
    settings = Settings()
    settings.store.url = url or f"sqlite:///{tmp_path}/kb.db"
    settings.index.dir = tmp_path / "index"
    return settings


LOAN_OLD = Document(
    id="loan-2019", kind=Kind.POLICY, title="青禾县创业担保贷款实施办法（2019年）", doc_number="青政发〔2019〕8号",
    issuer="青禾县人民政府", published_date=date(2019, 5, 1), validity=Validity.REPEALED, replaced_by="loan-2023",
    body="一、贷款额度\n个人创业担保贷款最高额度为15万元，贷款期限不超过3年。\n二、申请条件\n在本县登记注册的个体工商户可以申请。",
)
LOAN_NEW = Document(
    id="loan-2023", kind=Kind.POLICY, title="青禾县创业担保贷款实施办法", doc_number="青政发〔2023〕12号",
    issuer="青禾县人民政府", published_date=date(2023, 6, 1), validity=Validity.CURRENT,
    source_url="https://www.qinghe.gov.example/loan-2023",
    body="一、贷款额度\n个人创业担保贷款最高额度为30万元，贷款期限不超过3年。\n二、申请材料\n申请人需提交身份证、营业执照和创业计划书。",
)
LOAN_FAQ = Document(
    id="loan-faq", kind=Kind.INTERPRETATION, title="《青禾县创业担保贷款实施办法》政策解读", interprets="loan-2023",
    validity=Validity.CURRENT,
    body="问：贷款利息谁来出？\n答：财政按规定给予全额贴息，借款人无需承担利息。\n\n问：去哪里申请？\n答：到县就业服务中心一楼3号窗口申请。",
)
MEDICAL = Document(
    id="medical", kind=Kind.POLICY, title="青禾县城乡居民基本医疗保险办法", doc_number="青政办发〔2024〕3号",
    issuer="青禾县人民政府办公室", published_date=date(2024, 1, 10), validity=Validity.CURRENT,
    body="一、参保缴费\n城乡居民医保个人缴费标准为每人每年380元。\n二、待遇标准\n住院费用政策范围内报销比例为70%。",
)
TAIPEI = Document(
    id="tpe-1", kind=Kind.FAQ, title="如何申請低收入戶資格？", issuer="臺北市政府社會局",
    body="問：如何申請低收入戶資格？\n答：請攜帶身分證明文件至戶籍所在地區公所社會課提出申請。",
)
SMALL_SET = (LOAN_OLD, LOAN_NEW, LOAN_FAQ, MEDICAL, TAIPEI)
