"""Every domain's ORM models, imported once so that `Base.metadata` knows every table."""

from app.articles.models import Article, ArticleImage, ArticleReads, ArticleVersion, Case
from app.audit.models import AuditEntry
from app.contacts.models import SupervisionContact
from app.exams.models import (
    Exam,
    ExamAttempt,
    ExamAttemptSlot,
    ExamDrawRule,
    ExamQuestion,
    ExamQuestionTag,
    PracticeTally,
)
from app.forum.models import Question, QuestionExtension
from app.inquiries.models import (
    InquiryEvent,
    InquiryItem,
    InquiryMeeting,
    InquiryNumber,
    InquiryPhoto,
    InquiryVote,
)
from app.onboarding.models import Poster, PosterScan
from app.policies.models import Policy, PolicyVersion
from app.regions.models import Region
from app.screening.models import (
    Deceased,
    Flag,
    ItemStandard,
    Objection,
    PublicEmployee,
    ReferenceList,
    RosterEntry,
    ScreeningRun,
)
from app.staff.models import RefreshToken, Staff
from app.subsidies.models import Payout, PayoutVersion, Person
from app.surveys.models import (
    Survey,
    SurveyAnswer,
    SurveyOption,
    SurveyQuestion,
    SurveyResponse,
    SurveyTarget,
)
from app.sync.models import RejectedRecord, SyncCursor, SyncLease, SyncRun
from app.tips.models import Tip, TipAttachment, TipKeyring, TipMessage

__all__ = [
    "Article",
    "ArticleImage",
    "ArticleReads",
    "ArticleVersion",
    "AuditEntry",
    "Case",
    "Deceased",
    "Exam",
    "ExamAttempt",
    "ExamAttemptSlot",
    "ExamDrawRule",
    "ExamQuestion",
    "ExamQuestionTag",
    "Flag",
    "InquiryEvent",
    "InquiryItem",
    "InquiryMeeting",
    "InquiryNumber",
    "InquiryPhoto",
    "InquiryVote",
    "ItemStandard",
    "Objection",
    "Payout",
    "PayoutVersion",
    "Person",
    "Policy",
    "PolicyVersion",
    "Poster",
    "PosterScan",
    "PracticeTally",
    "PublicEmployee",
    "Question",
    "QuestionExtension",
    "ReferenceList",
    "RefreshToken",
    "Region",
    "RejectedRecord",
    "RosterEntry",
    "ScreeningRun",
    "Staff",
    "SupervisionContact",
    "Survey",
    "SurveyAnswer",
    "SurveyOption",
    "SurveyQuestion",
    "SurveyResponse",
    "SurveyTarget",
    "SyncCursor",
    "SyncLease",
    "SyncRun",
    "Tip",
    "TipAttachment",
    "TipKeyring",
    "TipMessage",
]

# Tables that migrations make by hand and no model describes: full-text indexes (FTS5 on SQLite
# with its shadow tables, a tsvector table on PostgreSQL). Autogenerate leaves them alone.
UNMANAGED_TABLE_PREFIXES = ("search_fts",)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's `include_name` hook: skip the unmanaged tables."""
    return not (type_ == "table" and name is not None and name.startswith(UNMANAGED_TABLE_PREFIXES))
