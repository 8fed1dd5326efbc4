"""A printable transcript as an A4 PDF (pure: no Flask, no database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from learning.progress.certificate_pdf import FONT_DIR, format_date, format_score

LABELS = {
    "kk": {"title": "Оқу транскрипті", "course": "Курс", "status": "Күйі", "completed": "Аяқталды",
           "score": "Балл", "version": "Нұсқа", "valid_until": "Жарамды мерзімі", "code": "Сертификат коды",
           "none": "Аяқталған курстар әлі жоқ.", "generated": "Құрылған күні"},
    "ru": {"title": "Учебный транскрипт", "course": "Курс", "status": "Статус", "completed": "Завершён",
           "score": "Балл", "version": "Версия", "valid_until": "Действителен до", "code": "Код сертификата",
           "none": "Завершённых курсов пока нет.", "generated": "Сформирован"},
    "en": {"title": "Learning transcript", "course": "Course", "status": "Status", "completed": "Completed",
           "score": "Score", "version": "Version", "valid_until": "Valid until", "code": "Certificate code",
           "none": "No completed courses yet.", "generated": "Generated"},
}


@dataclass
class TranscriptRow:
    course_title: str
    status: str  # already translated
    completed_at: date
    score: float | None
    version: str
    expires_at: date | None
    code: str


def render_transcript_pdf(*, learner_name: str, unit: str, language: str, rows: list[TranscriptRow],
                          generated_on: date) -> bytes:
    labels = LABELS.get(language, LABELS["en"])
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_creation_date(datetime.combine(generated_on, time(), tzinfo=timezone.utc))
    pdf.add_font("DejaVuSans", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVuSans", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_title(f"{labels['title']}: {learner_name}")
    pdf.set_lang(language)
    pdf.add_page()
    pdf.set_font("DejaVuSans", "B", 16)
    pdf.cell(0, 10, labels["title"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVuSans", "", 11)
    pdf.cell(0, 7, learner_name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 7, unit, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 7, f"{labels['generated']}: {format_date(generated_on, language)}",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    if not rows:
        pdf.cell(0, 8, labels["none"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return bytes(pdf.output())
    pdf.set_font("DejaVuSans", "", 9)
    with pdf.table(col_widths=(52, 22, 26, 14, 14, 26, 36), text_align="LEFT") as table:
        header = table.row()
        for key in ("course", "status", "completed", "score", "version", "valid_until", "code"):
            header.cell(labels[key])
        for row in rows:
            cells = table.row()
            cells.cell(row.course_title)
            cells.cell(row.status)
            cells.cell(format_date(row.completed_at, language))
            cells.cell(format_score(row.score, language) if row.score is not None else "—")
            cells.cell(row.version)
            cells.cell(format_date(row.expires_at, language) if row.expires_at else "—")
            cells.cell(row.code)
    return bytes(pdf.output())
