"""The trainer studio: drafts, editor, preview, validation, media, publish, diff, zips, conflicts."""

from __future__ import annotations

import io
import re
import stat
import zipfile

import pytest
import sqlalchemy as sa
from PIL import Image

from learning.audit.models import AuditEvent
from learning.authoring import services
from learning.authoring.models import CourseDraft
from learning.content.models import Course, CourseRevision
from learning.extensions import db
from tests.conftest import PASSWORD, csrf_from

MODULE = "02-check.en.md"


def png_bytes(size=(4, 3), fmt="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def new_draft(client, slug="sample") -> int:
    page = client.get(f"/author/{slug}").get_data(as_text=True)
    response = client.post(f"/author/{slug}/drafts", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302, response.status_code
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def edit_url(draft_id: int, path: str = MODULE, slug: str = "sample") -> str:
    return f"/author/{slug}/drafts/{draft_id}/edit/{path}"


def open_editor(client, draft_id: int, path: str = MODULE) -> dict:
    """The editor's form as a browser would send it back (text, version, base hash, CSRF)."""
    html = client.get(edit_url(draft_id, path)).get_data(as_text=True)
    text = re.search(r'<textarea id="text"[^>]*>\n(.*?)</textarea>', html, re.S).group(1)
    import html as html_lib

    return {
        "csrf_token": csrf_from(html),
        "text": html_lib.unescape(text),
        "version": re.search(r'name="version" type="hidden" value="(\d+)"', html).group(1),
        "base_hash": re.search(r'name="base_hash" type="hidden" value="([0-9a-f]*)"', html).group(1),
    }


def draft_files(app, draft_id: int) -> dict:
    with app.app_context():
        return dict(db.session.get(CourseDraft, draft_id).files)


def login_second_trainer(app):
    """A second browser, logged in as another trainer."""
    from learning.accounts.services import create_user

    with app.app_context():
        create_user("trainer-two@example.kz", role="trainer", org_path="R/A", name="Second Trainer",
                    password=PASSWORD)
        db.session.commit()
    other = app.test_client()
    token = csrf_from(other.get("/login").get_data(as_text=True))
    assert other.post("/login", data={"email": "trainer-two@example.kz", "password": PASSWORD,
                                      "csrf_token": token}).status_code == 302
    return other


# --------------------------------------------------------------------------- courses


def test_index_lists_courses_with_revisions(app, client, login_as, sample_course):
    login_as("trainer", language="en")
    html = client.get("/author/").get_data(as_text=True)
    with app.app_context():
        revision = db.session.scalar(sa.select(CourseRevision))
    assert "Sample course" in html and "sample" in html
    assert revision.content_hash[:12] in html and "course files" in html
    assert 'href="/author/sample"' in html


def test_create_course_starts_a_valid_draft_that_learners_never_see(app, client, login_as, make_user):
    login_as("trainer", language="en")
    page = client.get("/author/_new").get_data(as_text=True)
    response = client.post("/author/_new", data={
        "csrf_token": csrf_from(page), "slug": "civil-etiquette", "title": "Civil etiquette", "language": "ru",
    })
    assert response.status_code == 302
    draft_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "No problems found." in draft_page
    assert "01-introduction.ru.md" in draft_page
    with app.app_context():
        course = db.session.scalar(sa.select(Course).where(Course.slug == "civil-etiquette"))
        assert course.current_revision_id is None
        assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.target == "civil-etiquette")) == "course.create"
    learner = app.test_client()
    _, email = make_user("learner")
    token = csrf_from(learner.get("/login").get_data(as_text=True))
    learner.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert "civil-etiquette" not in learner.get("/courses").get_data(as_text=True)
    assert learner.get("/courses/civil-etiquette").status_code == 404
    # once published, it is a course like any other
    draft_url = response.headers["Location"]
    page = client.get(draft_url).get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    published = client.post(draft_url + "/publish", data={"csrf_token": csrf_from(page), "version": version})
    assert published.status_code == 302
    assert "Civil etiquette" in learner.get("/courses").get_data(as_text=True)
    assert "Введение" in learner.get("/courses/civil-etiquette/01-introduction").get_data(as_text=True)


