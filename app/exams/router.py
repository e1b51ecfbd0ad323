from typing import Annotated

from fastapi import Depends, Path, Query, Response, status
from starlette.concurrency import run_in_threadpool

from app.config import SettingsDep
from app.db.engines import SessionDep, WriteTransactionDep
from app.errors import ok_content, problems
from app.exams import bank, reports, service
from app.exams.errors import BankFileInvalid
from app.exams.models import Exam
from app.exams.schemas import (
    AnswerSave,
    AnswerSaved,
    AttemptRead,
    BankImportRead,
    ExamCreate,
    ExamRead,
    ExamReport,
    MyExam,
    PracticeAnswer,
    PracticeQuestion,
    PracticeResult,
    QuestionRead,
    Tag,
)
from app.pagination import Page, PageDep
from app.ratelimit import ClientAddress
from app.routing import ApiRoute, ApiRouter
from app.schemas import RowId
from app.staff import service as staff_service
from app.staff.deps import CurrentExaminee, ExamineeToken, require_role
from app.staff.models import Role, Staff
from app.uploads import Files, Upload, file_body, one_file

TAG = "云考堂"
ADMIN_TAG = "云考堂管理"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

router = ApiRouter(prefix="/api/v1", tags=[TAG], route_class=ApiRoute)
admin_router = ApiRouter(prefix="/api/v1/admin", tags=[ADMIN_TAG], route_class=ApiRoute)

BankKeeper = Annotated[Staff, Depends(require_role(Role.county_admin, Role.commission))]
Examiner = Annotated[
    Staff, Depends(require_role(Role.county_admin, Role.commission, Role.township_officer))
]
Slot = Annotated[int, Path(ge=1, le=1000, description="题号，从 1 开始")]
BANK_FILE = Files(
    field="file",
    max_files=1,
    max_file_bytes=bank.MAX_BANK_BYTES,
    description=(
        "题库文件：CSV（UTF-8 或 GBK）或 XLSX，表头 `kind,tag,text,options,answer,explanation`"
    ),
)


# --- staff: bank and papers -----------------------------------------------------------------


@admin_router.post(
    "/exam-questions/import",
    summary="导入题库（CSV 或 XLSX）：整份文件没有问题才导入，已有的题跳过",
    description=(
        "表头 `kind,tag,text,options,answer,explanation`：题型 single、multiple、true_false；"
        "标签和选项用 `|` 分隔；答案写选项字母（`A`、`AC`），判断题写 `T` 或 `F`（选项留空）。"
        "有问题的行按行号（表头是第 1 行）列在 `rows` 中，不引用行的内容。"
    ),
    response_model=BankImportRead,
    responses=problems(401, 403, 422),
    openapi_extra=file_body(BANK_FILE),
)
def import_questions(
    actor: BankKeeper,
    upload: Annotated[Upload, Depends(one_file(BANK_FILE, missing=BankFileInvalid))],
    session: SessionDep,
) -> BankImportRead:
    return service.import_questions(session, data=upload.data, actor=actor)


@admin_router.get(
    "/exam-questions",
    summary="题库中的题目（含答案和解析），可按标签筛选",
    response_model=Page[QuestionRead],
    responses=problems(401, 403, 422),
)
def list_questions(
    staff: Examiner,
    session: SessionDep,
    page: PageDep,
    tag: Annotated[Tag | None, Query(description="只看这个标签")] = None,
) -> Page[QuestionRead]:
    rows, total = service.list_questions(session, tag=tag, page=page)
    return Page[QuestionRead](
        items=[QuestionRead.model_validate(service.question_read(q)) for q in rows],
        total=total,
        page=page.page,
        size=page.size,
    )


@admin_router.post(
    "/exams",
    summary="新建试卷（草稿）：抽题规则、分值、时限、开放时间、次数、及格分、参考范围、何时看解析",
    response_model=ExamRead,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 422),
)
def create_exam(data: ExamCreate, actor: Examiner, session: SessionDep) -> ExamRead:
    return service.exam_read(service.create_exam(session, data=data, actor=actor))


@admin_router.get(
    "/exams",
    summary="本辖区的试卷，及参考范围包含本辖区的试卷（新的在前）",
    response_model=Page[ExamRead],
    responses=problems(401, 403, 422),
)
def list_exams(staff: Examiner, session: SessionDep, page: PageDep) -> Page[ExamRead]:
    rows, total = service.list_exams(session, viewer=staff, page=page)
    return Page[ExamRead](
        items=[service.exam_read(e) for e in rows], total=total, page=page.page, size=page.size
    )


@admin_router.get(
    "/exams/{exam_id}",
    summary="查看一份试卷",
    response_model=ExamRead,
    responses=problems(401, 403, 404, 422),
)
def read_exam(exam_id: RowId, staff: Examiner, session: SessionDep) -> ExamRead:
    return service.exam_read(service.get_exam(session, exam_id, viewer=staff))


@admin_router.post(
    "/exams/{exam_id}/open",
    summary="开放考试：参考范围内的干部在开放时间内可以答题",
    response_model=ExamRead,
    responses=problems(401, 403, 404, 422),
)
def open_exam(exam_id: RowId, actor: Examiner, session: SessionDep) -> ExamRead:
    exam: Exam = service.open_exam(session, exam_id, actor=actor)
    return service.exam_read(exam)


