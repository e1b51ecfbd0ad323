"""An exam's report for staff: per township and village, who took it, completion, mean score and
pass rate (of the attempt that counts, by the paper's grade rule); per question the share
answered right, so that a badly written question shows. JSON, and the same as XLSX."""

import io
from collections import defaultdict

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.exams import service
from app.exams.models import AttemptState, Exam, ExamAttempt, ExamAttemptSlot, ExamQuestion
from app.exams.schemas import (
    ExamineeRow,
    ExamReport,
    GroupFigures,
    QuestionFigures,
    TownshipReport,
)
from app.regions import service as regions_service
from app.spreadsheets import append_row
from app.staff import service as staff_service
from app.staff.models import Staff


def _figures(code: str, name: str, cadres: list[ExamineeRow]) -> GroupFigures:
    took = [c for c in cadres if c.score is not None]
    passed = sum(1 for c in took if c.passed)
    return GroupFigures(
        code=code,
        name=name,
        cadres=len(cadres),
        took=len(took),
        completion_rate=round(len(took) / len(cadres), 4) if cadres else None,
        mean_score=round(sum(c.score or 0 for c in took) / len(took), 2) if took else None,
        pass_rate=round(passed / len(took), 4) if took else None,
    )


def exam_report(session: Session, exam_id: int, *, viewer: Staff) -> ExamReport:
    exam = service.get_exam(session, exam_id, viewer=viewer)
    service.finalise_overdue(session)
    scope = (
        viewer.region_code
        if regions_service.contains(exam.region_code, viewer.region_code)
        else exam.region_code
    )
    cadres = staff_service.list_cadres(session, region_code=scope)
    attempts: dict[int, list[ExamAttempt]] = defaultdict(list)
    for attempt in session.scalars(
        select(ExamAttempt).where(ExamAttempt.exam_id == exam.id).order_by(ExamAttempt.id)
    ):
        attempts[attempt.staff_id].append(attempt)
    names = regions_service.full_names(session, sorted({c.region_code for c in cadres}))
    county_prefix = len(regions_service.county(session).name)
    examinees = []
    for cadre in cadres:
        counted = service.graded(attempts.get(cadre.id, []), exam.grade)
        examinees.append(
            ExamineeRow(
                username=cadre.username,
                display_name=cadre.display_name,
                region_code=cadre.region_code,
                region_name=names.get(cadre.region_code, cadre.region_code)[county_prefix:],
                attempts=len(attempts.get(cadre.id, [])),
                score=counted.score if counted else None,
                passed=counted.passed if counted else None,
            )
        )
    return ExamReport(
        exam_id=exam.id,
        title=exam.title,
        max_score=service.max_score(exam),
        pass_mark=exam.pass_mark,
        grade=exam.grade,
        total=_figures(scope, "合计", examinees),
        townships=_townships(session, examinees),
        examinees=examinees,
        questions=_questions(session, exam, {c.id for c in cadres}),
    )


def _townships(session: Session, examinees: list[ExamineeRow]) -> list[TownshipReport]:
    by_township: dict[str, list[ExamineeRow]] = defaultdict(list)
    for row in examinees:
        by_township[regions_service.township_of(row.region_code)].append(row)
    names = regions_service.full_names(session, sorted(by_township))
    county_prefix = len(regions_service.county(session).name)
    townships = []
    for code in sorted(by_township):
        rows = by_township[code]
        by_village: dict[str, list[ExamineeRow]] = defaultdict(list)
        for row in rows:
            by_village[row.region_code].append(row)
        township_name = names.get(code, code)[county_prefix:]
        villages = [
            _figures(
                village,
                "乡镇干部"
                if village == code
                else by_village[village][0].region_name[len(township_name) :],
                by_village[village],
            )
            for village in sorted(by_village)
        ]
        figures = _figures(code, township_name, rows)
        townships.append(TownshipReport(**figures.model_dump(), villages=villages))
    return townships


def _questions(session: Session, exam: Exam, cadre_ids: set[int]) -> list[QuestionFigures]:
    rows = session.execute(
        select(
            ExamAttemptSlot.question_id,
            func.count(),
            func.sum(case((ExamAttemptSlot.correct.is_(True), 1), else_=0)),
        )
        .join(ExamAttempt, ExamAttempt.id == ExamAttemptSlot.attempt_id)
        .where(
            ExamAttempt.exam_id == exam.id,
            ExamAttempt.state == AttemptState.finished,
            ExamAttempt.staff_id.in_(cadre_ids),
        )
        .group_by(ExamAttemptSlot.question_id)
    ).all()
    questions = {
        q.id: q
        for q in session.scalars(
            select(ExamQuestion).where(ExamQuestion.id.in_([r[0] for r in rows]))
        )
    }
    figures = [
        QuestionFigures(
            question_id=question_id,
            text=questions[question_id].text,
            tags=[t.tag for t in questions[question_id].tags],
            answered=answered,
            right=int(right or 0),
            share_right=round(int(right or 0) / answered, 4) if answered else None,
        )
        for question_id, answered, right in rows
    ]
    return sorted(
        figures, key=lambda f: (f.share_right if f.share_right is not None else 2, f.question_id)
    )


# --- XLSX ------------------------------------------------------------------------------------

_GROUP_HEADER = [
    "乡镇（街道）",
    "村（社区）",
    "区划代码",
    "干部数",
    "参考人数",
    "参考率",
    "平均分",
    "及格率",
]
_EXAMINEE_HEADER = ["姓名", "用户名", "乡镇村", "区划代码", "答题次数", "成绩", "是否及格"]
_QUESTION_HEADER = ["题目编号", "题目", "标签", "作答次数", "答对次数", "答对比例"]


def _group_row(township: str, village: str, f: GroupFigures) -> list[object]:
    return [
        township,
        village,
        f.code,
        f.cadres,
        f.took,
        f.completion_rate,
        f.mean_score,
        f.pass_rate,
    ]


def to_xlsx(report: ExamReport) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 (a new workbook has one sheet)
    sheet.title = "乡镇村"
    append_row(sheet, ["考试", report.title])
    append_row(sheet, ["满分", report.max_score, "及格分", report.pass_mark])
    append_row(sheet, [])
    append_row(sheet, _GROUP_HEADER)
    header_row = sheet.max_row
    rows = [_group_row("合计", "", report.total)]
    for township in report.townships:
        rows.append(_group_row(township.name, "（全乡镇）", township))
        rows.extend(_group_row(township.name, v.name, v) for v in township.villages)
    for row in rows:
        cells = append_row(sheet, row)
        for column in (5, 7):
            cells[column].number_format = "0.0%"
        cells[6].number_format = "0.00"
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABC", (16, 16, 14), strict=True):
        sheet.column_dimensions[letter].width = width

    people = book.create_sheet("参考人员")
    append_row(people, _EXAMINEE_HEADER)
    for e in report.examinees:
        passed = None if e.passed is None else ("及格" if e.passed else "不及格")
        append_row(
            people,
            [e.display_name, e.username, e.region_name, e.region_code, e.attempts, e.score, passed],
        )

    questions = book.create_sheet("题目")
    append_row(questions, _QUESTION_HEADER)
    for q in report.questions:
        cells = append_row(
            questions,
            [q.question_id, q.text, "、".join(q.tags), q.answered, q.right, q.share_right],
        )
        cells[5].number_format = "0.0%"
    questions.column_dimensions["B"].width = 60
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
