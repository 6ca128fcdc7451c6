"""Every Chinese sentence the action server says, in one place.

Lines are joined with single newlines: Rasa's REST channel splits a text without buttons at blank lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from knowledge.document import Citation, Document, Validity
from knowledge.settings import ServiceSettings

HUMAN_BUTTON = "转人工"
ANONYMOUS = "匿名"


class _Wording:
    """The deployment's hotline, set once where the action server is wired (actions/server.py)."""

    service = ServiceSettings()


def configure(service: ServiceSettings) -> None:
    """Name this county's hotline in every reply; the action server calls it once at start."""
    _Wording.service = service


def hotline() -> str:
    """The hotline as replies say it, e.g. 12345政务服务便民热线."""
    return _Wording.service.hotline


def chinese_date(value: date | None) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


def quoted_title(title: str) -> str:
    """A title in 《》, unless it already starts with one (解读 titles often do: 《…》政策解读)."""
    return title if title.startswith("《") else f"《{title}》"


def title_of(doc: Document) -> str:
    """《title》 with its 文号 when it has one."""
    title = quoted_title(doc.title)
    return f"{title}（{doc.doc_number}）" if doc.doc_number else title


def citation_text(citation: Citation) -> str:
    """One line: 《title》 文号 发文机关 date 【validity】."""
    parts = [
        quoted_title(citation.title),
        citation.doc_number,
        citation.issuer,
        citation.date,
        f"【{citation.validity}】",
    ]
    return " ".join(part for part in parts if part)


def source_lines(citation: Citation, label: str = "出处") -> list[str]:
    """The citation line (title, 文号, 发文机关, date, validity) and the link to the original."""
    lines = [f"{label}：{citation_text(citation)}"]
    if citation.url:
        lines.append(f"原文链接：{citation.url}")
    return lines


def status_notice(doc: Document, replacement: Document | None, quoted: bool = True) -> str:
    """A warning for a document that is no longer (fully) in force; empty for a current one. ``quoted``: a quote
    of it follows ("以下内容"); a validity reply quotes nothing, so it speaks of the document's contents."""
    contents = "以下内容" if quoted else "其内容"
    if doc.validity.is_retired:
        state = "已废止" if doc.validity is Validity.REPEALED else "已失效"
        if replacement is not None:
            current = title_of(replacement)
            return f"注意：{title_of(doc)}{state}，{contents}不再执行，仅供了解历史规定。现行规定请以{current}为准。"
        return f"注意：{title_of(doc)}{state}，{contents}不再执行，仅供参考。"
    if doc.validity is Validity.AMENDED:
        newer = f"{title_of(replacement)}" if replacement is not None else "后续文件"
        return f"注意：{title_of(doc)}的部分条款已被{newer}修改，{contents}可能已经调整，请以修改后的规定为准。"
    if doc.validity is Validity.PENDING:
        start = chinese_date(doc.effective_date)
        return f"注意：{title_of(doc)}尚未生效" + (f"，自{start}起施行。" if start else "。")
    return ""


def answer_text(
    quoted: str,
    citation: Citation,
    *,
    notice: str = "",
    interpreted: Citation | None = None,
    interpretation: Document | None = None,
) -> str:
    """The quoted answer, its source, the policy a 解读 explains, and a pointer to the policy's 解读."""
    lines = [notice] if notice else []
    lines.append(f"「{quoted}」")
    lines += source_lines(citation)
    if interpreted is not None:
        lines.append(f"所解读的政策：{citation_text(interpreted)}")
    if interpretation is not None:
        lines.append(f"政策解读：{quoted_title(interpretation.title)}，回复“政策解读”可查看要点。")
    return "\n".join(lines)


def no_answer_text(department: str = "", document: Document | None = None, offer_human: bool = False) -> str:
    """The honest no-answer: no guessing, the hotline, and where to ask."""
    where = f"{title_of(document)}中" if document is not None else "政策知识库中"
    lines = [f"抱歉，{where}没有找到能够准确回答这个问题的内容，为避免误导您，我不作猜测。"]
    hint = f"，也可以向{department}咨询" if department else ""
    lines.append(f"您可以换个说法再问，或拨打{hotline()}（24小时人工服务）咨询{hint}。")
    if offer_human:
        lines.append(f"已经连续几次没能回答您的问题，如需人工服务，请点击“{HUMAN_BUTTON}”。")
    return "\n".join(lines)


def clarify_text(docs: Sequence[Document]) -> str:
    lines = ["有几项政策都与您的问题有关，您想了解的是以下哪一项？"]
    for number, doc in enumerate(docs, 1):
        owner = doc.department or doc.issuer
        lines.append(f"{number}. {quoted_title(doc.title)}" + (f"（{owner}）" if owner else ""))
    return "\n".join(lines)