@admin_router.get(
    "/exams/{exam_id}/report",
    summary="考试情况：各乡镇、村的参考率、平均分、及格率，参考人员，各题答对比例",
    response_model=ExamReport,
    responses=problems(401, 403, 404, 422),
)
def read_exam_report(exam_id: RowId, staff: Examiner, session: SessionDep) -> ExamReport:
    return reports.exam_report(session, exam_id, viewer=staff)


@admin_router.get(
    "/exams/{exam_id}/report.xlsx",
    summary="考试情况导出为 Excel 表格（XLSX）：乡镇村、参考人员、题目三张表",
    response_class=Response,
    responses={**ok_content(XLSX, "XLSX 文件"), **problems(401, 403, 404, 422)},
)
def read_exam_report_xlsx(exam_id: RowId, staff: Examiner, session: SessionDep) -> Response:
    body = reports.to_xlsx(reports.exam_report(session, exam_id, viewer=staff))
    headers = {"Content-Disposition": f'attachment; filename="exam-{exam_id}-report.xlsx"'}
    return Response(body, media_type=XLSX, headers=headers)


# --- cadres: attempts -----------------------------------------------------------------------


@router.get(
    "/exams",
    summary="我可以参加的考试，及我的答题次数、未交卷的答题和成绩（干部账号）",
    response_model=list[MyExam],
    responses=problems(401, 403),
)
def list_my_exams(cadre: CurrentExaminee, session: SessionDep) -> list[MyExam]:
    return service.my_exams(session, cadre=cadre)


@router.post(
    "/exams/{exam_id}/attempts",
    summary="开始答题（201），或接着答未交卷的那一次（200，换手机也一样）",
    description="题目在服务器上抽好、顺序固定；回答中没有正确答案；`deadline` 是服务器的截止时间。",
    response_model=AttemptRead,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "接着答未交卷的答题"}, **problems(401, 403, 404, 409, 422)},
)
def create_attempt(
    exam_id: RowId, cadre: CurrentExaminee, response: Response, session: SessionDep
) -> AttemptRead:
    attempt, created = service.start_attempt(session, exam_id, cadre=cadre)
    if not created:
        response.status_code = status.HTTP_200_OK
    return attempt


@router.get(
    "/exam-attempts/{attempt_id}",
    summary="一次答题：题目、已保存的答案、截止时间；可查看时附成绩和解析",
    response_model=AttemptRead,
    responses=problems(401, 403, 404, 422),
)
def read_attempt(attempt_id: RowId, cadre: CurrentExaminee, session: SessionDep) -> AttemptRead:
    return service.read_attempt(session, attempt_id, cadre=cadre)


@router.put(
    "/exam-attempts/{attempt_id}/answers/{slot}",
    summary="保存一道题的答案（截止前；重复保存结果相同），回答 2xx 即已存入数据库",
    response_model=AnswerSaved,
    responses=problems(401, 403, 404, 409, 422),
)
async def save_answer(
    attempt_id: RowId,
    slot: Slot,
    data: AnswerSave,
    token: ExamineeToken,
    settings: SettingsDep,
    write: WriteTransactionDep,
) -> AnswerSaved:
    # The hottest write of an exam: sign-in check and save in one transaction of one blocking
    # call (app.db.engines.write_transaction says why).
    def work() -> AnswerSaved:
        with write() as session:
            cadre = staff_service.examinee_from_token(session, token=token, settings=settings)
            return service.save_answer(session, attempt_id, slot, answer=data.answer, cadre=cadre)

    return await run_in_threadpool(work)


@router.post(
    "/exam-attempts/{attempt_id}/submit",
    summary="交卷（重复交卷结果相同）；按试卷规定显示成绩和解析",
    response_model=AttemptRead,
    responses=problems(401, 403, 404, 422),
)
def submit_attempt(attempt_id: RowId, cadre: CurrentExaminee, session: SessionDep) -> AttemptRead:
    return service.submit_attempt(session, attempt_id, cadre=cadre)


# --- practice: anyone, no account -----------------------------------------------------------


@router.get(
    "/exam-practice/questions",
    summary="练习：从题库随机抽题（不含答案），不用登录",
    response_model=list[PracticeQuestion],
    responses=problems(422),
)
def list_practice_questions(
    session: SessionDep,
    tag: Annotated[Tag | None, Query(description="只练这个标签的题")] = None,
    count: Annotated[int, Query(ge=1, le=service.PRACTICE_MAX_QUESTIONS)] = 10,
) -> list[PracticeQuestion]:
    return service.practice_questions(session, tag=tag, count=count)


@router.post(
    "/exam-practice/answers",
    summary="练习：交一道题的答案，回答对错、正确答案和解析；只记各题的匿名次数",
    response_model=PracticeResult,
    responses=problems(404, 422, 429),
)
def check_practice_answer(
    data: PracticeAnswer, client: ClientAddress, session: SessionDep
) -> PracticeResult:
    return service.check_practice_answer(session, data=data, client=client)
