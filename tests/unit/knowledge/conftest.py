from pathlib import Path

import pytest

FAQ = """
version: 1
faq:
  - id: shipping_fee
    question: 运费怎么算
    answer: 订单实付满99元包邮，不满99元收取运费8元。
    tags: [配送]
    alternatives: [邮费多少钱, 多少钱包邮, 快递费怎么收]
  - id: invoice
    question: 怎么开发票
    answer: 支持开具电子发票，签收后30天内在订单详情页申请。
    tags: [发票]
    alternatives: [能开发票吗, 发票在哪里申请]
"""

DOC = """# 商品保养指南

## 羽绒服

羽绒服建议干洗或手洗，不要机洗甩干。晾晒时平铺在通风处，避免暴晒。

## 保温杯

保温杯首次使用前用开水烫洗。不要放入洗碗机。
"""


@pytest.fixture
def knowledge_dir(tmp_path: Path) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "faq.yml").write_text(FAQ, encoding="utf-8")
    (tmp_path / "docs" / "product_care.md").write_text(DOC, encoding="utf-8")
    return tmp_path
