"""云端话廉 for `lianyun demo`: 15 questions of the three kinds, answered, published and most of
them rated, over the last months; and three still open for the commission (one overdue, one
extended with its reason). Made through the service (so every rule holds), then dated back
to when each step would have happened. Loaded once."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import public_writes, workdays
from app.config import Settings
from app.forum import service
from app.forum.models import Question
from app.forum.schemas import (
    ANSWER_WORKING_DAYS,
    AssignCreate,
    ForumAnswerCreate,
    ForumExtensionCreate,
    ForumQuestionCreate,
)
from app.staff.models import Staff

SANGUANZHAI = "511923103204"  # 佛楼镇三官寨村
HUANGLIU = "511923102205"  # 西兴镇黄柳村
DALIANG = "511923104010"  # 白衣镇大梁社区
BAOBU = "511923126203"  # 大寨镇宝堡村
KAITAI = "511923126212"  # 大寨镇开泰村
LONGTAN = "511923001029"  # 同州街道龙潭社区


@dataclass(frozen=True)
class _Asked:
    kind: str
    village: str | None
    title: str  # the asker's own words: never public
    body: str
    public_title: str
    public_body: str
    unit: str
    answer: str
    days_ago: int
    working_days: int  # to the answer
    rating: int | None


ANSWERED = (
    _Asked(
        "consult",
        SANGUANZHAI,
        "我爸八十岁了高龄津贴怎么领",
        "我父亲今年满八十岁，听说有高龄津贴，要到哪里去办？要带些什么？",
        "年满八十岁的高龄津贴怎么申请",
        "村民咨询：家中老人今年年满八十岁，高龄津贴到哪里申请，需要带什么材料？",
        "县民政局",
        "年满 80 周岁、户籍在本县的老人都可以领高龄津贴。带老人的身份证、户口簿和社保卡，"
        "到村委会填一张申请表，村里报镇民政办审核，审核通过的次月起按月打到社保卡上。"
        "老人行动不便的，可以由家人代办，也可以请村干部上门办理。",
        150,
        3,
        5,
    ),
    _Asked(
        "consult",
        HUANGLIU,
        "低保多久复核一次",
        "我家吃低保三年了，这两年没人来看过，会不会哪天突然停了？",
        "低保多久复核一次，会不会突然停发",
        "村民咨询：家里享受低保几年了，低保多久复核一次？会不会没有通知就停发？",
        "县民政局",
        "低保实行动态管理：一般家庭每年复核一次，收入来源不固定的家庭每半年复核一次。"
        "复核时镇村干部会入户了解情况。如果要停发，镇里会先书面告诉您理由，"
        "您不服可以在 60 天内申请复议。没有书面通知就停发的，请拨打 12345 或 12388 反映。",
        130,
        2,
        5,
    ),
    _Asked(
        "consult",
        DALIANG,
        "耕地地力补贴打到哪张卡",
        "今年的耕地地力保护补贴发了没有？打到哪张卡上？我存折上没看到。",
        "耕地地力保护补贴打到哪里、什么时候发",
        "村民咨询：今年的耕地地力保护补贴是否已经发放，打到哪张卡上？",
        "县农业农村局",
        "耕地地力保护补贴每年发一次，按承包地的面积计算，统一打到户主的社会保障卡"
        "（一卡通）上，不再打到存折。今年的补贴已在 6 月发放。您可以在本应用的“补贴查询”里，"
        "用户主的身份证号和姓名查到每一笔；查不到的，请带身份证到镇农业服务中心核对。",
        110,
        4,
        4,
    ),
    _Asked(
        "consult",
        BAOBU,
        "孩子上大学有没有资助",
        "我家是脱贫户，孩子今年考上大学，学费交不起，有没有什么补助？",
        "脱贫家庭的孩子上大学有哪些资助",
        "村民咨询：脱贫户家庭的孩子今年考上大学，有哪些资助可以申请？",
        "县教育局",
        "可以申请三样：一是生源地信用助学贷款，每年最多可贷 1.6 万元（本科），在校期间不计利息，"
        "到县学生资助管理中心办理；二是入学后向学校申请国家助学金；三是脱贫家庭学生的"
        "“雨露计划”补助，每学期 1500 元，到镇里申请。开学前后都可以办，不要因为钱耽误上学。",
        95,
        5,
        5,
    ),
    _Asked(
        "consult",
        LONGTAN,
        "残疾人护理补贴标准",
        "我妈是一级残疾，护理补贴一个月多少钱？我们社区发的好像比别处少。",
        "重度残疾人护理补贴每月发多少",
        "居民咨询：一级残疾人的护理补贴每月标准是多少？各地是否一样？",
        "县残联",
        "重度残疾人护理补贴的对象是残疾等级为一级、二级且需要长期照护的残疾人，"
        "全县标准统一，每人每月 90 元（示例，以县里公布为准），按月打到社保卡。"
        "我们核对了您反映的情况：您母亲的补贴标准正确，但 9 月那笔因为换卡晚发了，10 月已补发。",
        60,
        6,
        4,
    ),
    _Asked(
        "suggest",
        SANGUANZHAI,
        "补贴公示贴在村委会里面看不到",
        "村里的补贴公示贴在村委会办公室里面，平时锁着门，我们根本看不到。建议贴到外面。",
        "建议把补贴公示栏设在村民看得到的地方",
        "村民建议：村里的惠民补贴公示贴在办公室里面，平时看不到，建议贴到室外公开栏。",
        "佛楼镇人民政府",
        "感谢您的建议。佛楼镇已要求各村把惠民惠农补贴公示张贴在村委会室外的公开栏，"
        "公示时间不少于 7 天，并拍照上报镇里备查。三官寨村已在村委会院坝新设了公开栏，"
        "同时在本应用的“晒账”里可以随时查看每月的发放明细。",
        140,
        4,
        5,
    ),
    _Asked(
        "suggest",
        HUANGLIU,
        "能不能在村里办社保卡",
        "社保卡坏了要跑到县城去补，老年人坐车很不方便，能不能在镇上或者村里办？",
        "建议在镇村就近补办社保卡",
        "村民建议：社保卡损坏后要到县城补办，老年人不方便，希望能在镇上或村里办理。",
        "县人力资源和社会保障局",
        "采纳。县人社局已在西兴镇等 12 个镇的便民服务中心开通社保卡即时制卡，"
        "带身份证当场就能补办，不收工本费。行动不便的老人可以请村代办员代办，"
        "新卡由村里送上门。",
        120,
        6,
        5,
    ),
    _Asked(
        "suggest",
        KAITAI,
        "公益性岗位名单也应该公示",
        "村里有几个公益性岗位，谁在干、一个月多少钱，大家都不知道，建议公示出来。",
        "建议公示公益性岗位人员和补贴",
        "村民建议：村里公益性岗位的人员名单和补贴标准应该公开。",
        "县就业服务管理局",
        "您的建议很好。公益性岗位人员的姓名（打码）、岗位和补贴标准，"
        "今后随每月的补贴发放一起在村务公开栏和本应用的“晒账”中公示。"
        "开泰村的岗位人员名单已于本月公示，有异议可以在公示页面点“这条不对”反映。",
        80,
        7,
        4,
    ),
    _Asked(
        "suggest",
        DALIANG,
        "问廉会能不能晚上开",
        "社区开问廉会都是白天，年轻人都在上班，能不能放在晚上或者周末？",
        "建议群众来问廉会安排在晚上或周末",
        "居民建议：群众来问廉会多在工作日白天召开，上班的居民参加不了，建议改在晚上或周末。",
        "白衣镇纪委",
        "采纳。从下个季度起，大梁社区的群众来问廉会改在周六上午召开，"
        "会前 3 天在社区公开栏和本应用上发通知。参加不了的，也可以在“云端话廉”留言，"
        "我们同样限期答复。",
        45,
        3,
        5,
    ),
    _Asked(
        "suggest",
        None,
        "查补贴的字太小",
        "手机上查补贴的页面字太小了，我们老年人看不清，能不能把字放大？",
        "建议补贴查询页面字体放大",
        "群众建议：手机上补贴查询页面的字太小，老年人看不清，希望放大。",
        "县纪委监委",
        "感谢建议。新版本已把查询结果的字号放大，金额和发放日期加粗显示；"
        "在手机“设置—显示—字体大小”里调大字号后，本应用会跟着变大。",
        30,
        2,
        None,
    ),
    _Asked(
        "complaint",
        SANGUANZHAI,
        "危房改造补助少发了",
        "我家去年做了危房改造，说好补两万，只拿到一万五，剩下的问村里说还没下来。",
        "反映农村危房改造补助未足额发放",
        "村民反映：去年完成危房改造，补助标准为 2 万元，实际只收到 1.5 万元。",
        "县住房和城乡建设局",
        "经核查，您家的危房改造补助共 2 万元，分两次拨付：竣工验收后拨付 1.5 万元，"
        "剩余 5000 元因镇里验收资料报送延误未及时拨付。县住建局已督促补齐资料，"
        "5000 元已于上月打到您的社保卡。佛楼镇对延误负有责任的工作人员已作批评教育。",
        160,
        7,
        4,
    ),
    _Asked(
        "complaint",
        HUANGLIU,
        "村干部办事要好处费",
        "去村里开证明，村文书说要给两百块钱“辛苦费”，不给就拖着不办。",
        "反映村干部开具证明索要费用",
        "村民反映：到村委会开具证明时，有村干部索要“辛苦费”，不给就拖延办理。",
        "西兴镇纪委",
        "经西兴镇纪委调查，反映的问题属实。涉事村干部已退还所收费用，"
        "镇纪委给予其党内警告处分，并在全镇通报。村里开具证明一律不收费，"
        "再遇到索要费用的，请拨打 12388 或在本应用匿名举报。",
        100,
        7,
        5,
    ),
    _Asked(
        "complaint",
        BAOBU,
        "养老金少了一个月",
        "我妈的城乡居民养老金，8 月份没有打到卡上，问了村里说不清楚。",
        "反映城乡居民基础养老金漏发一个月",
        "村民反映：家中老人 8 月的城乡居民基础养老金没有到账。",
        "县社会保险事业管理局",
        "经查，8 月您母亲的养老金因社保卡状态异常（长期未使用被冻结）退回。"
        "县社保局已为其解除冻结，8 月的养老金已于 9 月 15 日补发。"
        "今后卡有异常，银行会短信提示，也可以在本应用“补贴查询”中看到“已退回”。",
        75,
        5,
        3,
    ),
    _Asked(
        "complaint",
        KAITAI,
        "低保评议不开会",
        "我们村评低保从来不开群众会，都是几个干部说了算，评上的有的家里还有车。",
        "反映低保评议未召开村民代表会",
        "村民反映：村里评定低保未召开村民代表会议民主评议，部分享受低保的家庭条件较好。",
        "大寨镇人民政府",
        "大寨镇会同县民政局调查：开泰村今年的低保新增未按规定召开民主评议会，"
        "已责令重新评议并公示；对 3 户不符合条件的家庭停发低保，追回资金 1.2 万元。"
        "村党支部书记被诫勉谈话。评议结果公示 7 天，有异议可以向镇民政办反映。",
        50,
        7,
        4,
    ),
    _Asked(
        "complaint",
        LONGTAN,
        "退耕还林补助没见着",
        "我家有退耕还林地四亩，今年的补助一直没看到，打电话问了好几次没人管。",
        "反映退耕还林补助未到账",
        "居民反映：家中有退耕还林地，今年的补助一直未到账，多次电话询问无人答复。",
        "县林业局",
        "经县林业局核实，您家的退耕还林地今年补助已于 11 月 5 日发放，"
        "因户主变更未及时录入，打到了原户主（您父亲）的社保卡上。"
        "已为您办理户主变更，明年起打到您的卡上；电话无人答复的问题，已要求林业站公布值班电话。",
        20,
        4,
        None,
    ),
)
# still open for the commission: (question, days ago, an extension's reason or "")
OPEN = (
    (
        ForumQuestionCreate(
            kind="complaint",
            village_code=HUANGLIU,
            title="合作社分红一直不兑现",
            body="村集体合作社说好每年给入股的户分红，已经三年了一分钱没见着，账也不公开。",
        ),
        40,
        "",
    ),
    (
        ForumQuestionCreate(
            kind="consult",
            village_code=DALIANG,
            title="医保参保资助怎么办理",
            body="我家是低保户，听说交医保有资助，要自己去办还是自动扣减？",
        ),
        6,
        "需要与县医保局核对您家的参保资助记录，延长 3 个工作日答复。",
    ),
    (
        ForumQuestionCreate(
            kind="suggest",
            village_code=SANGUANZHAI,
            title="建议公开村里修路的账",
            body="村里去年修了两公里水泥路，花了多少钱、谁施工的，建议在公开栏贴出来。",
        ),
        1,
        "",
    ),
)


def _dated(question: Question, asked_on: date) -> None:
    question.asked_on = asked_on
    due = workdays.add_working_days(asked_on, ANSWER_WORKING_DAYS[question.kind])
    question.first_due_on = question.due_on = due


def load_demo(session: Session, *, actor: Staff, settings: Settings) -> int:
    """The demo questions; nothing when any question exists already. Returns those published."""
    if session.scalar(select(func.count()).select_from(Question)):
        return 0
    today = public_writes.today()
    published = 0
    for number, asked in enumerate(ANSWERED):
        data = ForumQuestionCreate(
            kind=asked.kind, village_code=asked.village, title=asked.title, body=asked.body
        )
        code = service.new_code(client=f"demo-{number}", settings=settings)
        service.ask(session, data=data, code=code)
        question = session.scalars(select(Question).order_by(Question.id.desc()).limit(1)).one()
        service.assign(
            session, question.id, data=AssignCreate(answerer_unit=asked.unit), actor=actor
        )
        service.answer(
            session,
            question.id,
            data=ForumAnswerCreate(
                answer=asked.answer,
                public_title=asked.public_title,
                public_body=asked.public_body,
            ),
            actor=actor,
        )
        service.publish(session, question.id, actor=actor)
        asked_on = today - timedelta(days=asked.days_ago)
        _dated(question, asked_on)
        replied_on = workdays.add_working_days(asked_on, asked.working_days)
        question.assigned_on = workdays.add_working_days(asked_on, 1)
        question.replied_on = replied_on
        question.reply_working_days = asked.working_days
        question.published_on = replied_on
        question.rating = asked.rating
        published += 1
    for number, (data, days_ago, reason) in enumerate(OPEN):
        code = service.new_code(client=f"demo-open-{number}", settings=settings)
        service.ask(session, data=data, code=code)
        question = session.scalars(select(Question).order_by(Question.id.desc()).limit(1)).one()
        _dated(question, today - timedelta(days=days_ago))
        if reason:
            service.assign(
                session, question.id, data=AssignCreate(answerer_unit="县医疗保障局"), actor=actor
            )
            service.extend(
                session,
                question.id,
                data=ForumExtensionCreate(working_days=3, reason=reason),
                actor=actor,
            )
    session.flush()
    return published
