"""Question types: what citizens ask for, as they type it, and which text looks like that kind of answer."""

from __future__ import annotations

import pytest

from knowledge.qtypes import (
    ASKED,
    QType,
    asked_kind,
    asking_words,
    gives,
    is_list_block,
    question_type,
    question_types,
    type_fit,
)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("孩子上小学要准备什么", QType.MATERIALS),
        ("办居住证带啥", QType.MATERIALS),
        ("申请低保需要哪些材料？", QType.MATERIALS),
        ("失业金一个月能领多少钱阿", QType.AMOUNT),
        ("创业担保贷款最高能贷多少", QType.AMOUNT),
        ("高龄津贴的标准是多少", QType.AMOUNT),
        ("城乡居民医保每年交多少钱", QType.AMOUNT),
        ("低保金是怎么计算的？", QType.AMOUNT),  # how an amount is worked out, not the steps to apply
        ("失业金怎么算", QType.AMOUNT),
        ("县政务服务中心几点上班", QType.TIME),
        ("网上登记什么时候开始", QType.TIME),
        ("几天能办下来", QType.TIME),
        ("医保局在哪", QType.PLACE),
        ("公积金中心电话多少号码", QType.PLACE),  # 号码 asks for the number, not an amount
        ("去哪个窗口办", QType.PLACE),
        ("娃是2020年9月份生的 今年能报一年级不", QType.ELIGIBILITY),
        ("外地户口能不能申请保租房", QType.ELIGIBILITY),
        ("领低保要什么条件", QType.ELIGIBILITY),
        ("在外地可以办理青禾县户籍的身份证吗？", QType.ELIGIBILITY),  # whether one may, though it says 办理
        ("2026年孩子上小学有什么年龄要求？", QType.ELIGIBILITY),
        ("身份证丢了 过两天就要坐高铁咋办", QType.PROCEDURE),
        ("异地就医备案怎么办理", QType.PROCEDURE),
        ("办营业执照的流程", QType.PROCEDURE),
        ("15万的创业贷款政策还有效吗", QType.VALIDITY),
        ("2019年那个文件是不是还在执行", QType.VALIDITY),
        ("青禾县有哪些惠民政策", QType.OTHER),
    ],
)
def test_question_type_is_read_from_everyday_wording(question: str, expected: QType) -> None:
    assert question_type(question) is expected


def test_traditional_script_and_full_width_are_folded() -> None:
    assert question_type("辦理需要帶什麼證件？") is QType.MATERIALS
    assert question_type("ＸＸ中心幾點上班") is QType.TIME


HOURS = "办公时间：周一至周五 上午9:00-12:00 下午13:30-17:00"
ADDRESS = "地址：青禾县禾兴路188号"
PHONE = "咨询电话：0631-5201188"
LIST = "五、所需材料\n1. 户口簿；\n2. 不动产权证书；\n3. 儿童出生医学证明。"
AMOUNT = "个人创业担保贷款最高额度为30万元，贷款期限不超过3年。"
RULE = "小学一年级招收2020年8月31日（含）以前出生、年满6周岁的适龄儿童。"


@pytest.mark.parametrize(
    ("qtype", "better", "worse"),
    [
        (QType.TIME, HOURS, ADDRESS),
        (QType.PLACE, ADDRESS + "\n" + PHONE, HOURS),
        (QType.MATERIALS, LIST, RULE),
        (QType.AMOUNT, AMOUNT, RULE),
        (QType.ELIGIBILITY, RULE, ADDRESS),
        (QType.VALIDITY, "本办法自2023年1月1日起施行，原办法同时废止。", AMOUNT),
    ],
)
def test_an_answer_of_the_asked_kind_fits_better(qtype: QType, better: str, worse: str) -> None:
    assert type_fit(qtype, better) > type_fit(qtype, worse)


def test_other_questions_prefer_nothing() -> None:
    assert type_fit(QType.OTHER, LIST) == 0.0 == type_fit(QType.OTHER, HOURS)


def test_list_blocks_need_two_items_on_their_own_lines() -> None:
    assert is_list_block(LIST)
    assert not is_list_block("申请人应当提交身份证、户口簿等材料。")
    assert not is_list_block("补贴标准为每人1.5万元。")  # 1.5 is a figure, not item 1


def test_a_message_asking_two_kinds_of_thing_names_both() -> None:
    assert question_types("小微企业能贷创业担保贷款吗 最多多少") == {QType.AMOUNT, QType.ELIGIBILITY}
    assert question_types("医保局在哪") == {QType.PLACE}


