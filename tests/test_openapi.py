import json
import re
from pathlib import Path

from app.main import openapi_schema

ROOT = Path(__file__).resolve().parent.parent
CHINESE = re.compile(r"[\u4e00-\u9fff]")
# The errors that are not only problems: a villager who scans an unknown code gets a page. (The
# H5 app's pages, app.web, are not API operations: not in the schema.)
PAGE = ["text/html"]

HTML_ERRORS = {
    ("/i/{code}", "404"): PAGE,
}


def test_openapi_json_is_what_the_app_serves() -> None:
    committed = json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))
    assert committed == openapi_schema(), "openapi.json is stale: run scripts/update_openapi"


def test_every_operation_is_documented_in_chinese_with_typed_errors() -> None:
    schema = openapi_schema()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            assert CHINESE.search(operation.get("summary", "")), f"{where}: no Chinese summary"
            assert operation.get("tags"), f"{where}: no tag"
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    content = response["content"]
                    if (path, status) in HTML_ERRORS:
                        assert sorted(content) == HTML_ERRORS[(path, status)], where
                        continue
                    assert list(content) == ["application/problem+json"], where
                    assert content["application/problem+json"]["schema"] == {
                        "$ref": "#/components/schemas/Problem"
                    }, where
            if any("OAuth2PasswordBearer" in s for s in operation.get("security", [])):
                assert "401" in operation["responses"], f"{where}: 401 not documented"
