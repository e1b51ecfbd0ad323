import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import ImageChops
from sqlalchemy import make_url, select, text
from sqlalchemy.orm import Session

from app.config import Settings, get_settings
from app.db.engines import session_scope
from app.main import create_app
from app.onboarding import poster as layout
from app.onboarding import service
from app.onboarding.models import Platform, PosterScan
from app.staff.models import Role
from tests.asserts import assert_problem
from tests.factories import FOLOU, HUANGLIU, SANGUANZHAI, XIXING, auth_headers, make_staff
from tests.locks import another_writer, release_once_waiting
from tests.onboarding.factories import (
    ANDROID_CHROME,
    ANDROID_WECHAT,
    APK_URL,
    APP_STORE_URL,
    BASE_URL,
    DESKTOP,
    IPHONE_SAFARI,
    IPHONE_WECHAT,
    LINK_ENV,
    MINI_PROGRAM_URL,
    make_poster,
)
from tests.onboarding.images import decode_qr, ink, open_png

ADMIN = "/api/v1/admin/posters"


def _headers(session: Session, **kwargs: object) -> dict[str, str]:
    return auth_headers(make_staff(session, **kwargs))  # type: ignore[arg-type]


def test_staff_create_a_poster_and_get_its_code_and_url(
    client: TestClient, session: Session, settings: Settings
) -> None:
    headers = _headers(session, role=Role.commission)
    response = client.post(
        ADMIN, json={"village_code": SANGUANZHAI, "channel": "村务公开栏"}, headers=headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert len(body["code"]) <= 8 and body["url"] == f"{BASE_URL}/i/{body['code']}"
    assert body["village_name"] == "佛楼镇三官寨村" and body["total_scans"] == 0
    read = client.get(f"{ADMIN}/{body['code']}", headers=headers)
    assert read.status_code == 200 and read.json() == body


def test_a_poster_needs_a_known_village_and_a_short_channel(
    client: TestClient, session: Session, settings: Settings
) -> None:
    headers = _headers(session)
    unknown = client.post(
        ADMIN, json={"village_code": "511923999999", "channel": "村务公开栏"}, headers=headers
    )
    assert "511923999999" in assert_problem(unknown, 404, "not_found")["detail"]
    township = client.post(ADMIN, json={"village_code": FOLOU, "channel": "x"}, headers=headers)
    assert "佛楼镇" in assert_problem(township, 422, "poster_village_invalid")["detail"]
    for channel in ("", "   ", "村" * 21):
        invalid = client.post(
            ADMIN, json={"village_code": SANGUANZHAI, "channel": channel}, headers=headers
        )
        problem = assert_problem(invalid, 422, "validation_failed")
        assert [e["field"] for e in problem["errors"]] == ["channel"]


def test_a_channel_is_printable_text_not_emoji_or_control_characters(
    client: TestClient, session: Session, settings: Settings
) -> None:
    headers = _headers(session)
    for channel in ("公告栏😀", "村务\u202e栏", "便民\u200b中心", "★服务点", "卫生室\x07"):
        invalid = client.post(
            ADMIN, json={"village_code": SANGUANZHAI, "channel": channel}, headers=headers
        )
        problem = assert_problem(invalid, 422, "validation_failed")
        assert [e["field"] for e in problem["errors"]] == ["channel"]
        assert "表情" in problem["errors"][0]["message"]
    for channel in ("村务公开栏（东侧）", "便民服务中心·二楼", "村口、小卖部 - 1号", "Bus Stop 2"):
        ok = client.post(
            ADMIN, json={"village_code": SANGUANZHAI, "channel": f" {channel} "}, headers=headers
        )
        assert ok.status_code == 201, ok.text
        assert ok.json()["channel"] == channel


def test_a_second_poster_for_the_same_village_and_channel_is_refused(
    client: TestClient, session: Session, settings: Settings
) -> None:
    headers = _headers(session)
    body = {"village_code": SANGUANZHAI, "channel": "村务公开栏"}
    first = client.post(ADMIN, json=body, headers=headers).json()
    again = client.post(ADMIN, json={**body, "channel": " 村务公开栏 "}, headers=headers)
    problem = assert_problem(again, 409, "poster_exists")
    assert first["code"] in problem["detail"] and problem["poster_code"] == first["code"]
    listed = client.get(ADMIN, params={"village_code": SANGUANZHAI}, headers=headers).json()
    assert listed["total"] == 1
    other = client.post(ADMIN, json={**body, "channel": "便民服务中心"}, headers=headers)
    assert other.status_code == 201


def test_roles_and_regions(client: TestClient, session: Session, settings: Settings) -> None:
    officer = _headers(session, role=Role.township_officer, region_code=FOLOU)
    ok = client.post(ADMIN, json={"village_code": SANGUANZHAI, "channel": "a"}, headers=officer)
    assert ok.status_code == 201
    elsewhere = client.post(ADMIN, json={"village_code": HUANGLIU, "channel": "a"}, headers=officer)
    assert_problem(elsewhere, 403, "forbidden")
    other = make_poster(session, make_staff(session), village_code=HUANGLIU)
    for path in ("", "/stats", "/qr.png", "/qr.svg", "/poster.png"):
        response = client.get(f"{ADMIN}/{other.code}{path}", headers=officer)
        assert_problem(response, 404, "poster_not_found")
    listed = client.get(ADMIN, headers=officer).json()
    assert [p["code"] for p in listed["items"]] == [ok.json()["code"]]
    assert_problem(
        client.get(ADMIN, params={"township_code": XIXING}, headers=officer), 403, "forbidden"
    )
    clerk = _headers(session, role=Role.village_clerk, region_code=SANGUANZHAI)
    assert_problem(client.get(ADMIN, headers=clerk), 403, "forbidden")
    editor = _headers(session, role=Role.editor)
    body = {"village_code": SANGUANZHAI, "channel": "a"}
    assert_problem(client.post(ADMIN, json=body, headers=editor), 403, "forbidden")
    assert_problem(client.get(f"{ADMIN}/{other.code}/qr.png"), 401, "authentication_required")


def test_qr_png_and_svg_hold_the_exact_url(
    client: TestClient, session: Session, settings: Settings
) -> None:
    admin = make_staff(session)
    poster = make_poster(session, admin)
    png = client.get(f"{ADMIN}/{poster.code}/qr.png", headers=auth_headers(admin))
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    image = open_png(png.content).convert("L")
    (code,) = decode_qr(image)
    assert code.text == poster.url
    assert code.ec_level in {"M", "Q", "H"}
    # the quiet zone: 4 modules of white all round, then the finder pattern's dark corner
    side = image.width
    module = side // (side // 10)  # qr.png draws 10 px modules
    quiet = 4 * module
    assert ink(image, (0, 0, side, quiet)) == 0 and ink(image, (0, 0, quiet, side)) == 0
    assert ink(image, (side - quiet, 0, side, side)) == 0
    assert ink(image, (0, side - quiet, side, side)) == 0
    assert image.getpixel((quiet, quiet)) == 0
    svg = client.get(f"{ADMIN}/{poster.code}/qr.svg", headers=auth_headers(admin))
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert svg.text.startswith("<?xml") and "<path" in svg.text


def test_the_printable_poster_is_a4_at_300_dpi_with_a_readable_qr_code(
    client: TestClient, session: Session, settings: Settings, tmp_path: Path
) -> None:
    admin = make_staff(session)
    first = make_poster(session, admin)
    second = make_poster(session, admin, village_code=HUANGLIU)
    response = client.get(f"{ADMIN}/{first.code}/poster.png", headers=auth_headers(admin))
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    image = open_png(response.content)
    assert image.size == (2480, 3508)
    assert tuple(round(d) for d in image.info["dpi"]) == (300, 300)
    assert [code.text for code in decode_qr(image)] == [first.url]
    # the village's name is drawn where the layout puts it, and it is this village's name
    assert ink(image, layout.VILLAGE_NAME_BOX) > 10_000
    other = open_png(
        client.get(f"{ADMIN}/{second.code}/poster.png", headers=auth_headers(admin)).content
    )
    names = [i.crop(layout.VILLAGE_NAME_BOX).convert("L") for i in (image, other)]
    assert ImageChops.difference(*names).getbbox() is not None
    for box in layout.FEATURE_BOXES:
        assert ink(image, box) > 5_000


def test_poster_images_are_cached_a_day_and_revalidated_by_etag(
    client: TestClient, session: Session, settings: Settings
) -> None:
    admin = make_staff(session)
    poster = make_poster(session, admin)
    for path in ("qr.svg", "qr.png", "poster.png"):
        url = f"{ADMIN}/{poster.code}/{path}"
        first = client.get(url, headers=auth_headers(admin))
        assert first.status_code == 200
        assert first.headers["cache-control"] == "private, max-age=86400"
        etag = first.headers["etag"]
        again = client.get(url, headers={**auth_headers(admin), "If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
        # a new public base URL makes new images, which the old ETag no longer matches
        settings.public_base_url = "https://lianyun.example.org"
        moved = client.get(url, headers={**auth_headers(admin), "If-None-Match": etag})
        assert moved.status_code == 200 and moved.headers["etag"] != etag
        settings.public_base_url = BASE_URL
    assert_problem(
        client.get(f"{ADMIN}/{poster.code}/qr.png", headers={"If-None-Match": "*"}),
        401,
        "authentication_required",
    )


def test_no_cjk_font_means_a_clear_503_not_tofu(
    client: TestClient, session: Session, settings: Settings, tmp_path: Path
) -> None:
    admin = make_staff(session)
    poster = make_poster(session, admin)
    not_a_font = tmp_path / "broken.ttc"
    not_a_font.write_bytes(b"not a font")
    for path in (not_a_font, tmp_path / "missing.ttc"):
        settings.poster_font = path
        response = client.get(f"{ADMIN}/{poster.code}/poster.png", headers=auth_headers(admin))
        problem = assert_problem(response, 503, "poster_font_missing")
        assert "LIANYUN_POSTER_FONT" in problem["detail"] and str(tmp_path) not in response.text


def _scan(client: TestClient, code: str, user_agent: str, method: str = "GET") -> str:
    response = client.request(method, f"/i/{code}", headers={"User-Agent": user_agent})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    return response.text


def test_the_scan_page_answers_each_kind_of_phone(
    client: TestClient, session: Session, settings: Settings
) -> None:
    poster = make_poster(session, make_staff(session))
    android = _scan(client, poster.code, ANDROID_CHROME)
    assert '<html lang="zh-CN">' in android and 'name="viewport"' in android
    assert f'id="download-android" href="{APK_URL}"' in android
    assert "佛楼镇三官寨村" in android
    assert APP_STORE_URL not in android and "在浏览器打开" not in android
    iphone = _scan(client, poster.code, IPHONE_SAFARI)
    assert f'id="download-ios" href="{APP_STORE_URL}"' in iphone and APK_URL not in iphone
    for wechat_agent in (ANDROID_WECHAT, IPHONE_WECHAT):
        wechat = _scan(client, poster.code, wechat_agent)
        assert "点击右上角 ··· 选择在浏览器打开" in wechat
        assert "「廉韵平昌」" in wechat and MINI_PROGRAM_URL in wechat
        assert APK_URL not in wechat and APP_STORE_URL not in wechat
    other = _scan(client, poster.code, DESKTOP)
    assert APK_URL in other and APP_STORE_URL in other
    for page in (android, iphone, wechat, other):
        assert "<script" not in page and "http://" not in page.replace(APK_URL, "")
        assert "<link" not in page and "<img" not in page  # self-contained


def test_without_download_links_the_page_says_what_to_do(
    client: TestClient, session: Session, settings: Settings
) -> None:
    settings.android_apk_url = None
    settings.ios_app_store_url = None
    poster = make_poster(session, make_staff(session))
    assert "安卓版安装包即将上线" in _scan(client, poster.code, ANDROID_CHROME)
    assert "苹果版即将上架" in _scan(client, poster.code, IPHONE_SAFARI)


def test_what_the_page_shows_is_escaped(
    client: TestClient, session: Session, settings: Settings
) -> None:
    settings.mini_program_name = '<script>alert("x")</script>'
    poster = make_poster(session, make_staff(session))
    page = _scan(client, poster.code, ANDROID_WECHAT)
    assert "<script>" not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_scans_are_counted_by_day_and_platform_and_head_is_not_counted(
    client: TestClient, session: Session, settings: Settings
) -> None:
    admin = make_staff(session)
    poster = make_poster(session, admin)
    for agent in (ANDROID_CHROME, ANDROID_CHROME, IPHONE_SAFARI, ANDROID_WECHAT, IPHONE_WECHAT):
        _scan(client, poster.code, agent)
    _scan(client, poster.code, DESKTOP, method="HEAD")
    stats = client.get(f"{ADMIN}/{poster.code}/stats", headers=auth_headers(admin))
    assert stats.status_code == 200
    body = stats.json()
    assert body["totals"] == {"android": 2, "ios": 1, "wechat": 2, "other": 0, "total": 5}
    (today,) = body["days"]
    assert today["total"] == 5 and today["wechat"] == 2
    assert body["poster"]["total_scans"] == 5
    listed = client.get(ADMIN, params={"township_code": FOLOU}, headers=auth_headers(admin))
    assert listed.json()["total"] == 1 and listed.json()["items"][0]["total_scans"] == 5
    townships = client.get(f"{ADMIN}/townships", headers=auth_headers(admin)).json()
    assert {"township_code": FOLOU, "township_name": "佛楼镇", "posters": 1, "scans": 5} in (
        townships
    )


def test_an_unknown_code_gets_a_friendly_chinese_404_page(
    client: TestClient, session: Session, settings: Settings
) -> None:
    for code in ("zzzzzzzz", "no-such-poster"):
        response = client.get(f"/i/{code}", headers={"User-Agent": ANDROID_CHROME})
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "找不到这张海报" in response.text and 'lang="zh-CN"' in response.text


def test_the_page_is_shown_when_the_scan_cannot_be_counted(
    client: TestClient, session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = make_staff(session)
    poster = make_poster(session, admin)

    def fail(session: Session, poster_id: int, *, platform: Platform) -> None:
        # a real failed statement (on PostgreSQL it aborts the transaction up to the savepoint)
        session.execute(text("UPDATE no_such_table SET scans = scans + 1"))

    monkeypatch.setattr(service, "count_scan", fail)
    assert "佛楼镇三官寨村" in _scan(client, poster.code, ANDROID_CHROME)

    monkeypatch.undo()
    _scan(client, poster.code, ANDROID_CHROME)  # the session is still usable, and counts again
    stats = client.get(f"{ADMIN}/{poster.code}/stats", headers=auth_headers(admin)).json()
    assert stats["totals"]["total"] == 1 and stats["totals"]["android"] == 1


def test_a_scan_while_another_connection_holds_the_write_lock_still_shows_the_page(
    committed_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The nightly sync holds the write lock. On SQLite a scan's count cannot be had (a read
    # transaction cannot wait to become a writer): it is dropped, the page is shown. On
    # PostgreSQL the count waits for the lock and is taken once the sync lets go.
    for name, value in LINK_ENV.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    with session_scope().begin() as session:
        code = make_poster(session, make_staff(session), settings=get_settings()).code
    release, events = threading.Event(), []
    sqlite = make_url(committed_db).get_backend_name() == "sqlite"
    with (
        another_writer(committed_db, release, events),
        TestClient(create_app(configure_logs=False, schedule_jobs=False)) as client,
    ):
        if not sqlite:
            threading.Thread(target=release_once_waiting, args=(release,)).start()
        page = client.get(f"/i/{code}", headers={"User-Agent": IPHONE_SAFARI})
        events.append("answered")
    assert page.status_code == 200 and "佛楼镇三官寨村" in page.text
    assert events == (["answered", "released"] if sqlite else ["released", "answered"])
    with TestClient(create_app(configure_logs=False, schedule_jobs=False)) as client:
        assert client.get(f"/i/{code}", headers={"User-Agent": ANDROID_CHROME}).status_code == 200
    with session_scope()() as session:
        counted = {row.platform: row.scans for row in session.scalars(select(PosterScan))}
    assert counted == ({"android": 1} if sqlite else {"ios": 1, "android": 1})


def test_a_code_in_capitals_or_with_spaces_finds_its_poster(
    client: TestClient, session: Session, settings: Settings
) -> None:
    admin = make_staff(session)
    poster = make_poster(session, admin)
    for typed in (poster.code.upper(), f"{poster.code}%20", f"%20{poster.code.upper()}%0A"):
        assert "佛楼镇三官寨村" in _scan(client, typed, ANDROID_CHROME)
    stats = client.get(f"{ADMIN}/{poster.code}/stats", headers=auth_headers(admin)).json()
    assert stats["totals"]["total"] == 3


def test_a_link_without_a_code_gets_the_chinese_404_page(
    client: TestClient, session: Session, settings: Settings
) -> None:
    for path in ("/i", "/i/"):
        response = client.get(path, headers={"User-Agent": ANDROID_CHROME}, follow_redirects=False)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "找不到这张海报" in response.text and 'lang="zh-CN"' in response.text


def test_the_lists_are_paged(client: TestClient, session: Session, settings: Settings) -> None:
    admin = make_staff(session)
    made = [make_poster(session, admin, channel=f"渠道{n}").code for n in range(3)]
    page = client.get(ADMIN, params={"size": 2, "page": 2}, headers=auth_headers(admin)).json()
    assert (page["total"], page["page"], page["size"]) == (3, 2, 2)
    assert [p["code"] for p in page["items"]] == made[:1]  # newest first
    village = client.get(ADMIN, params={"village_code": HUANGLIU}, headers=auth_headers(admin))
    assert village.json()["total"] == 0


def test_the_scan_pages_404_is_the_documented_html_page(client: TestClient) -> None:
    response = client.get("/i/nosuchcd", headers={"User-Agent": ANDROID_CHROME})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    documented = client.get("/openapi.json").json()["paths"]["/i/{code}"]["get"]["responses"]
    assert list(documented["404"]["content"]) == ["text/html"]
