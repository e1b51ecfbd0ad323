"""The 11 categories of 惠民惠农 policies (SPEC.md), by code."""

CATEGORIES: dict[str, str] = {
    "01": "社会救助",
    "02": "农业生产",
    "03": "林业生态",
    "04": "医疗保障",
    "05": "养老保障",
    "06": "残疾人保障",
    "07": "教育资助",
    "08": "住房保障",
    "09": "就业创业",
    "10": "优抚安置",
    "11": "计划生育",
}


def category_name(code: str) -> str:
    return CATEGORIES.get(code, code)
