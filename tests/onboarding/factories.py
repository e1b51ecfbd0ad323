from sqlalchemy.orm import Session

from app.config import Settings, get_settings
from app.onboarding import service
from app.onboarding.schemas import PosterCreate, PosterRead
from app.staff.models import Staff
from tests.factories import SANGUANZHAI

APK_URL = "https://download.example.cn/lianyun-1.4.2.apk"
APP_STORE_URL = "https://apps.apple.com/cn/app/id6450000000"
MINI_PROGRAM_URL = "https://wxaurl.cn/lianyunDemo1"
BASE_URL = "https://lianyun.example.cn"

ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 13; M2012K11AC) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.144 Mobile Safari/537.36"
)
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"
)
ANDROID_WECHAT = (
    "Mozilla/5.0 (Linux; Android 12; V2154A Build/SP1A.210812.003; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5061 "
    "MMWEBSDK/20230504 MMWEBID/2185 MicroMessenger/8.0.37.2380(0x2800255B) WeChat/arm64 "
    "Weixin NetType/4G Language/zh_CN ABI/arm64"
)
IPHONE_WECHAT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.40(0x1800282c) NetType/WIFI "
    "Language/zh_CN"
)
DESKTOP = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
# What the scan page links to, as environment variables (for a served app) and as settings.
LINK_ENV = {
    "LIANYUN_ANDROID_APK_URL": APK_URL,
    "LIANYUN_IOS_APP_STORE_URL": APP_STORE_URL,
    "LIANYUN_MINI_PROGRAM_URL": MINI_PROGRAM_URL,
}


def link_settings(**overrides: object) -> Settings:
    return get_settings().model_copy(
        update={
            "public_base_url": BASE_URL,
            "android_apk_url": APK_URL,
            "ios_app_store_url": APP_STORE_URL,
            "mini_program_url": MINI_PROGRAM_URL,
            **overrides,
        }
    )


def make_poster(
    session: Session,
    actor: Staff,
    *,
    village_code: str = SANGUANZHAI,
    channel: str = "村务公开栏",
    settings: Settings | None = None,
) -> PosterRead:
    return service.create_poster(
        session,
        data=PosterCreate(village_code=village_code, channel=channel),
        actor=actor,
        settings=settings or link_settings(),
    )