def unknown_document_text() -> str:
    return f"抱歉，没有找到您选择的文件，它可能已被调整。请重新描述您的问题，或拨打{hotline()}咨询。"


def validity_text(doc: Document, replacement: Document | None) -> str:
    """State, dates and replacement of a document."""
    lines = [f"{title_of(doc)}目前的状态是【{doc.validity.value}】。"]
    dates = []
    if doc.published_date or doc.written_date:
        dates.append(f"发布日期：{chinese_date(doc.published_date or doc.written_date)}")
    if doc.effective_date:
        dates.append(f"施行日期：{chinese_date(doc.effective_date)}")
    if doc.expiry_date:
        label = "有效期至" if not doc.validity.is_retired else "截止日期"
        dates.append(f"{label}：{chinese_date(doc.expiry_date)}")
    if dates:
        lines.append("；".join(dates) + "。")
    notice = status_notice(doc, replacement, quoted=False)
    if notice:
        lines.append(notice.removeprefix("注意："))
    elif doc.validity is Validity.CURRENT:
        lines.append("该文件现行有效，可以作为办事依据。")
    elif doc.validity is Validity.UNSET:
        lines.append("该文件未标注有效性，请以发文机关公布的为准。")
    if doc.source_url:
        lines.append(f"原文链接：{doc.source_url}")
    return "\n".join(lines)


def no_current_document_text() -> str:
    return "请先告诉我您想了解哪项政策，例如“创业担保贷款最高能贷多少”，我再为您说明它的有效性和解读。"


def interpretation_text(interpretation: Document, excerpt: str, policy: Document | None) -> str:
    lines = [
        f"{title_of(policy)}的政策解读要点：" if policy is not None else f"{quoted_title(interpretation.title)}要点："
    ]
    lines.append(excerpt)
    lines += source_lines(Citation.of(interpretation))
    return "\n".join(lines)


def no_interpretation_text(policy: Document) -> str:
    return f"{title_of(policy)}暂未发布配套的政策解读。您可以直接问我这份文件里的具体问题，或拨打{hotline()}咨询。"


def contact_text(heading: str, details: str, citation: Citation) -> str:
    lines = [f"{heading}：" if heading else "联系方式：", details]
    lines += source_lines(citation)
    if _Wording.service.hotline_number not in f"{heading}{details}":  # the hotline's own entry needs no pointer to it
        lines.append(f"不清楚找哪个部门的，可拨打{hotline()}。")
    return "\n".join(lines)


def handoff_text(number: str, department: str = "") -> str:
    lines = [f"好的，已为您转人工服务，工单号：{number}。"]
    lines.append(f"请拨打{hotline()}（24小时人工服务），向话务员提供工单号，工作人员可据此查看您与我的对话记录。")
    if department:
        lines.append(f"您咨询的事项由{department}负责，也可以直接向该部门咨询。")
    return "\n".join(lines)


def handoff_unrecorded_text(department: str = "") -> str:
    lines = [f"抱歉，工单暂时无法登记。请直接拨打{hotline()}（24小时人工服务），由话务员为您处理。"]
    if department:
        lines.append(f"您咨询的事项由{department}负责，也可以直接向该部门咨询。")
    return "\n".join(lines)


def complaint_unrecorded_text() -> str:
    return f"抱歉，系统暂时无法登记您的投诉，您填写的内容已保留。请稍后回复“投诉”重新提交，或直接拨打{hotline()}反映。"


def complaint_text(number: str, masked_phone: str) -> str:
    return "\n".join(
        [
            f"您的投诉已登记，工单号：{number}。",
            f"我们会将问题转交有关部门办理，工作人员将通过您留下的电话（{masked_phone}）与您联系核实。",
            f"您也可以拨打{hotline()}，凭工单号查询办理进度。",
        ]
    )


def feedback_text(positive: bool) -> str:
    if positive:
        return "感谢您的反馈！还有其他政策问题，欢迎继续问我。"
    return f"抱歉这次的回答没能帮到您。您可以换个说法再问，也可以点击“{HUMAN_BUTTON}”，或拨打{hotline()}咨询。"


def unavailable_text() -> str:
    return f"抱歉，政策知识库暂时无法查询，请稍后再试，或拨打{hotline()}（24小时人工服务）咨询。"


# -- complaint form ---------------------------------------------------------------------------

WHAT_TOO_SHORT = "问题描述太简短了，请至少用5个字说明发生了什么事，例如“养老补贴三个月没有发放”。"
WHERE_MISSING = "请说明问题发生的具体地点，或涉及的单位、窗口。"
PHONE_INVALID = "电话号码格式不正确。请输入11位手机号（如13800000000），或带区号的固定电话（如0631-5201234）。"
