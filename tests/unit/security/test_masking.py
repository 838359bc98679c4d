import pytest

from kefu.security.masking import mask_address, mask_phone, mask_text


def test_mask_phone():
    assert mask_phone("13800138001") == "138****8001"
    assert mask_phone(" 13900139002 ") == "139****9002"
    assert mask_phone("1234") == "****"
    assert mask_phone("") == "****"


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("北京市朝阳区建国路88号", "北京市朝阳区****"),
        ("上海市浦东新区世纪大道100号", "上海市浦东新区****"),
        ("广州市天河区体育西路1号", "广州市天河区****"),
        ("杭州市西湖区文三路50号", "杭州市西湖区****"),
        ("广东省广州市天河区体育西路1号", "广东省广州市天河区****"),
        ("浙江省杭州市余杭区良渚街道", "浙江省杭州市余杭区****"),
        ("新疆维吾尔自治区乌鲁木齐市天山区解放北路1号", "新疆维吾尔自治区乌鲁木齐市天山区****"),
        ("恩施土家族苗族自治州恩施市舞阳大道", "恩施土家族苗族自治州恩施市****"),
        ("江苏省昆山市玉山镇1号", "江苏省昆山市****"),
        ("北京市建国路88号", "北京市****"),
        ("建国路88号", "****"),
        ("", ""),
    ],
)
def test_mask_address_keeps_divisions_only(address, masked):
    assert mask_address(address) == masked


def test_mask_address_never_shows_street_or_number():
    masked = mask_address("成都市锦江区春熙路20号")
    assert "春熙路" not in masked and "20" not in masked


def test_mask_text_masks_mobile_numbers_in_any_form():
    text = "手机13800138001，备用+86 139-0013-9002，全角１３７００１３７００３。"
    assert mask_text(text) == "手机138****8001，备用+86 139****9002，全角１３７****７００３。"


def test_mask_text_leaves_other_numbers():
    text = "订单LT2026110101，运单SF1234567890，金额1299.00元，卡号6222021234567890123，电话010-12345678"
    assert mask_text(text) == text


def test_mask_text_masks_tokens_and_emails():
    jwt_like = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MTAwMSJ9.c2lnbmF0dXJl"
    text = f"token是{jwt_like}，邮箱zhang.san@example.com谢谢，Authorization: Bearer abcdefghijklmnop123456"
    masked = mask_text(text)
    assert jwt_like not in masked and "eyJ****" in masked
    assert "zhang.san" not in masked and "z***@example.com谢谢" in masked
    assert "abcdefghijklmnop123456" not in masked and "Bearer ****" in masked


def test_mask_text_without_personal_data_is_unchanged():
    assert mask_text("我想退货，怎么操作？") == "我想退货，怎么操作？"
