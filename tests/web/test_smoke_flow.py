from tests.conftest import csrf_from


def test_learner_reads_module_and_dashboard_shows_progress(client, login_as, sample_course):
    login_as("learner", language="en")
    page = client.get("/courses/sample/01-welcome")
    assert page.status_code == 200, page.get_data(as_text=True)[:3000]
    html = page.get_data(as_text=True)
    assert "First section" in html
    dashboard = client.get("/").get_data(as_text=True)
    assert "Sample course" in dashboard and "0%" in dashboard
    response = client.post("/courses/sample/01-welcome/read", data={"csrf_token": csrf_from(html), "position": "2"})
    assert response.status_code == 302
    dashboard = client.get("/").get_data(as_text=True)
    assert "33%" in dashboard
