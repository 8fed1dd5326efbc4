"""Tests for learning.progress.certificate_pdf (A4 certificate rendering)."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

import pytest

from learning.progress.certificate_pdf import (
    DEFAULT_LABELS,
    FONT_DIR,
    CertificateData,
    format_date,
    format_score,
    render_certificate_pdf,
)

pypdf = pytest.importorskip("pypdf")

NAME = "Әлия Құрманғазықызы"
RU_TITLE = "Противодействие коррупции на государственной службе"
# Contains every Kazakh-specific letter: ә ғ қ ң ө ұ ү һ і
KK_TITLE = (
    "Шаһар әкімдігінің қызметкерлеріне арналған өңірлік оқу бағдарламасы: "
    "үздік тәжірибе және ұйымдастыру"
)
KAZAKH_LETTERS = "әғқңөұүһі"
ORG = "Қазақстан Республикасы Мемлекеттік қызмет істері агенттігі"


def _cert(**changes: object) -> CertificateData:
    cert = CertificateData(
        learner_name=NAME,
        course_title=RU_TITLE,
        language="ru",
        completed_at=date(2025, 3, 12),
        score=87.5,
        expires_at=date(2027, 3, 12),
        organisation=ORG,
        code="KLS-2025-000123",
        verify_url="https://kelisim.example.kz/verify/KLS-2025-000123",
    )
    return replace(cert, **changes)


def _reader(data: bytes):
    return pypdf.PdfReader(io.BytesIO(data))


def _text(data: bytes) -> str:
    reader = _reader(data)
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_fonts_and_licence_are_vendored() -> None:
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVu-LICENSE.txt"):
        assert (FONT_DIR / name).is_file(), name
    assert "Bitstream" in (FONT_DIR / "DejaVu-LICENSE.txt").read_text(encoding="utf-8")


def test_pdf_is_a4_landscape_single_page() -> None:
    data = render_certificate_pdf(_cert())
    assert data.startswith(b"%PDF-")
    page = _reader(data).pages[0]
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    assert (round(width), round(height)) == (842, 595)  # A4 in points, landscape


def test_kazakh_name_and_russian_title_extract_exactly() -> None:
    text = _text(render_certificate_pdf(_cert()))
    lines = text.splitlines()
    assert NAME in lines
    assert RU_TITLE in lines
    assert ORG in lines
    assert "KLS-2025-000123" in text
    assert "https://kelisim.example.kz/verify/KLS-2025-000123" in text


def test_all_kazakh_letters_survive_extraction() -> None:
    data = render_certificate_pdf(_cert(course_title=KK_TITLE, language="kk"))
    text = _text(data)
    assert NAME in text.splitlines()
    assert KK_TITLE in _flat(text)  # the long title may wrap onto two lines
    for letter in KAZAKH_LETTERS + KAZAKH_LETTERS.upper():
        if letter in KK_TITLE + NAME:
            assert letter in text, letter
    assert set(KAZAKH_LETTERS) <= set(text)


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_default_labels_and_dates_per_language(language: str) -> None:
    text = _flat(_text(render_certificate_pdf(_cert(language=language))))
    for key in ("title", "certify", "completed_course", "completed_on", "score",
                "valid_until", "certificate_no", "verify_at"):
        assert DEFAULT_LABELS[language][key] in text, key
    assert format_date(date(2025, 3, 12), language) in text
    assert format_date(date(2027, 3, 12), language) in text


def test_labels_are_complete_for_each_language() -> None:
    keys = set(DEFAULT_LABELS["en"])
    assert set(DEFAULT_LABELS) == {"kk", "ru", "en"}
    for language, labels in DEFAULT_LABELS.items():
        assert set(labels) == keys, language


def test_custom_labels_override_defaults() -> None:
    data = render_certificate_pdf(_cert(labels={"title": "Куәлік", "score": "Балл"}))
    text = _text(data)
    assert "Куәлік" in text and "Балл" in text
    assert DEFAULT_LABELS["ru"]["title"] not in text
    assert DEFAULT_LABELS["ru"]["valid_until"] in text


def test_optional_score_and_expiry_are_omitted() -> None:
    text = _text(render_certificate_pdf(_cert(score=None, expires_at=None)))
    assert DEFAULT_LABELS["ru"]["score"] not in text
    assert DEFAULT_LABELS["ru"]["valid_until"] not in text
    assert "12 марта 2025 г." in text


def test_metadata_title_and_language() -> None:
    data = render_certificate_pdf(_cert())
    reader = _reader(data)
    title = reader.metadata.title
    assert DEFAULT_LABELS["ru"]["title"] in title
    assert NAME in title and RU_TITLE in title
    assert reader.metadata.author == ORG
    assert reader.trailer["/Root"]["/Lang"] == "ru"


def test_qr_code_image_is_embedded() -> None:
    page = _reader(render_certificate_pdf(_cert())).pages[0]
    images = list(page.images)
    assert len(images) == 1
    img = images[0].image
    assert img.width == img.height and img.width >= 100  # square QR bitmap


def test_rendering_is_deterministic() -> None:
    cert = _cert()
    assert render_certificate_pdf(cert) == render_certificate_pdf(cert)
    assert render_certificate_pdf(cert) != render_certificate_pdf(_cert(code="KLS-2025-000124"))


def test_long_name_and_title_still_fit_one_page() -> None:
    cert = _cert(
        learner_name="Әлия-Нұржамал Құрманғазықызы Сәрсенбаева-Тоқтарова-Өтегенова",
        course_title=" ".join([KK_TITLE] * 3),
        organisation=ORG + " " + ORG,
    )
    text = _flat(_text(render_certificate_pdf(cert)))
    assert cert.learner_name in text
    assert cert.course_title in text


@pytest.mark.parametrize(
    "d, language, expected",
    [
        (date(2025, 1, 5), "kk", "2025 жылғы 5 қаңтар"),
        (date(2025, 12, 31), "ru", "31 декабря 2025 г."),
        (date(2025, 4, 1), "en", "1 April 2025"),
    ],
)
def test_format_date(d: date, language: str, expected: str) -> None:
    assert format_date(d, language) == expected


@pytest.mark.parametrize(
    "score, language, expected",
    [(87.5, "ru", "87,5%"), (100, "kk", "100%"), (92.04, "en", "92%"), (66.66, "en", "66.7%")],
)
def test_format_score(score: float, language: str, expected: str) -> None:
    assert format_score(score, language) == expected
