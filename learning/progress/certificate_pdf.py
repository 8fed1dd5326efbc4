"""A4 landscape certificate-of-completion PDF (fpdf2, DejaVu Sans, QR code).

Pure module (no Flask, no database): ``render_certificate_pdf`` turns a
``CertificateData`` into PDF bytes. Text is set in the embedded DejaVu Sans
fonts (``learning/static/fonts``), which cover Kazakh and Russian Cyrillic.
The output is deterministic for the same input: the PDF creation date is the
completion date, so rendering twice gives identical bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path

import qrcode
from fpdf import FPDF
from fpdf.enums import Align, WrapMode, XPos, YPos
from qrcode.constants import ERROR_CORRECT_M

__all__ = [
    "DEFAULT_LABELS",
    "FONT_DIR",
    "CertificateData",
    "format_date",
    "format_score",
    "render_certificate_pdf",
]

FONT_DIR = Path(__file__).resolve().parents[1] / "static" / "fonts"
_FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
_FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
_FAMILY = "DejaVuSans"

# Caption keys used on the certificate; ``CertificateData.labels`` may override any.
DEFAULT_LABELS: dict[str, dict[str, str]] = {
    "kk": {
        "title": "Курсты аяқтағаны туралы сертификат",
        "certify": "Сертификат иесі",
        "completed_course": "келесі курс бойынша оқуды сәтті аяқтады",
        "completed_on": "Аяқталған күні",
        "score": "Нәтиже",
        "valid_until": "Жарамдылық мерзімі",
        "certificate_no": "Сертификат нөмірі",
        "verify_at": "Түпнұсқалығын тексеру",
    },
    "ru": {
        "title": "Сертификат о прохождении курса",
        "certify": "Настоящим подтверждается, что",
        "completed_course": "успешно завершил(а) обучение по курсу",
        "completed_on": "Дата завершения",
        "score": "Результат",
        "valid_until": "Действителен до",
        "certificate_no": "Номер сертификата",
        "verify_at": "Проверить подлинность",
    },
    "en": {
        "title": "Certificate of completion",
        "certify": "This is to certify that",
        "completed_course": "has successfully completed the course",
        "completed_on": "Date of completion",
        "score": "Score",
        "valid_until": "Valid until",
        "certificate_no": "Certificate No.",
        "verify_at": "Verify at",
    },
}

_MONTHS = {
    "kk": (
        "қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым",
        "шілде", "тамыз", "қыркүйек", "қазан", "қараша", "желтоқсан",
    ),
    "ru": (
        "января", "февраля", "марта", "апреля", "мая", "июня",
        "июля", "августа", "сентября", "октября", "ноября", "декабря",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip

# Palette (RGB): deep navy for headings, muted gold for ornaments, greys for text.
_NAVY = (23, 52, 89)
_GOLD = (176, 141, 87)
_INK = (40, 40, 40)
_GREY = (105, 105, 105)

_PAGE_W, _PAGE_H = 297.0, 210.0  # A4 landscape, mm


@dataclass
class CertificateData:
    """Everything printed on a certificate.

    ``score`` is a percentage (0-100) or ``None``; ``labels`` overrides any of
    the default captions (keys as in ``DEFAULT_LABELS``).
    """

    learner_name: str
    course_title: str
    language: str  # "kk" | "ru" | "en"
    completed_at: date
    score: float | None
    expires_at: date | None
    organisation: str
    code: str
    verify_url: str
    labels: dict[str, str] | None = None


def format_date(d: date, language: str) -> str:
    """Long date in the certificate language: ``2025 жылғы 12 наурыз``,
    ``12 марта 2025 г.``, ``12 March 2025``."""
    months = _MONTHS.get(language, _MONTHS["en"])
    month = months[d.month - 1]
    if language == "kk":
        return f"{d.year} жылғы {d.day} {month}"
    if language == "ru":
        return f"{d.day} {month} {d.year} г."
    return f"{d.day} {month} {d.year}"


def format_score(score: float, language: str) -> str:
    """Percentage with at most one decimal; decimal comma for kk/ru."""
    text = f"{round(score, 1):.1f}".removesuffix(".0")
    if language in ("kk", "ru"):
        return text.replace(".", ",") + "%"
    return text + "%"


def _labels(cert: CertificateData) -> dict[str, str]:
    labels = dict(DEFAULT_LABELS.get(cert.language, DEFAULT_LABELS["en"]))
    if cert.labels:
        labels.update(cert.labels)
    return labels


def _qr_image(data: str):  # -> PIL.Image.Image
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=2)
    qr.add_data(data)
    qr.make(fit=True)
    return qr.make_image(fill_color="black", back_color="white").get_image().convert("L")


def _fit_font_size(
    pdf: FPDF, text: str, style: str, start: float, minimum: float, width: float
) -> float:
    """Largest font size <= ``start`` at which ``text`` fits on one line of ``width``."""
    size = start
    while size > minimum:
        pdf.set_font(_FAMILY, style, size)
        if pdf.get_string_width(text) <= width:
            return size
        size -= 1
    return minimum


def _centered_block(pdf: FPDF, text: str, *, style: str, start: float, minimum: float,
                    width: float, max_lines: int, line_factor: float = 0.5) -> None:
    """Write ``text`` centred, shrinking the font until it fits in ``max_lines``."""
    size = start
    while True:
        pdf.set_font(_FAMILY, style, size)
        line_h = size * line_factor
        lines = pdf.multi_cell(width, line_h, text, dry_run=True, output="LINES")
        if len(lines) <= max_lines or size <= minimum:
            break
        size -= 1
    pdf.set_x((_PAGE_W - width) / 2)
    pdf.multi_cell(width, line_h, text, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _rule(pdf: FPDF, y: float, half_width: float, thickness: float = 0.4) -> None:
    pdf.set_draw_color(*_GOLD)
    pdf.set_line_width(thickness)
    pdf.line(_PAGE_W / 2 - half_width, y, _PAGE_W / 2 + half_width, y)


def render_certificate_pdf(cert: CertificateData) -> bytes:
    """Render ``cert`` as a one-page A4 landscape PDF and return its bytes."""
    labels = _labels(cert)
    lang = cert.language if cert.language in _MONTHS else "en"

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(20, 20, 20)
    pdf.add_font(_FAMILY, "", _FONT_REGULAR)
    pdf.add_font(_FAMILY, "B", _FONT_BOLD)

    pdf.set_title(f"{labels['title']} — {cert.learner_name} — {cert.course_title}")
    pdf.set_subject(cert.course_title)
    pdf.set_author(cert.organisation)
    pdf.set_creator("Kelisim")
    pdf.set_keywords(cert.code)
    pdf.set_lang(cert.language)
    pdf.set_creation_date(datetime.combine(cert.completed_at, time(0, 0), tzinfo=timezone.utc))

    pdf.add_page()

    # Frame: a heavy navy border and a fine gold inner rule.
    pdf.set_draw_color(*_NAVY)
    pdf.set_line_width(1.6)
    pdf.rect(8, 8, _PAGE_W - 16, _PAGE_H - 16)
    pdf.set_draw_color(*_GOLD)
    pdf.set_line_width(0.5)
    pdf.rect(12, 12, _PAGE_W - 24, _PAGE_H - 24)

    content_w = _PAGE_W - 60

    # Issuing organisation.
    pdf.set_text_color(*_GREY)
    pdf.set_y(22)
    _centered_block(pdf, cert.organisation, style="", start=12, minimum=8,
                    width=content_w, max_lines=2)
    _rule(pdf, pdf.get_y() + 3, 40)

    # Title.
    pdf.set_text_color(*_NAVY)
    pdf.set_y(max(pdf.get_y() + 9, 42))
    _centered_block(pdf, labels["title"], style="B", start=28, minimum=16,
                    width=content_w, max_lines=1)

    # "This is to certify that" + learner name.
    pdf.set_text_color(*_GREY)
    pdf.set_font(_FAMILY, "", 12)
    pdf.ln(5)
    pdf.cell(0, 7, labels["certify"], align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_text_color(*_INK)
    size = _fit_font_size(pdf, cert.learner_name, "B", 30, 14, content_w)
    pdf.set_font(_FAMILY, "B", size)
    pdf.cell(0, 14, cert.learner_name, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _rule(pdf, pdf.get_y() + 1.5, 60, 0.3)

    # "has successfully completed the course" + course title.
    pdf.ln(6)
    pdf.set_text_color(*_GREY)
    pdf.set_font(_FAMILY, "", 12)
    pdf.cell(0, 7, labels["completed_course"], align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_text_color(*_NAVY)
    _centered_block(pdf, cert.course_title, style="B", start=19, minimum=11,
                    width=content_w, max_lines=3)

    # Details row: completion date, score, validity.
    details = [(labels["completed_on"], format_date(cert.completed_at, lang))]
    if cert.score is not None:
        details.append((labels["score"], format_score(cert.score, lang)))
    if cert.expires_at is not None:
        details.append((labels["valid_until"], format_date(cert.expires_at, lang)))
    col_w = 66.0
    x0 = (_PAGE_W - col_w * len(details)) / 2
    row_y = max(pdf.get_y() + 8, 136)
    for i, (caption, value) in enumerate(details):
        x = x0 + i * col_w
        pdf.set_xy(x, row_y)
        pdf.set_text_color(*_GREY)
        pdf.set_font(_FAMILY, "", 9)
        pdf.cell(col_w, 5, caption, align=Align.C)
        pdf.set_xy(x, row_y + 5.5)
        pdf.set_text_color(*_INK)
        pdf.set_font(_FAMILY, "B", 12)
        pdf.cell(col_w, 7, value, align=Align.C)
    for i in range(1, len(details)):
        pdf.set_draw_color(*_GOLD)
        pdf.set_line_width(0.3)
        x = x0 + i * col_w
        pdf.line(x, row_y + 1, x, row_y + 11)

    # Footer: certificate number (left), verification URL + QR code (right).
    qr_size = 30.0
    qr_x, qr_y = _PAGE_W - 20 - qr_size, _PAGE_H - 18 - qr_size
    pdf.image(_qr_image(cert.verify_url), x=qr_x, y=qr_y, w=qr_size, h=qr_size,
              link=cert.verify_url, alt_text=cert.verify_url)

    text_w = 110.0
    text_x = qr_x - 4 - text_w
    pdf.set_xy(text_x, qr_y + qr_size - 14)
    pdf.set_text_color(*_GREY)
    pdf.set_font(_FAMILY, "", 8)
    pdf.cell(text_w, 4.5, labels["verify_at"], align=Align.R)
    pdf.set_xy(text_x, qr_y + qr_size - 9.5)
    pdf.set_text_color(*_NAVY)
    pdf.set_font(_FAMILY, "", 8)
    pdf.multi_cell(text_w, 4, cert.verify_url, align=Align.R, link=cert.verify_url,
                   wrapmode=WrapMode.CHAR)

    pdf.set_xy(22, qr_y + qr_size - 14)
    pdf.set_text_color(*_GREY)
    pdf.set_font(_FAMILY, "", 8)
    pdf.cell(80, 4.5, labels["certificate_no"], align=Align.L)
    pdf.set_xy(22, qr_y + qr_size - 9.5)
    pdf.set_text_color(*_INK)
    pdf.set_font(_FAMILY, "B", 11)
    pdf.cell(80, 6, cert.code, align=Align.L)

    return bytes(pdf.output())
