"""Articles and 通报曝光 cases for `lianyun demo`: 12 articles across the four columns (one
scheduled for next week) and 10 cases in the seeds' patterns (虚报冒领, 优亲厚友, 截留挪用,
吃拿卡要), several in 西兴镇黄柳村, one whose naming period is over. Every name is made up,
with surnames the mock feed never gives (no villager of the demo shares one). Made through the
services (so every rule holds, all audited). Loaded once."""

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.articles import cases, service
from app.articles.models import Article, ArticleColumn
from app.articles.schemas import ArticleCreate, CaseCreate
from app.db.base import utcnow
from app.public_writes import today
from app.staff.models import Staff

XIXING, HUANGLIU, BAILONG, MAAN = "511923102000", "511923102205", "511923102206", "511923102202"
FOLOU, SANGUANZHAI, GAOSHI = "511923103000", "511923103204", "511923103202"
BAIYI, WENCHANG = "511923104000", "511923104004"

# (column, title, summary, body, days ago; a negative number: published that many days ahead)
ARTICLES: tuple[tuple[ArticleColumn, str, str, str, int], ...] = (
    (
        ArticleColumn.policy_news,
        "低保怎么申请？一张图看明白",
        "本人或家人到村委会提出申请，村里评议公示，镇里审核，县里审批。",
        "## 谁可以申请\n\n家庭人均收入低于当地低保标准、家庭财产符合规定的，都可以申请。\n\n"
        "## 怎么申请\n\n1. 到村委会或镇便民服务中心提出申请，填一张表；\n"
        "2. 村里入户调查，开评议会，结果在村务公开栏公示 7 天；\n"
        "3. 镇里审核，县民政局审批。\n\n"
        "申请不收任何费用。有人要你“打点”，请拨打 12388 举报。",
        60,
    ),
    (
        ArticleColumn.policy_news,
        "耕地地力保护补贴今年按实际种植面积发放",
        "补贴直接打到一卡通，不经过任何人的手。",
        "今年的耕地地力保护补贴，按各户实际种植的面积核定，打到“一卡通”账户。\n\n"
        "面积在村里公示，对面积有疑问的，公示期内可以向村委会或镇农业服务中心提出。"
        "补贴到账后可以在手机上查询，也可以到信用社打印明细。",
        45,
    ),
    (
        ArticleColumn.policy_news,
        "高龄津贴不用年年跑，手机刷脸就能认证",
        "80 岁以上老人每年认证一次，家人可以帮忙用手机办。",
        "80 岁以上的老人每年要做一次生存认证。现在不用跑到镇上，"
        "家里人用手机就能帮老人刷脸认证。\n\n"
        "不会操作的，可以请村里的廉政专干上门帮忙。认证完成后，津贴按月发到一卡通。",
        20,
    ),
    (
        ArticleColumn.warning,
        "一笔低保金背后的教训",
        "村主任把亲戚报成低保户，最后丢了职务、退回了钱。",
        "某村村委会主任王某，明知自己的弟弟家有车有房，仍在评议时替他说话，"
        "让他吃上了低保，三年领了八千多元。\n\n"
        "群众在村务公开栏看到名单后举报。经查属实，王某受到党内严重警告、政务撤职处分，"
        "违规领取的低保金全部退回。\n\n"
        "**低保是给困难群众的救命钱，不是村干部送人情的工具。**",
        50,
    ),
    (
        ArticleColumn.warning,
        "“雁过拔毛”要不得：代领补贴扣“手续费”被查处",
        "帮老人代领补贴，每次扣下几十元，积少成多，最终受到处分。",
        "某村文书替村里几位行动不便的老人代领养老金，每次都以“跑路费”“手续费”为名扣下几十元。"
        "几年下来，扣了一千多元。\n\n"
        "老人的子女回家过年时发现金额对不上，向镇纪委反映。文书受到党内警告处分，钱已全部退还。\n\n"
        "帮群众办事，一分钱也不能收。",
        35,
    ),
    (
        ArticleColumn.warning,
        "村会计挪用集体资金，一时糊涂毁了半辈子",
        "把村里的修路钱拿去还自己的账，被开除党籍并移送司法机关。",
        "某村会计李某管着村里的修路款。他做生意欠了债，就偷偷挪用了十二万元，"
        "想着过几个月还上。钱没能还上，路也停了工。\n\n"
        "村民们在院坝会上问起修路的钱，事情才露了出来。李某被开除党籍，移送司法机关依法处理。\n\n"
        "集体的钱是全村人的钱，动了就要付出代价。",
        12,
    ),
    (
        ArticleColumn.culture,
        "清风传家：老支书的三条家规",
        "不拿集体一分钱，不给亲戚开后门，办事要公开。",
        "西兴镇有位当了二十多年村支书的老人，给家里定了三条规矩：\n\n"
        "- 不拿集体一分钱；\n- 不给亲戚开后门；\n- 村里办事，账要摆到明处。\n\n"
        "他的儿子如今也在村里工作，这三条规矩一直写在堂屋的墙上。",
        40,
    ),
    (
        ArticleColumn.culture,
        "廉洁小故事：一筐鸡蛋退回去了",
        "群众送来的心意，村干部用一张收条和一声谢谢还了回去。",
        "张大娘的危房改造补助批下来了，她提着一筐鸡蛋到村委会，非要留下表表心意。\n\n"
        "村干部把鸡蛋送回了她家，还写了一张纸条：“补助是国家给的，不用谢我们。”"
        "这件小事在村里传开，大家都说：这样的干部，我们信得过。",
        25,
    ),
    (
        ArticleColumn.culture,
        "家风正，则民风淳",
        "好家风是最好的廉政教育。",
        "家是最小国，国是千万家。干部的家风，关系着党风政风，也影响着村风民风。\n\n"
        "管好自己，也管好家人，不让亲属打着自己的旗号办事，是每一位村干部的本分。",
        8,
    ),
    (
        ArticleColumn.work,
        "西兴镇召开问廉院坝会，现场回答群众关心的问题",
        "低保评议、修路进度、补贴发放，群众当面问，干部当面答。",
        "西兴镇在黄柳村村委会院坝召开问廉院坝会，一百多位村民参加。\n\n"
        "大家问得最多的是低保评议和村道修建进度。镇纪委和相关站所负责人一一作答，"
        "当场答不上的，承诺一个月内给出答复，并在村务公开栏公布。",
        30,
    ),
    (
        ArticleColumn.work,
        "全县开展惠民惠农资金专项检查",
        "重点查看补贴有没有按时足额发到群众手里。",
        "县纪委监委会同财政、民政、农业农村等部门，对全县惠民惠农资金发放情况开展专项检查。\n\n"
        "检查采取查账、入户走访、比对数据等方式，发现的问题将建立台账，逐项整改，整改结果向群众公开。",
        5,
    ),
    (
        ArticleColumn.work,
        "下周起，各村公开栏张贴新一期通报",
        "典型案例将在村民代表大会上宣读，在公开栏张贴。",
        "县纪委监委新一期典型案例通报将于下周发到各村。"
        "各村要在村民代表大会上宣读，并在村务公开栏张贴，让群众知道、让干部警醒。",
        -7,
    ),
)