@pytest.mark.parametrize(("slug", "message"), [
    ("Bad Slug", "lowercase Latin letters"),
    ("sample", "already exists"),
    ("", "This field is required"),
])
def test_create_course_refuses_bad_or_taken_slugs(app, client, login_as, sample_course, slug, message):
    login_as("trainer", language="en")
    page = client.get("/author/_new").get_data(as_text=True)
    response = client.post("/author/_new", data={"csrf_token": csrf_from(page), "slug": slug,
                                                 "title": "T", "language": "en"})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Course.id))) == 1


# --------------------------------------------------------------------------- editor


def test_editor_previews_with_the_learner_pipeline_without_saving(app, client, login_as, sample_course):
    login_as("trainer", language="en")
    draft_id = new_draft(client)
    form = open_editor(client, draft_id)
    assert "Read this, then answer." in form["text"]
    form["text"] = form["text"].replace("Read this, then answer.", "Read **this** <script>alert(1)</script>")
    response = client.post(edit_url(draft_id), data=form | {"preview": "Preview"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<strong>this</strong>" in html
    assert "<script>alert(1)" not in html.split('id="preview-body"')[1].split("</div>")[0]
    assert "Quiz: 2 questions" in html
    assert "Read this, then answer." in draft_files(app, draft_id)[MODULE]  # nothing saved


def test_live_preview_endpoint_returns_sanitised_html_and_problems(app, client, login_as, sample_course):
    login_as("trainer", language="en")
    draft_id = new_draft(client)
    form = open_editor(client, draft_id)
    text = form["text"].replace("Read this, then answer.", "## Part\n\n<img src=x onerror=alert(1)> ![x](media/none.png)")
    response = client.post(f"/author/sample/drafts/{draft_id}/preview", data={"path": MODULE, "text": text},
                           headers={"X-CSRFToken": form["csrf_token"]})
    assert response.status_code == 200
    data = response.get_json()
    assert '<h2 id="h-part">Part</h2>' in data["html"] and "onerror" not in data["html"]
    assert any("broken image" in p["message"] and p["line"] == 8 for p in data["problems"])
    # without the CSRF header the preview is refused
    assert client.post(f"/author/sample/drafts/{draft_id}/preview", data={"path": MODULE, "text": "x"}).status_code == 400


def test_save_shows_validation_messages_next_to_the_line(app, client, login_as, sample_course):
    login_as("trainer", language="en")
    draft_id = new_draft(client)
    form = open_editor(client, draft_id)
    lines = form["text"].split("\n")
    lines.insert(6, "See ![map](media/missing-map.png).")
    form["text"] = "\n".join(lines)
    response = client.post(edit_url(draft_id), data=form | {"save": "Save draft"})
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'href="#L-7" data-line="7">Line 7</a>' in html
    assert "broken image" in html and "missing-map.png" in html
    assert '<li id="L-7"><code>See ![map](media/missing-map.png).</code></li>' in html
    draft_page = client.get(f"/author/sample/drafts/{draft_id}").get_data(as_text=True)
    assert "1 error must be fixed before publishing." in draft_page
    assert f'/author/sample/drafts/{draft_id}/edit/{MODULE}#L-7' in draft_page


def test_editor_can_change_course_yaml_and_add_a_module(app, client, login_as, sample_course):
    login_as("trainer", language="en")
    draft_id = new_draft(client)
    form = open_editor(client, draft_id, "course.yaml")
    form["text"] = form["text"].replace('"Sample course"', '"Sample course, revised"')
    assert client.post(edit_url(draft_id, "course.yaml"), data=form | {"save": "1"}).status_code == 302
    page = client.get(f"/author/sample/drafts/{draft_id}").get_data(as_text=True)
    response = client.post(f"/author/sample/drafts/{draft_id}/modules", data={
        "csrf_token": csrf_from(page), "number": "3", "name": "farewell", "language": "en", "title": "Farewell",
    })
    assert response.status_code == 302 and response.headers["Location"].endswith("/edit/03-farewell.en.md")
    files = draft_files(app, draft_id)
    assert "Sample course, revised" in files["course.yaml"]
    assert files["03-farewell.en.md"].startswith('---\ntitle: "Farewell"\n')
    again = client.post(f"/author/sample/drafts/{draft_id}/modules", data={
        "csrf_token": csrf_from(page), "number": "3", "name": "farewell", "language": "en", "title": "Again",
    })
    assert again.status_code == 422 and "already has the file 03-farewell.en.md" in again.get_data(as_text=True)
    bad = client.post(f"/author/sample/drafts/{draft_id}/modules", data={
        "csrf_token": csrf_from(page), "number": "3", "name": "Bad Name", "language": "en", "title": "T",
    })
    assert bad.status_code == 422


def test_bad_editor_input_is_refused_and_nothing_is_saved(app, client, login_as, sample_course):
    login_as("trainer", language="en")
    draft_id = new_draft(client)
    form = open_editor(client, draft_id)
    before = draft_files(app, draft_id)
    nul = client.post(edit_url(draft_id), data=form | {"text": form["text"] + "\x00", "save": "1"})
    # refused for the whole site before any view runs (PostgreSQL cannot store NUL)
    assert nul.status_code == 400 and "not allowed" in nul.get_data(as_text=True)
    huge = client.post(edit_url(draft_id), data=form | {"text": "x" * 400_001, "save": "1"})
    assert huge.status_code == 422
    forged = client.post(edit_url(draft_id), data=form | {"version": "", "save": "1"})
    assert forged.status_code == 422
    assert draft_files(app, draft_id) == before
    assert client.get("/author/sample/drafts/99999999999999").status_code == 404
    assert client.get("/author/%00bad/analysis").status_code == 404
    assert client.get("/author/sample/compare?from=1&to=draft-99999999999999").status_code == 400


def test_module_links_in_the_preview_open_that_module(app, client, login_as, sample_course):
    login_as("trainer", language="en")
    draft_id = new_draft(client)
    response = client.get(f"/author/sample/drafts/{draft_id}/edit/02-check")
    assert response.status_code == 302 and response.headers["Location"].endswith("/edit/02-check.en.md")
    assert client.get(f"/author/sample/drafts/{draft_id}/edit/nothing-here.md").status_code == 404
    assert client.get(f"/author/sample/drafts/{draft_id}/edit/../course.yaml").status_code == 404


# --------------------------------------------------------------------------- concurrent edits


def test_second_save_of_a_changed_module_is_refused_and_shows_both_versions(app, client, login_as, sample_course):
    login_as("trainer", language="en")
    draft_id = new_draft(client)
    other = login_second_trainer(app)
    mine = open_editor(client, draft_id)
    theirs = {**mine, "csrf_token": None}
    theirs |= open_editor(other, draft_id)

    theirs["text"] = theirs["text"].replace("Read this, then answer.", "THEIR VERSION of the intro.")
    assert other.post(edit_url(draft_id), data=theirs | {"save": "1"}).status_code == 302

    mine["text"] = mine["text"].replace("Read this, then answer.", "MY VERSION of the intro.")
    response = client.post(edit_url(draft_id), data=mine | {"save": "1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "The module changed since you opened it." in html
    assert "Second Trainer" in html
    assert "THEIR VERSION of the intro." in html.split('id="current-version"')[1]  # the current version…
    assert "MY VERSION of the intro." in html.split('id="text"')[1]  # …and mine, unsaved, in the editor
    assert "THEIR VERSION" in draft_files(app, draft_id)[MODULE]  # no silent overwrite

    # Having seen both, saving again replaces the current version knowingly.
    retry = {**mine, "version": re.search(r'name="version" type="hidden" value="(\d+)"', html).group(1),
             "base_hash": re.search(r'name="base_hash" type="hidden" value="([0-9a-f]*)"', html).group(1)}
    assert client.post(edit_url(draft_id), data=retry | {"save": "1"}).status_code == 302
    assert "MY VERSION" in draft_files(app, draft_id)[MODULE]


def test_saves_of_different_files_of_one_draft_do_not_conflict(app, client, login_as, sample_course):
    login_as("trainer", language="en")
    draft_id = new_draft(client)
    other = login_second_trainer(app)
    mine = open_editor(client, draft_id, "01-welcome.en.md")
    theirs = open_editor(other, draft_id, MODULE)
    theirs["text"] += "\nTheirs.\n"
    assert other.post(edit_url(draft_id), data=theirs | {"save": "1"}).status_code == 302
    mine["text"] += "\nMine.\n"
    assert client.post(edit_url(draft_id, "01-welcome.en.md"), data=mine | {"save": "1"}).status_code == 302
    files = draft_files(app, draft_id)
    assert "Theirs." in files[MODULE] and "Mine." in files["01-welcome.en.md"]


def test_simultaneous_saves_of_one_module_let_exactly_one_win(app, client, login_as, sample_course):
    import threading

    login_as("trainer", language="en")
    draft_id = new_draft(client)
    form = open_editor(client, draft_id)
    cookie = client.get_cookie("session").value
    statuses: dict[int, int] = {}
    barrier = threading.Barrier(4)

    def save(n: int):
        other = app.test_client()
        other.set_cookie("session", cookie)
        barrier.wait(timeout=30)
        data = form | {"text": form["text"] + f"\nSave number {n}.\n", "save": "1"}
        statuses[n] = other.post(edit_url(draft_id), data=data).status_code

    threads = [threading.Thread(target=save, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses.values()) == [302, 409, 409, 409]
    winner = next(n for n, status in statuses.items() if status == 302)
    text = draft_files(app, draft_id)[MODULE]
    assert f"Save number {winner}." in text and text.count("Save number") == 1
    with app.app_context():
        assert db.session.get(CourseDraft, draft_id).version == int(form["version"]) + 1


def test_a_concurrent_update_between_read_and_write_is_a_conflict(app, sample_course, make_user):
    """The version column is an optimistic lock at the database: a stale UPDATE matches no row."""
    trainer_id, _ = make_user("trainer")
    with app.test_request_context():
        from learning.accounts.models import User

        user = db.session.get(User, trainer_id)
        course = services.find_course("sample")
        draft = services.new_draft(course, user)
        db.session.commit()
        text = draft.files[MODULE]
        base = services.text_hash(text)
        # the row changes behind the loaded object's back (as a concurrent save would)
        db.session.execute(sa.update(CourseDraft).where(CourseDraft.id == draft.id)
                           .values(version=CourseDraft.version + 1)
                           .execution_options(synchronize_session=False))
        with pytest.raises(services.DraftConflict):
            services.save_file(draft, MODULE, text + "\nchanged\n", base, user)
        db.session.rollback()
        assert "changed" not in db.session.get(CourseDraft, draft.id).files[MODULE]


# --------------------------------------------------------------------------- media


def _upload(client, draft_id, data, filename, **extra):
    page = client.get(f"/author/sample/drafts/{draft_id}").get_data(as_text=True)
    return client.post(f"/author/sample/drafts/{draft_id}/media", data={
        "csrf_token": csrf_from(page), "image": (io.BytesIO(data), filename), **extra,
    }, content_type="multipart/form-data")


def test_image_upload_is_checked_by_content(app, client, login_as, sample_course):
    login_as("trainer", language="en")
    draft_id = new_draft(client)
    response = _upload(client, draft_id, png_bytes(), "Greeting Photo.PNG")
    assert response.status_code == 302
    with app.app_context():
        media = db.session.get(CourseDraft, draft_id).media
    assert list(media) == ["media/greeting-photo.png"]
    with client.get(f"/author/sample/drafts/{draft_id}/media/greeting-photo.png") as served:
        assert served.status_code == 200 and served.mimetype == "image/png"
        assert served.data == png_bytes()
        assert served.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    # a JPEG named .png is stored under the extension of what it is
    assert _upload(client, draft_id, png_bytes(fmt="JPEG"), "photo.png").status_code == 302
    with app.app_context():
        assert "media/photo.jpg" in db.session.get(CourseDraft, draft_id).media


@pytest.mark.parametrize(("data", "filename", "message"), [
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "x.png",
     "not a PNG, JPEG, GIF or WebP image"),
    (b"MZ\x90\x00" + b"\x00" * 100, "tool.gif", "not a PNG, JPEG, GIF or WebP image"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "broken.png", "damaged or not a readable image"),
    (b"", "empty.png", "empty"),
])
def test_image_upload_refuses_what_is_not_an_image(app, client, login_as, sample_course, data, filename, message):
    login_as("trainer", language="en")
    draft_id = new_draft(client)
    response = _upload(client, draft_id, data, filename)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(CourseDraft, draft_id).media == {}


def test_image_upload_over_the_size_limit_is_refused(app, client, login_as, sample_course):
    login_as("trainer", language="en")
    draft_id = new_draft(client)
    app.config["MEDIA_MAX_BYTES"] = 100
    response = _upload(client, draft_id, png_bytes((64, 64)), "big.png")
    assert response.status_code == 422
    assert "The image is larger than the limit of 100 bytes." in response.get_data(as_text=True)


def test_image_name_clash_needs_replace(app, client, login_as, sample_course):
    login_as("trainer", language="en")
    draft_id = new_draft(client)
    assert _upload(client, draft_id, png_bytes(), "a.png").status_code == 302
    clash = _upload(client, draft_id, png_bytes((5, 5)), "a.png")
    assert clash.status_code == 422 and "already has media/a.png" in clash.get_data(as_text=True)
    assert _upload(client, draft_id, png_bytes((5, 5)), "a.png", replace="y").status_code == 302


# --------------------------------------------------------------------------- publish


def _publish(client, draft_id, **extra):
    page = client.get(f"/author/sample/drafts/{draft_id}").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    return client.post(f"/author/sample/drafts/{draft_id}/publish",
                       data={"csrf_token": csrf_from(page), "version": version, **extra})


def test_publish_refuses_an_invalid_draft_listing_every_error(app, client, login_as, sample_course):
    login_as("trainer", language="en")
    draft_id = new_draft(client)
    form = open_editor(client, draft_id, "course.yaml")
    form["text"] = form["text"].replace("validity_months: 12", "validity_months: soon")
    client.post(edit_url(draft_id, "course.yaml"), data=form | {"save": "1"})
    form = open_editor(client, draft_id)
    form["text"] = form["text"].replace("{T}", "{T} {")
    client.post(edit_url(draft_id), data=form | {"save": "1"})
    response = _publish(client, draft_id)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Not published: fix these problems first." in html
    assert "sample/course.yaml:" in html and "validity_months must be an integer" in html
    assert f"sample/{MODULE}:" in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CourseRevision.id))) == 1


def test_publish_stores_a_studio_revision_learners_then_get(app, client, login_as, sample_course):
    trainer_id, _ = login_as("trainer", language="en")
    draft_id = new_draft(client)
    form = open_editor(client, draft_id)
    form["text"] = form["text"].replace("Read this, then answer.", "Brand new introduction.")
    client.post(edit_url(draft_id), data=form | {"save": "1"})
    # the draft is not visible to learners
    learner = app.test_client()
    from learning.accounts.services import create_user

    with app.app_context():
        create_user("reader@example.kz", role="learner", org_path="R/A", password=PASSWORD, language="en")
        db.session.commit()
    token = csrf_from(learner.get("/login").get_data(as_text=True))
    learner.post("/login", data={"email": "reader@example.kz", "password": PASSWORD, "csrf_token": token})
    assert "Brand new introduction." not in learner.get("/courses/sample/02-check").get_data(as_text=True)

    response = _publish(client, draft_id, note="Rewrote the introduction")
    assert response.status_code == 302
    assert "Published as revision 2." in client.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        revision = db.session.scalar(sa.select(CourseRevision).where(CourseRevision.number == 2))
        assert revision.source == "studio" and revision.published_by_id == trainer_id
        assert revision.note == "Rewrote the introduction"
        course = db.session.scalar(sa.select(Course))
        assert course.current_revision_id == revision.id and course.is_changed_in_studio
        assert db.session.get(CourseDraft, draft_id).based_on_revision_id == revision.id
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "course.publish"))
        assert event.details["revision"] == 2 and event.actor_id == trainer_id
    # the learner in the middle stays on their revision and is offered the new one…
    assert "Brand new introduction." not in learner.get("/courses/sample/02-check").get_data(as_text=True)
    assert "A new version of this course has been published." in learner.get("/courses/sample").get_data(as_text=True)
    # …and a learner who starts now gets it
    newcomer = app.test_client()
    with app.app_context():
        create_user("newcomer@example.kz", role="learner", org_path="R/A", password=PASSWORD, language="en")
        db.session.commit()
    token = csrf_from(newcomer.get("/login").get_data(as_text=True))
    newcomer.post("/login", data={"email": "newcomer@example.kz", "password": PASSWORD, "csrf_token": token})
    assert "Brand new introduction." in newcomer.get("/courses/sample/02-check").get_data(as_text=True)
    # `courses sync` will not silently overwrite the studio's revision
    result = app.test_cli_runner().invoke(args=["courses", "sync"])
    assert result.exit_code == 1 and "diverged" in result.output
    # publishing the same content again stores nothing
    again = _publish(client, draft_id)
    assert "Nothing to publish" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_publishing_over_a_newer_revision_needs_confirmation(app, client, login_as, sample_course):
    login_as("trainer", language="en")
    first, second = new_draft(client), new_draft(client)
    for draft_id, words in ((first, "First draft."), (second, "Second draft.")):
        form = open_editor(client, draft_id)
        form["text"] += f"\n{words}\n"
        client.post(edit_url(draft_id), data=form | {"save": "1"})
    assert _publish(client, first).status_code == 302
    refused = _publish(client, second)
    assert refused.status_code == 409
    assert "Revision 2 was published after this draft was started." in refused.get_data(as_text=True)
    assert _publish(client, second, replace_newer="y").status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.max(CourseRevision.number))) == 3


