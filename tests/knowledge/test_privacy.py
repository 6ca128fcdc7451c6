"""Personal numbers as citizens and speech recognition write them are masked; published numbers never are."""

from __future__ import annotations

import time

import pytest

from knowledge.privacy import NumberKind, find_personal_numbers, find_phones, mask_personal_data, parse_phone

# (written, masked): the seven ways of issue 10 and the other writings citizens, IMEs and speech recognition use
MASKED = [
    # mobiles
    ("我的手机13812345678", "我的手机138****5678"),
    ("我电话幺三八幺二三四五六七八", "我电话138****5678"),  # spoken numerals, 幺 for 1
    ("一三八 一二三四 五六七八", "138****5678"),
    ("幺五两 零零零零 一二三四", "152****1234"),  # 两 for 2, 零 for 0
    ("幺三八〇〇〇〇五六七八", "138****5678"),  # 〇 for 0
    ("一三八1234五六七八", "138****5678"),  # numerals mixed with digits
    ("１３８１２３４５６７８", "138****5678"),  # full-width digits
    ("138\u30001234\u30005678", "138****5678"),  # ideographic spaces
    ("138\u00a01234\u20095678", "138****5678"),  # no-break and thin spaces
    ("138.1234.5678", "138****5678"),
    ("138-1234-5678", "138****5678"),
    ("1381-234-5678", "138****5678"),
    ("138–1234–5678", "138****5678"),  # en dashes
    ("1 3 8 1 2 3 4 5 6 7 8", "138****5678"),  # digit by digit
    ("+86 13912345678", "+86 139****5678"),
    ("+86-139-1234-5678", "+86-139****5678"),
    ("(+86)13912345678", "(+86)139****5678"),
    ("（+86）139 1234 5678", "（+86）139****5678"),
    ("0086 13912345678", "0086 139****5678"),
    ("+86 (139) 1234 5678", "+86 139****5678"),
    ("电话 138 1234 5678 或 +86 13912345678。", "电话 138****5678 或 +86 139****5678。"),
    # landlines with their area code
    ("座机0631-5201188", "座机0631-***1188"),
    ("(0631)5201188", "(0631)***1188"),
    ("（0631）5201188", "（0631）***1188"),
    ("0631 520 1188", "0631 ***1188"),
    ("06315201188", "0631***1188"),
    ("010-62345678", "010-****5678"),
    ("+86 631 5201188", "+86 631 ***1188"),
    ("零六三一 五二零一一八八", "零六三一 ***1188"),
    # ID-card numbers
    ("身份证号110101199003071234", "身份证号110***********1234"),
    ("身份证11010119900307123X。", "身份证110***********123X。"),
    ("11010119900307123x", "110***********123X"),
    ("110101 19900307 1234", "110***********1234"),
    ("110101 1990 0307 123X", "110***********123X"),
    ("１１０１０１１９９００３０７１２３Ｘ", "110***********123X"),
    ("老身份证110101900307123", "老身份证110********7123"),  # 15 digits
    ("幺幺零幺零幺九零零三零七幺二三", "110********7123"),
    # bank cards
    ("银行卡6222 0212 3456 7890", "银行卡************7890"),
    ("6222 0212 3456 7890 123", "***************0123"),
    ("6222-0212-3456-7890", "************7890"),
    ("卡号6212262502009182455", "卡号***************2455"),
]

# published and ordinary numbers that must come out exactly as they went in
LEFT_ALONE = [
    "请拨打12345政务服务便民热线",
    "消费投诉12315，社保咨询12333，税务12366，法律援助12348",
    "依据青人社发〔2023〕9号和青政办发〔2025〕7号",
    "2023年12月1日起施行，2023-12-01发布，2023.12.01修订",
    "二〇二三年十二月一日",
    "最高可贷30万元，每人每年1710元，合计300000元，人均1234.56元",
    "2021 2022 2023 2024年的数据",
    "工单GD20261128-0001已登记",
    "https://www.qinghe.gov.example/art/2023/12/1/art_1229012345_59012345.html",
    "办公时间9:00-12:00，14:00-17:30",
    "第3期第12批共1500户",
    "打12345或12329，青人社发〔2023〕9号，最高30万元（300000元）",
]


def digits_of(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


@pytest.mark.parametrize(("written", "masked"), MASKED)
def test_personal_number_is_masked(written: str, masked: str) -> None:
    assert mask_personal_data(written) == masked


@pytest.mark.parametrize(("written", "masked"), MASKED)
def test_masked_text_leaks_no_digit_of_the_middle(written: str, masked: str) -> None:
    numbers = find_personal_numbers(written)
    assert numbers, written
    output = mask_personal_data(written)
    for number in numbers:
        middle = number.digits[3:-4]
        assert middle not in digits_of(output.translate(str.maketrans("０１２３４５６７８９", "0123456789")))
    assert find_personal_numbers(output) == []  # nothing left to mask


@pytest.mark.parametrize("text", LEFT_ALONE)
def test_published_and_ordinary_numbers_are_left_alone(text: str) -> None:
    assert mask_personal_data(text) == text
    assert find_personal_numbers(text) == []


def test_numbers_a_document_publishes_can_be_kept() -> None:
    """An answer quoting an office line keeps it; the citizen's own number in the same text is masked."""
    text = "县人社局电话0631-5212301；来电人电话13812345678"
    assert mask_personal_data(text, keep=["0631 5212301"]) == "县人社局电话0631-5212301；来电人电话138****5678"
    assert mask_personal_data(text) == "县人社局电话0631-***2301；来电人电话138****5678"


def test_phones_are_extracted_from_a_call_transcript_as_digits() -> None:
    transcript = "市民：我姓王，电话是幺三八 幺二三四 五六七八，家里座机（0631）5201188，身份证110101199003071234。"
    assert find_phones(transcript) == ["13812345678", "06315201188"]
    kinds = [number.kind for number in find_personal_numbers(transcript)]
    assert kinds == [NumberKind.MOBILE, NumberKind.LANDLINE, NumberKind.ID_CARD]


@pytest.mark.parametrize(
    ("reply", "phone"),
    [("我的电话是 138 1234 5678", "13812345678"), ("０６３１－５２０１２３４", "06315201234"), ("12345", None)],
)
def test_form_phone_is_read_like_any_other(reply: str, phone: str | None) -> None:
    assert parse_phone(reply) == phone


@pytest.mark.parametrize(
    "text",
    [
        ("市民来电：我的电话是一三八 1234 五六七八，身份证110101 19900307 123X，2023年12月1日交了1710元。" * 1500)[
            :100_000
        ],
        "1 " * 50_000,  # digits and separators only: the worst case for the grouping
        "一" * 100_000,
    ],
    ids=["transcripts", "spaced-digits", "numerals"],
)
def test_a_long_text_masks_in_well_under_a_second(text: str) -> None:
    """One linear pass: no pattern backtracks over a long run of digits and separators."""
    started = time.process_time()  # this process's CPU time: other processes on the machine do not count
    masked = mask_personal_data(text)
    elapsed = time.process_time() - started
    assert elapsed < 1.0, f"{elapsed:.2f} s of CPU for {len(text)} characters"
    assert find_personal_numbers(masked) == []  # nothing left unmasked