_ISSUED = "县纪委监委"


def _case(
    number: str,
    township: str,
    village: str | None,
    name: str,
    post: str,
    problem: str,
    facts: str,
    *,
    days_ago: int,
    disciplines: list[str],
    category: str,
    involved: str | None = None,
    recovered: str | None = None,
    policy: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    on = today()
    published = on - timedelta(days=days_ago)
    return {
        "number": number,
        "published_on": published,
        "township_code": township,
        "village_code": village,
        "person_name": name,
        "post": post,
        "problem": problem,
        "facts": facts,
        "facts_on": published - timedelta(days=400),
        "discipline_on": published - timedelta(days=20),
        "amount_involved": involved,
        "amount_recovered": recovered,
        "disciplines": disciplines,
        "issued_by": _ISSUED,
        "tip_category": category,
        "policy_category": policy,
        **extra,
    }


def _cases() -> list[dict[str, Any]]:
    year = today().year
    return [
        _case(
            f"平纪通〔{year}〕1号",
            XIXING,
            HUANGLIU,
            "秦守仁",
            "村委会主任",
            "违规为亲属申报低保",
            "秦守仁在低保评议中隐瞒其弟家有车有房的情况，为其申报低保，违规领取低保金8640元。",
            days_ago=90,
            disciplines=["party_serious_warning", "gov_dismissal"],
            category="dibao",
            involved="8640",
            recovered="8640",
            policy="01",
            money_returned="8640",
            rectified=True,
            revisit_on=today() - timedelta(days=30),
            revisit_note="重新评议了全村低保户，名单已张榜公示",
        ),
        _case(
            f"平纪通〔{year}〕2号",
            XIXING,
            HUANGLIU,
            "钱有福",
            "村文书",
            "代领养老金时克扣“手续费”",
            "钱有福替5位行动不便的老人代领养老金，每次以“跑路费”为名扣下20至50元，共计1260元。",
            days_ago=60,
            disciplines=["party_warning"],
            category="funds",
            involved="1260",
            recovered="1260",
            policy="03",
        ),
        _case(
            f"平纪通〔{year - 1}〕9号",
            XIXING,
            HUANGLIU,
            "施德厚",
            "原村党支部书记",
            "截留挪用村道硬化资金",
            "施德厚将上级拨付的村道硬化资金5万元转入个人账户，用于偿还个人借款，致使工程停工4个月。",
            days_ago=420,
            disciplines=["party_expulsion", "judicial_transfer"],
            category="projects",
            involved="50000",
            recovered="50000",
            name_public_until=today() - timedelta(days=30),
        ),
        _case(
            f"平纪通〔{year}〕3号",
            XIXING,
            BAILONG,
            "沈正清",
            "村委会委员",
            "优亲厚友分配危房改造指标",
            "沈正清在危房改造对象评定中，把指标优先给了自己的表哥，而真正住危房的两户没有评上。",
            days_ago=45,
            disciplines=["admonishment"],
            category="funds",
            policy="08",
            rectified=True,
            revisit_on=today() - timedelta(days=10),
            revisit_note="两户困难群众已纳入今年的改造计划",
        ),
        _case(
            f"平纪通〔{year}〕4号",
            XIXING,
            MAAN,
            "孔长贵",
            "村会计",
            "虚报冒领耕地地力保护补贴",
            "孔长贵多报自家种植面积12亩，并以已外出多年的亲戚名义申报面积，冒领补贴3150元。",
            days_ago=30,
            disciplines=["party_warning", "gov_demerit"],
            category="funds",
            involved="3150",
            recovered="3150",
            policy="04",
        ),
        _case(
            f"平纪通〔{year}〕5号",
            XIXING,
            None,
            "郑文斌",
            "镇民政办工作人员",
            "办理救助时吃拿卡要",
            "郑文斌在审核临时救助申请时，多次暗示申请人“意思一下”，收受香烟、土鸡等财物折合860元。",
            days_ago=20,
            disciplines=["party_warning", "gov_major_demerit"],
            category="conduct",
            involved="860",
            recovered="860",
            policy="01",
        ),
        _case(
            f"平纪通〔{year}〕6号",
            FOLOU,
            SANGUANZHAI,
            "曹家旺",
            "村委会主任",
            "虚报冒领产业扶持资金",
            "曹家旺以虚构的养殖合作社名义申报产业扶持资金，骗取资金2万元，用于个人开支。",
            days_ago=75,
            disciplines=["party_probation", "gov_dismissal"],
            category="funds",
            involved="20000",
            recovered="15000",
        ),
        _case(
            f"平纪通〔{year}〕7号",
            FOLOU,
            GAOSHI,
            "韩明亮",
            "村党支部副书记",
            "侵占村集体土地租金",
            "韩明亮收取村集体土地出租租金后未入村集体账，用于个人开支，共计1.8万元。",
            days_ago=15,
            disciplines=["party_post_removal"],
            category="village_assets",
            involved="18000",
            recovered="18000",
        ),
        _case(
            f"平纪通〔{year}〕8号",
            BAIYI,
            WENCHANG,
            "褚光荣",
            "社区居委会副主任",
            "优亲厚友发放临时救助金",
            "褚光荣在发放临时救助金时，将不符合条件的3名亲属列入名单，违规发放救助金4500元。",
            days_ago=10,
            disciplines=["party_serious_warning"],
            category="dibao",
            involved="4500",
            recovered="4500",
            policy="01",
        ),
        _case(
            f"平纪通〔{year}〕9号",
            BAIYI,
            None,
            "卫国强",
            "镇农业服务中心工作人员",
            "在补贴审核中吃拿卡要",
            "卫国强在审核农机购置补贴时，以“材料不全”为由拖着不办，收受申请人红包1500元后才予以办理。",
            days_ago=3,
            disciplines=["gov_warning"],
            category="conduct",
            involved="1500",
            recovered="1500",
            policy="04",
        ),
    ]


def load_demo(session: Session, *, editor: Staff, commission: Staff) -> tuple[int, int]:
    """The demo's articles and cases; (0, 0) when the articles are there already."""
    if session.scalar(select(func.count()).select_from(Article)):
        return 0, 0
    now = utcnow()
    for column, title, summary, body, days_ago in ARTICLES:
        made = service.create_article(
            session,
            data=ArticleCreate(
                column=column,
                title=title,
                summary=summary,
                author="县纪委监委宣传部",
                body_markdown=body,
                publish_at=now - timedelta(days=days_ago),
            ),
            actor=editor,
        )
        service.publish_article(session, made.id, actor=editor)
    fields = _cases()
    for each in fields:
        made_case = cases.create_case(
            session, data=CaseCreate.model_validate(each), actor=commission
        )
        cases.publish_case(session, made_case.id, actor=commission)
    return len(ARTICLES), len(fields)