def test_publish_from_a_stale_page_is_refused(app, client, login_as, sample_course):
    login_as("trainer", language="en")
    draft_id = new_draft(client)
    page = client.get(f"/author/sample/drafts/{draft_id}").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    form = open_editor(client, draft_id)
    form["text"] += "\nLate change.\n"
    client.post(edit_url(draft_id), data=form | {"save": "1"})
    response = client.post(f"/author/sample/drafts/{draft_id}/publish",
                           data={"csrf_token": csrf_from(page), "version": version})
    assert response.status_code == 409
    assert "The draft changed since you opened this page." in response.get_data(as_text=True)


def test_discarding_a_draft(app, client, login_as, sample_course):
    login_as("trainer", language="en")
    draft_id = new_draft(client)
    page = client.get(f"/author/sample/drafts/{draft_id}").get_data(as_text=True)
    assert client.post(f"/author/sample/drafts/{draft_id}/discard",
                       data={"csrf_token": csrf_from(page)}).status_code == 302
    with app.app_context():
        assert db.session.get(CourseDraft, draft_id) is None
    assert client.get(f"/author/sample/drafts/{draft_id}").status_code == 404


# --------------------------------------------------------------------------- compare


def test_compare_two_revisions_shows_a_unified_diff(app, client, login_as, sample_course):
    login_as("trainer", language="en")
    draft_id = new_draft(client)
    form = open_editor(client, draft_id)
    form["text"] = form["text"].replace("Read this, then answer.", "Read this first, then answer.")
    client.post(edit_url(draft_id), data=form | {"save": "1"})
    _upload(client, draft_id, png_bytes(), "map.png")
    assert _publish(client, draft_id).status_code == 302
    html = client.get("/author/sample/compare?from=1&to=2").get_data(as_text=True)
    assert "Changes from revision 1 to revision 2" in html
    assert re.search(r'<tr class="diff-removed">.*?Read this, then answer\.', html, re.S)
    assert re.search(r'<tr class="diff-added">.*?Read this first, then answer\.', html, re.S)
    assert "media/map.png" in html and "01-welcome.en.md" not in html  # unchanged files are left out
    assert client.get("/author/sample/compare").status_code == 200  # defaults to the last two
    assert client.get("/author/sample/compare?from=1&to=99").status_code == 400
    assert client.get(f"/author/sample/compare?from=2&to=draft-{draft_id}").status_code == 200


