import csv
import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from app.staff.models import Role
from app.surveys.models import SurveyState
from app.surveys.router import XLSX
from tests.asserts import assert_problem
from tests.factories import COUNTY, FOLOU, HUANGLIU, SANGUANZHAI, XIXING, auth_headers, make_staff
from tests.surveys.factories import answers_for, make_survey, survey_data

ADMIN = "/api/v1/admin/surveys"
PUBLIC = "/api/v1/surveys"


def test_staff_build_open_close_and_publish_a_survey(client: TestClient, session: Session) -> None:
    headers = auth_headers(make_staff(session, role=Role.commission))
    created = client.post(ADMIN, json=survey_data(), headers=headers)
    assert created.status_code == 201, created.text
    survey = created.json()
    assert survey["state"] == "draft" and [q["kind"] for q in survey["questions"]] == [
        "single",
        "rating",
        "multiple",
        "text",
    ]
    assert client.get(f"{PUBLIC}/{survey['id']}").status_code == 404
    for step, state in (("open", "open"), ("close", "closed"), ("publish", "published")):
        response = client.post(f"{ADMIN}/{survey['id']}/{step}", headers=headers)
        assert response.status_code == 200 and response.json()["state"] == state
    edited = client.put(f"{ADMIN}/{survey['id']}", json=survey_data(), headers=headers)
    assert_problem(edited, 422, "survey_state_invalid")


def test_a_township_officer_only_for_their_own_township(
    client: TestClient, session: Session
) -> None:
    headers = auth_headers(make_staff(session, role=Role.township_officer, region_code=FOLOU))
    ok = client.post(ADMIN, json=survey_data(region_code=FOLOU), headers=headers)
    assert ok.status_code == 201
    assert_problem(
        client.post(ADMIN, json=survey_data(region_code=XIXING), headers=headers), 403, "forbidden"
    )
    assert_problem(
        client.post(ADMIN, json=survey_data(region_code=COUNTY), headers=headers), 403, "forbidden"
    )
    other = make_survey(session, make_staff(session), region_code=XIXING)
    assert_problem(client.get(f"{ADMIN}/{other.id}", headers=headers), 404, "survey_not_found")
    listed = client.get(ADMIN, headers=headers).json()
    assert [s["id"] for s in listed["items"]] == [ok.json()["id"]]
    village_clerk = auth_headers(
        make_staff(session, role=Role.village_clerk, region_code=SANGUANZHAI)
    )
    assert_problem(client.get(ADMIN, headers=village_clerk), 403, "forbidden")


def test_villagers_see_the_open_surveys_of_their_village(
    client: TestClient, session: Session
) -> None:
    admin = make_staff(session)
    county = make_survey(session, admin)
    folou = make_survey(session, admin, region_code=FOLOU)
    make_survey(session, admin, region_code=XIXING)
    make_survey(session, admin, state=SurveyState.draft)
    response = client.get(PUBLIC, params={"village_code": SANGUANZHAI})
    assert response.status_code == 200
    assert {s["id"] for s in response.json()["items"]} == {county.id, folou.id}
    assert response.json()["total"] == 2
    assert len(client.get(PUBLIC, params={"village_code": HUANGLIU}).json()["items"]) == 2