def test_asking_words_are_the_question_form_not_its_subject() -> None:
    words = asking_words("两个人合伙创业最多能贷多少")
    assert "最多" in words and not any("合伙" in w for w in words)


@pytest.mark.parametrize("text", ["不收费。评估费用由县财政承担。", "由财政按贷款实际利率的三分之二给予贴息。"])
def test_no_cost_or_a_share_of_it_answers_an_amount_question(text: str) -> None:
    assert type_fit(QType.AMOUNT, text) > type_fit(QType.AMOUNT, "失能等级评估由县民政局委托第三方机构开展。")


def test_a_limit_is_no_answer_to_an_eligibility_question() -> None:
    limit = "符合条件的个人最高可申请30万元创业担保贷款。"
    conditions = "申请人应当符合下列条件：年满18周岁，本人无不良信用记录的，可以申请。"
    assert type_fit(QType.ELIGIBILITY, conditions) > type_fit(QType.ELIGIBILITY, limit)


def test_a_list_gives_a_materials_answer_only_when_it_names_documents() -> None:
    rules = "修改后的主要规定如下：\n（一）申请条件：在县城区就业；\n（二）租金：不高于市场租金的85%、年涨幅不超过5%。"
    assert gives(QType.MATERIALS, LIST)
    assert type_fit(QType.MATERIALS, rules) >= 0.5 and not gives(QType.MATERIALS, rules)
    assert gives(QType.TIME, "承办单位在5个工作日内办结。") and not gives(QType.OTHER, LIST)


def test_no_text_gives_a_validity_answer_the_documents_label_does() -> None:
    amendment = "本决定自2025年4月1日起施行，原办法第八条同时修改。"
    assert type_fit(QType.VALIDITY, amendment) == 1.0 and not gives(QType.VALIDITY, amendment)


KIND = {kind.name: kind for kind in ASKED}


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("周六能去办营业执照不", True),
        ("12345晚上有人接不", True),
        ("公积金中心几点上班", True),
        ("礼拜天社保窗口开门吗", True),
        ("上班族能交城乡居民医保不", False),  # a worker's 上班, not an opening time
        ("养老补贴每个月几号发", False),  # a date, not hours
    ],
)
def test_an_hours_question_names_a_day_a_part_of_the_day_or_the_opening(question: str, asks: bool) -> None:
    assert KIND["hours"].asked_by(question) is asks


@pytest.mark.parametrize(
    ("name", "asking", "asking_another", "stating", "not_stating"),
    [
        # "24小时内办结" is a deadline, not service round the clock
        ("hours", "公积金中心几点上班", "养老补贴每个月几号发", "实行全天24小时人工服务，全年无休。",
         "紧急诉求，承办单位在2小时内响应，24小时内办结。"),
        # a year is no period
        ("duration", "开个公司要几天能办完", "公积金中心几点上班", "材料齐全、符合法定形式的，0.5个工作日内办结。",
         "自2020年1月1日起施行"),
        ("duration", "临时身份证管多长时间", "低保窗口在哪", "有效期三个月", "周一至周五 上午9:00-12:00"),
        # a body's name says who, not where; 到哪天 and 到哪些 ask no place
        ("where", "保租房在哪申请", "延长春节假期到哪天", "青禾县政务服务中心二楼C区住房保障窗口",
         "县住房保障服务中心负责申请受理、资格审核和配租管理等具体工作。"),
        ("where", "创业贷款去哪办", "税费政策涉及到哪些关键点", "地址：青禾县农丰路23号", "县民政局负责低保审批"),
        ("date", "大学生创业补贴几月份申请", "低保要公示几天", "每年3月、6月、9月、12月集中受理",
         "耕地地力保护补贴是国家重要的强农惠农政策。"),
        ("date", "耕地补贴啥时候报", "耕地补贴一亩多少钱", "每月10日前发放", "2026年补贴资金"),
        ("contribution", "农村合作医疗一年交多少钱", "居民医保一年最多报多少钱", "个人缴费标准为每人每年400元",
         "基本医疗保险年度最高支付限额为25万元"),
    ],
)  # fmt: skip
def test_each_narrow_kind_is_asked_by_its_words_and_stated_by_its_text(
    name: str, asking: str, asking_another: str, stating: str, not_stating: str
) -> None:
    kind = KIND[name]
    assert asked_kind(asking) is kind
    assert asked_kind(asking_another) is not kind
    assert kind.stated_in(stating) and not kind.stated_in(not_stating)