# --------------------------------------------------------------------------- export / import


def _export(client, number=1) -> bytes:
    response = client.get(f"/author/sample/revisions/{number}/export.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    return response.data


def test_exported_zip_is_a_course_folder_that_validates(app, client, login_as, sample_course, runner, tmp_path):
    login_as("trainer", language="en")
    draft_id = new_draft(client)
    _upload(client, draft_id, png_bytes(), "map.png")
    form = open_editor(client, draft_id)
    form["text"] += "\n![Map](media/map.png)\n"
    client.post(edit_url(draft_id), data=form | {"save": "1"})
    assert _publish(client, draft_id).status_code == 302
    data = _export(client, 2)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = sorted(archive.namelist())
        assert names == ["sample/01-welcome.en.md", "sample/01-welcome.ru.md", "sample/02-check.en.md",
                         "sample/course.yaml", "sample/media/map.png"]
        target = tmp_path / "unzipped"
        archive.extractall(target)
    result = runner.invoke(args=["courses", "validate", str(target / "sample")])
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output
    assert (target / "sample/media/map.png").read_bytes() == png_bytes()


def test_importing_an_export_changes_nothing_and_imports_as_a_new_course(app, client, login_as, sample_course):
    login_as("trainer", language="en")
    data = _export(client)
    page = client.get("/author/_import").get_data(as_text=True)
    same = client.post("/author/_import", data={"csrf_token": csrf_from(page), "archive": (io.BytesIO(data), "s.zip"),
                                                "mode": "publish"}, content_type="multipart/form-data")
    assert same.status_code == 302
    assert "Nothing changed: revision 1" in client.get(same.headers["Location"]).get_data(as_text=True)

    copy = client.post("/author/_import", data={"csrf_token": csrf_from(page), "archive": (io.BytesIO(data), "s.zip"),
                                                "slug": "sample-copy", "mode": "publish", "note": "copied"},
                       content_type="multipart/form-data")
    assert copy.status_code == 302 and copy.headers["Location"].endswith("/author/sample-copy")
    draft = client.post("/author/_import", data={"csrf_token": csrf_from(page), "archive": (io.BytesIO(data), "s.zip"),
                                                 "mode": "draft"}, content_type="multipart/form-data")
    assert draft.status_code == 302 and "/author/sample/drafts/" in draft.headers["Location"]
    with app.app_context():
        revision = db.session.scalar(sa.select(CourseRevision).join(Course, Course.id == CourseRevision.course_id).where(Course.slug == "sample-copy"))
        assert revision.source == "import" and revision.number == 1 and revision.note == "copied"
        original = db.session.scalar(sa.select(CourseRevision).join(Course, Course.id == CourseRevision.course_id).where(Course.slug == "sample"))
        assert revision.files == original.files
        actions = list(db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action == "course.import")))
        assert len(actions) == 3