def test_a_phone_revalidates_a_survey_without_downloading_it_again(
    client: TestClient, session: Session
) -> None:
    survey = make_survey(session, make_staff(session))
    first = client.get(f"{PUBLIC}/{survey.id}")
    assert first.headers["cache-control"] == "public, max-age=300"
    again = client.get(f"{PUBLIC}/{survey.id}", headers={"If-None-Match": first.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    body = {"device_token": "phone-0123456789abcdef", "answers": answers_for(survey)}
    answered = client.post(f"{PUBLIC}/{survey.id}/responses", json=body)
    assert answered.status_code == 201 and "cache-control" not in answered.headers


def test_one_response_per_device(client: TestClient, session: Session) -> None:
    survey = make_survey(session, make_staff(session))
    body = {"device_token": "phone-0123456789abcdef", "answers": answers_for(survey)}
    first = client.post(f"{PUBLIC}/{survey.id}/responses", json=body)
    assert first.status_code == 201 and first.json()["message"] == "感谢您参加测评！"
    again = assert_problem(
        client.post(f"{PUBLIC}/{survey.id}/responses", json=body), 409, "survey_already_answered"
    )
    assert "只能提交一次" in again["detail"]


def test_a_missing_answer_names_the_question(client: TestClient, session: Session) -> None:
    survey = make_survey(session, make_staff(session))
    body = {"device_token": "phone-0123456789abcdef", "answers": answers_for(survey)[:1]}
    problem = assert_problem(
        client.post(f"{PUBLIC}/{survey.id}/responses", json=body), 422, "survey_answer_invalid"
    )
    assert problem["detail"] == "第 2 题「请给各单位打分」必须对每个测评对象打分"
    assert problem["question_id"] == survey.questions[1].id


def test_a_closed_survey_refuses_responses(client: TestClient, session: Session) -> None:
    survey = make_survey(session, make_staff(session), state=SurveyState.closed)
    body = {"device_token": "phone-0123456789abcdef", "answers": answers_for(survey)}
    assert_problem(
        client.post(f"{PUBLIC}/{survey.id}/responses", json=body), 422, "survey_not_open"
    )


def test_published_results_agree_and_hide_text_answers(
    client: TestClient, session: Session
) -> None:
    admin = make_staff(session, role=Role.commission)
    survey = make_survey(session, admin)
    for n, (choice, ratings) in enumerate([(0, (5, 4)), (1, (2, 4)), (0, (4, 1))]):
        body = {
            "device_token": f"phone-{n}-0123456789abcdef",
            "answers": answers_for(survey, choice=choice, ratings=ratings, text=f"路灯坏了{n}"),
        }
        assert client.post(f"{PUBLIC}/{survey.id}/responses", json=body).status_code == 201
    assert_problem(client.get(f"{PUBLIC}/{survey.id}/results"), 422, "survey_results_not_published")
    headers = auth_headers(admin)
    for step in ("close", "publish"):
        client.post(f"{ADMIN}/{survey.id}/{step}", headers=headers)

    results = client.get(f"{PUBLIC}/{survey.id}/results")
    assert results.status_code == 200
    body = results.json()
    assert body["response_count"] == 3
    assert [o["count"] for o in body["questions"][0]["options"]] == [2, 1]
    bureau, cadres = body["questions"][1]["ratings"]
    assert bureau["mean"] == 3.67 and bureau["satisfaction_rate"] == 0.6667
    assert cadres["distribution"] == {"1": 1, "2": 0, "3": 0, "4": 2, "5": 0}
    assert "路灯坏了" not in results.text

    texts = client.get(f"{ADMIN}/{survey.id}/text-answers", headers=headers)
    assert texts.status_code == 200
    assert [t["text"] for t in texts.json()["items"]] == ["路灯坏了0", "路灯坏了1", "路灯坏了2"]
    assert_problem(client.get(f"{ADMIN}/{survey.id}/text-answers"), 401, "authentication_required")


def test_results_export_as_csv_for_excel(client: TestClient, session: Session) -> None:
    admin = make_staff(session, role=Role.commission)
    survey = make_survey(session, admin)
    body = {
        "device_token": "phone-0123456789abcdef",
        "answers": answers_for(survey, ratings=(5, 3)),
    }
    client.post(f"{PUBLIC}/{survey.id}/responses", json=body)
    response = client.get(f"{ADMIN}/{survey.id}/results.csv", headers=auth_headers(admin))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["测评", "2026 年党风廉政建设社会评价"]
    assert rows[1] == ["参与人数", "1"]
    assert ["1", "您知道低保怎么申请吗？", "知道", "1"] in rows
    assert [
        "2",
        "请给各单位打分",
        "县民政局",
        "1",
        "5.00",
        "100.0%",
        "0",
        "0",
        "0",
        "0",
        "1",
    ] in rows
    assert [
        "2",
        "请给各单位打分",
        "佛楼镇干部",
        "1",
        "3.00",
        "0.0%",
        "0",
        "0",
        "1",
        "0",
        "0",
    ] in rows


def test_results_export_as_xlsx_with_numbers_as_numbers(
    client: TestClient, session: Session
) -> None:
    admin = make_staff(session, role=Role.commission)
    survey = make_survey(session, admin, title='=HYPERLINK("http://x") 满意度')
    for n, ratings in enumerate([(5, 3), (4, 1)]):
        body = {
            "device_token": f"phone-{n}-0123456789abcdef",
            "answers": answers_for(survey, ratings=ratings),
        }
        client.post(f"{PUBLIC}/{survey.id}/responses", json=body)
    response = client.get(f"{ADMIN}/{survey.id}/results.xlsx", headers=auth_headers(admin))
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    assert "results.xlsx" in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    title = sheet["B1"]
    assert (title.value, title.data_type) == ('=HYPERLINK("http://x") 满意度', "s")  # no formula
    assert rows[1] == ["参与人数", 2] + [None] * 9
    bureau = next(r for r in rows if r[2] == "县民政局")
    assert bureau[:6] == [2, "请给各单位打分", "县民政局", 2, 4.5, 1.0]
    assert bureau[6:] == [0, 0, 0, 1, 1]
    rate_cell = sheet.cell(row=rows.index(bureau) + 1, column=6)
    assert rate_cell.number_format == "0.0%"


def test_xlsx_export_writes_control_characters_stored_before_they_were_refused(
    client: TestClient, session: Session
) -> None:
    admin = make_staff(session, role=Role.commission)
    survey = make_survey(session, admin)
    # Old data: surveys made before control characters were refused hold them.
    survey.title = "评价\x01结果"
    survey.questions[0].options[0].text = "知道\x0b\x1f"
    session.flush()
    client.post(
        f"{PUBLIC}/{survey.id}/responses",
        json={"device_token": "phone-0123456789abcdef", "answers": answers_for(survey)},
    )
    response = client.get(f"{ADMIN}/{survey.id}/results.xlsx", headers=auth_headers(admin))
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "评价\ufffd结果" in values
    assert "知道\ufffd\ufffd" in values


def test_a_new_survey_with_control_characters_is_refused(
    client: TestClient, session: Session
) -> None:
    admin = make_staff(session, role=Role.commission)
    data = survey_data(title="评价\x01结果")
    response = client.post(ADMIN, json=data, headers=auth_headers(admin))
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"] == [{"field": "title", "message": "不能含控制字符或换行（U+0001）"}]
