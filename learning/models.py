"""Imports every model so that metadata (migrations, tests) sees all tables."""

from learning.accounts.models import AuthSession, OrgUnit, User  # noqa: F401
from learning.api.models import ApiToken  # noqa: F401
from learning.audit.models import AuditEvent  # noqa: F401
from learning.authoring.models import CourseDraft  # noqa: F401
from learning.content.models import Course, CourseRevision, RenderedModule  # noqa: F401
from learning.hr.models import Assignment, ReminderLog  # noqa: F401
from learning.progress.models import (  # noqa: F401
    CompletionRecord,
    Enrollment,
    ModuleProgress,
    RecordChainHead,
    RecordRevocation,
    Statement,
)
from learning.quizzes.models import EssayGrade, QuizAttempt  # noqa: F401