def _zip(entries: dict[str, bytes], symlinks: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            info = zipfile.ZipInfo(name)
            if name in symlinks:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, content)
    return buffer.getvalue()


def _valid_entries(prefix="evil/") -> dict[str, bytes]:
    from tests.conftest import SAMPLE_COURSE
    import textwrap

    return {prefix + name: textwrap.dedent(text).lstrip().encode() for name, text in SAMPLE_COURSE.items()}


@pytest.mark.parametrize(("entries", "symlinks", "config", "message"), [
    (_valid_entries() | {"evil/../../etc/passwd": b"x"}, (), {}, "leaves the course folder"),
    (_valid_entries() | {"/abs/course.md": b"x"}, (), {}, "absolute paths are not allowed"),
    (_valid_entries() | {"evil/media/link.png": b"/etc/passwd"}, ("evil/media/link.png",), {}, "symbolic links are not allowed"),
    (_valid_entries() | {"evil/03-x.en.md": "---\ntitle: x\n---\nПривет".encode("cp1251")}, (), {}, "not UTF-8 text"),
    (_valid_entries() | {"evil/03-x.en.md": b"---\ntitle: x\n---\nnul \x00"}, (), {}, "03-x.en.md:4: contains a NUL"),
    (_valid_entries() | {"evil/media/fake.png": b"GIF89a not really"}, (), {}, "damaged or not a readable image"),
    (_valid_entries(), (), {"AUTHORING_IMPORT_MAX_BYTES": 500}, "larger than the limit of 500 bytes"),
    (_valid_entries(), (), {"AUTHORING_IMPORT_MAX_FILES": 2}, "at most 2 are allowed"),
    ({"evil/readme.txt": b"hello"}, (), {}, "no course.yaml"),
])
def test_import_refuses_unsafe_zips_and_writes_nothing(app, client, login_as, entries, symlinks, config, message):
    login_as("trainer", language="en")
    app.config.update(config)
    page = client.get("/author/_import").get_data(as_text=True)
    response = client.post("/author/_import", data={
        "csrf_token": csrf_from(page), "archive": (io.BytesIO(_zip(entries, symlinks)), "evil.zip"), "mode": "publish",
    }, content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Course.id))) == 0


