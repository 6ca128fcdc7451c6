"""The caller's questions: distinct, in order, each one readable without the rest of the call."""

from __future__ import annotations

from hotline.questions import extract_questions, find_places, same_question
from hotline.transcript import parse_transcript

THREE_QUESTIONS = """坐席：您好，12345政务服务便民热线，工号1024，请问有什么可以帮您？
市民：嗯你好，我想问一下我想问一下，那个，青禾县的一次性创业补贴怎么申请？
坐席：您可以到县人社局申请。
市民：那个补贴需要什么材料呢？
坐席：身份证、毕业证和营业执照。
市民：还有就是创业担保贷款最高能贷多少？
坐席：请问还有其他问题吗？
市民：没有了，谢谢。"""


def texts(transcript: str) -> list[str]:
    return [q.text for q in extract_questions(parse_transcript(transcript))]


def test_a_three_question_call_gives_three_standalone_questions_in_order() -> None:
    assert texts(THREE_QUESTIONS) == [
        "青禾县的一次性创业补贴怎么申请？",
        "青禾县一次性创业补贴需要什么材料呢？",  # 那个补贴 → the subsidy named before; the county carried
        "青禾县创业担保贷款最高能贷多少？",
    ]


def test_questions_keep_what_the_caller_said_and_where() -> None:
    questions = extract_questions(parse_transcript(THREE_QUESTIONS))
    assert questions[1].said == "那个补贴需要什么材料呢？"
    assert [q.turn for q in questions] == [1, 3, 5]
    assert {q.kind for q in questions} == {"question"}


def test_a_question_asked_twice_is_one_question() -> None:
    call = "坐席：您好。\n市民：请问低保怎么申请？\n坐席：您说的是低保吧？\n市民：对，我就是问一下低保怎么申请。"
    assert texts(call) == ["低保怎么申请？"]


def test_the_place_given_to_the_operator_is_carried_into_the_next_questions() -> None:
    call = (
        "A：您好，请问有什么可以帮您？\nB：我想咨询一下。\nA：您请讲。\n"
        "B：我是青禾县柳溪镇的，低保怎么申请？\nA：需要到镇政府提交申请。\nB：这个需要多长时间能批下来？"
    )
    assert texts(call) == ["青禾县柳溪镇低保怎么申请？", "青禾县柳溪镇低保需要多长时间能批下来？"]


def test_a_follow_up_naming_no_subject_gets_the_last_one() -> None:
    call = "坐席：您好，请问有什么可以帮您？\n市民：城乡居民医保每年交多少钱？\n坐席：380元。\n市民：那报销比例是多少？"
    assert texts(call)[1] == "城乡居民医保报销比例是多少？"
    assert texts(call + "\n坐席：按档次不同。\n市民：那应该去哪里办？")[2] == "城乡居民医保应该去哪里办？"


def test_a_complaint_said_in_two_sentences_is_one_request() -> None:
    call = (
        "坐席：您好，请问有什么可以帮您？\n来电人：我要投诉。\n坐席：请讲。\n"
        "来电人：我们小区物业乱收费，每个月多收五十块钱，你们管不管？"
    )
    questions = extract_questions(parse_transcript(call))
    assert [(q.kind, q.text) for q in questions] == [
        ("request", "我要投诉我们小区物业乱收费，每个月多收五十块钱，你们管不管？")
    ]


def test_back_channel_and_the_operators_questions_are_not_the_callers_questions() -> None:
    call = (
        "坐席：您好，能听到吗？请问您的联系电话是多少？\n"
        "市民：能听到吗？是吗？好的。\n市民：我电话是一三八零零一二三四五六。"
    )
    assert texts(call) == []


def test_unpunctuated_asr_gives_the_same_questions() -> None:
    call = (
        "您好12345热线请问有什么可以帮您 嗯我想问一下那个城乡居民医保每年交多少钱然后呢就是说报销比例是多少"
        " 好的您稍等 好的感谢您的来电"
    )
    assert texts(call) == ["城乡居民医保每年交多少钱？", "城乡居民医保报销比例是多少？"]


def test_unpunctuated_questions_without_question_words_are_not_lost_or_run_together() -> None:
    # the dev questions "…受理范围？" and "…是那五级？" lose their only question mark in ASR without punctuation
    call = (
        "您好这里是市民热线请问有什么可以帮您 嗯你好你好北京市中小微企业办理停征污水处理费的受理范围"
        " 好的您稍等我帮您查一下 然后呢我还想问一下广西自治区推出的五级包干制是哪五级 好的您稍等"
        " 嗯对了黑龙江省确诊患者医疗费用补助政策 好的我们会为您记录请问您的联系电话是多少"
        " 我电话是一三九零零一二三四五六"
    )
    assert texts(call) == [
        "北京市中小微企业办理停征污水处理费的受理范围。",
        "广西自治区推出的五级包干制是哪五级？",
        "黑龙江省确诊患者医疗费用补助政策。",
    ]


def test_unpunctuated_lead_ins_stay_out_of_places_and_a_bare_gai_inside_a_question_points_nowhere() -> None:
    call = (
        "您好请问有什么可以帮您 你好那个我想咨询个事就是说海陵区民政局咨询电话是多少 好的您稍等"
        " 嗯对了门把手按钮扶手是否有病毒该怎么消毒 好的"
    )
    assert texts(call) == ["海陵区民政局咨询电话是多少？", "海陵区门把手按钮扶手是否有病毒该怎么消毒？"]


def test_a_question_said_with_nin_after_moving_on_is_the_callers() -> None:
    call = "您好请问有什么可以帮您 我想问一下低保怎么申请 好的您稍等 还有就是请您监督专栏是在哪个媒介上开设的 好的"
    assert texts(call) == ["低保怎么申请？", "请您监督专栏是在哪个媒介上开设的？"]


def test_places_named_in_a_sentence() -> None:
    assert find_places("我是青禾县柳溪镇的") == ["青禾县柳溪镇"]
    assert find_places("天津市哪些情况可以减免检验检测服务收费") == ["天津市"]
    assert find_places("上海企业如何进入复工人员网上登记系统") == ["上海"]
    assert find_places("您可以到县里或者小区的社区服务中心办理") == []
    assert find_places("返乡入乡创业补贴怎么领") == []
    assert find_places("我想咨询个事海陵区民政局咨询电话是多少") == ["海陵区"]  # not 事海陵区
    assert find_places("疫情期间各省财政部的预拨金额是多少") == []


def test_same_question_tolerates_wording_but_not_another_subject() -> None:
    assert same_question("低保怎么申请？", "我想问一下低保怎么申请")
    assert not same_question("大学生创业补贴怎么申请？", "返乡入乡创业补贴怎么申请？")