def test_import_refuses_a_file_that_is_not_a_zip(app, client, login_as):
    login_as("trainer", language="en")
    page = client.get("/author/_import").get_data(as_text=True)
    response = client.post("/author/_import", data={
        "csrf_token": csrf_from(page), "archive": (io.BytesIO(b"PK\x03\x04 not a zip"), "x.zip"), "mode": "draft",
    }, content_type="multipart/form-data")
    assert response.status_code == 422 and "not a zip archive" in response.get_data(as_text=True)
    missing = client.post("/author/_import", data={"csrf_token": csrf_from(page), "mode": "draft"},
                          content_type="multipart/form-data")
    assert missing.status_code == 422 and "Choose a zip file." in missing.get_data(as_text=True)


def test_import_over_the_hard_request_limit_is_a_clear_413(app, client, login_as):
    login_as("trainer", language="en")
    page = client.get("/author/_import").get_data(as_text=True)
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    response = client.post("/author/_import", data={
        "csrf_token": csrf_from(page), "archive": (io.BytesIO(b"x" * 20_000), "big.zip"), "mode": "draft",
    }, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "a course zip may be up to 50 MB" in response.get_data(as_text=True)


def test_import_of_an_invalid_course_lists_all_errors_and_publishes_nothing(app, client, login_as):
    login_as("trainer", language="en")
    entries = _valid_entries("broken/")
    entries["broken/course.yaml"] = entries["broken/course.yaml"].replace(b"validity_months: 12", b"validity_months: x")
    entries["broken/02-check.en.md"] += b"\n```quiz\n::Bad:: What? {=A ~B\n```\n"
    page = client.get("/author/_import").get_data(as_text=True)
    response = client.post("/author/_import", data={
        "csrf_token": csrf_from(page), "archive": (io.BytesIO(_zip(entries)), "broken.zip"), "mode": "publish",
    }, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "broken/course.yaml:" in html and "broken/02-check.en.md:" in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CourseRevision.id))) == 0
    # as a draft it is accepted, and the draft shows the errors to fix
    response = client.post("/author/_import", data={
        "csrf_token": csrf_from(page), "archive": (io.BytesIO(_zip(entries)), "broken.zip"), "mode": "draft",
    }, content_type="multipart/form-data")
    assert response.status_code == 302
    draft_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 errors must be fixed before publishing." in draft_page


def test_studio_pages_render_for_admin(app, client, login_as, sample_course):
    login_as("admin", language="ru")
    draft_id = new_draft(client)
    for url in ("/author/", "/author/sample", f"/author/sample/drafts/{draft_id}", edit_url(draft_id),
                edit_url(draft_id, "course.yaml"), "/author/sample/analysis", "/author/_new", "/author/_import"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "style=" not in response.get_data(as_text=True).replace('"style=', ""), url
        assert "<script>" not in response.get_data(as_text=True), url
