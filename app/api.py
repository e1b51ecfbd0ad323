from fastapi import APIRouter

from app.articles.router import admin_router as articles_admin_router
from app.articles.router import image_router as article_images_router
from app.articles.router import router as articles_router
from app.audit.router import router as audit_router
from app.contacts.router import admin_router as contacts_admin_router
from app.contacts.router import router as contacts_router
from app.disclosures.router import admin_router as disclosures_admin_router
from app.disclosures.router import router as disclosures_router
from app.exams.router import admin_router as exams_admin_router
from app.exams.router import router as exams_router
from app.forum.router import admin_router as forum_admin_router
from app.forum.router import router as forum_router
from app.health.router import router as health_router
from app.inquiries.router import admin_router as inquiries_admin_router
from app.inquiries.router import router as inquiries_router
from app.onboarding.router import admin_router as onboarding_admin_router
from app.onboarding.router import landing_router
from app.policies.router import admin_router as policies_admin_router
from app.policies.router import router as policies_router
from app.regions.router import router as regions_router
from app.screening.router_flags import router as screening_flags_router
from app.screening.router_lists import router as screening_lists_router
from app.screening.router_objections import router as screening_objections_router
from app.screening.router_public import router as screening_public_router
from app.screening.router_runs import router as screening_runs_router
from app.staff.router import admin_router as staff_admin_router
from app.staff.router import auth_router
from app.subsidies.router import router as subsidies_router
from app.surveys.router import admin_router as surveys_admin_router
from app.surveys.router import router as surveys_router
from app.sync.router import router as sync_router
from app.tips.router import admin_router as tips_admin_router
from app.tips.router import router as tips_router
from app.web.router import router as web_router

# In the order FastAPI tries them for each request: the villagers' busiest first. Each router
# passed over costs a request a few microseconds (docs/performance.md#routers-on-the-app), so
# the H5 app's pages (out of the schema; no path of theirs is an API path) come second, not
# behind the 32 routers of the API.
ROUTERS: tuple[APIRouter, ...] = (
    subsidies_router,
    web_router,
    disclosures_router,
    screening_public_router,
    policies_router,
    regions_router,
    health_router,
    auth_router,
    staff_admin_router,
    audit_router,
    sync_router,
    screening_runs_router,
    policies_admin_router,
    tips_router,
    tips_admin_router,
    surveys_router,
    surveys_admin_router,
    inquiries_router,
    inquiries_admin_router,
    forum_router,
    forum_admin_router,
    onboarding_admin_router,
    landing_router,
    screening_objections_router,
    screening_flags_router,
    screening_lists_router,
    contacts_router,
    contacts_admin_router,
    disclosures_admin_router,
    exams_router,
    exams_admin_router,
    articles_router,
    article_images_router,
    articles_admin_router,
)

# Tried before all of them (app.routing.serve_first): the villagers' lookup and the probes'.
SERVED_FIRST = (("POST", "/api/v1/subsidies/lookup"), ("GET", "/healthz"))

TAGS = [
    {"name": "运行状态", "description": "存活、就绪与指标"},
    {"name": "地区", "description": "县、乡镇（街道）、村（社区）及其统计用区划代码"},
    {
        "name": "惠民政策",
        "description": "11 类惠民惠农政策：分类、中文搜索、详情；编辑起草、提交、发布、撤下，"
        "保留历史版本",
    },
    {
        "name": "宣传教育",
        "description": "政策宣传、警示教育、廉政文化、工作动态四个栏目的文章：中文搜索、图片、"
        "定时发布与撤下；编辑发布，乡镇工作人员可提出草稿",
    },
    {
        "name": "通报曝光",
        "description": "违纪违法典型案例按同一模板公开：处理方式、追回金额和通报回访；"
        "过了公开期限姓名只显示姓氏",
    },
    {"name": "补贴查询", "description": "村民凭身份证号和姓名查询本人的补贴发放"},
    {"name": "村务公示（晒账）", "description": "各村每月的补贴发放明细，姓名打码"},
    {"name": "登录", "description": "工作人员登录、刷新令牌、退出"},
    {"name": "工作人员管理", "description": "新建、停用、调整角色与辖区（县级管理员）"},
    {"name": "审计日志", "description": "工作人员的每一次写操作"},
    {"name": "数据同步", "description": "每晚从一卡通平台同步发放数据；问题记录与重放"},
    {
        "name": "疑点筛查",
        "description": "每次同步后和按需对发放数据逐条规则筛查，结果作为疑点交纪委监委复核",
    },
    {
        "name": "信访举报",
        "description": "匿名举报（不记录 IP、设备和时间，只记日期），凭 16 位回执码跟进和补充",
    },
    {"name": "举报处理", "description": "纪委监委受理、指派、备注、答复和办结举报"},
    {
        "name": "民意测评",
        "description": "对部门和干部的满意度测评：村民每台手机答一次（匿名），公布后可看统计结果；"
        "工作人员新建、开始、结束、公布、导出",
    },
    {
        "name": "阳光问廉",
        "description": "群众来问廉、干部述职质询会、村居巡检上提出的问题：公开编号、整改期限、"
        "整改时间线；群众扫码确认“已解决”才能销号；各乡镇的统计",
    },
    {
        "name": "阳光问廉管理",
        "description": "登记会议和问题、公开、添加进展、延期、记录群众代表确认、打印问题清单",
    },
    {
        "name": "云端话廉",
        "description": "向县纪委监委留言（咨询、建议、投诉），凭查询码看答复、评价；"
        "公开的留言和答复、每月答复率和答复用时",
    },
    {
        "name": "云端话廉办理",
        "description": "纪委监委交办、延期（公开理由）、答复、公开编辑后的留言，"
        "或转为举报、列入问廉清单；逾期未答复的留言",
    },
    {
        "name": "疑点处理",
        "description": "疑点筛查发现的疑点：列表、详情、确认或排除（须填写理由）、转为举报、"
        "各规则准确率、导出 Excel",
    },
    {
        "name": "干部亲属享受惠民政策公示",
        "description": "各村干部及其近亲属每年领到的补贴（姓名打码），及其占全村人数和金额的比例",
    },
    {
        "name": "疑点筛查",
        "description": "死亡人员、财政供养人员、干部及其近亲属名单的上传；各项目的单笔最高标准",
    },
    {
        "name": "找谁监督",
        "description": "各村公开的监督电话：乡镇纪委监督电话、县纪委监委举报电话、包片领导电话；"
        "工作人员登记和修改（记入审计日志）",
    },
    {
        "name": "云考堂",
        "description": "干部（考试账号）参加纪律规定考试：服务器抽题、计时，每道题的答案选好即存，"
        "换手机接着答；不用登录的练习模式（只记各题的匿名次数）",
    },
    {
        "name": "云考堂管理",
        "description": "题库导入（CSV、XLSX）、试卷（抽题规则、时限、次数、及格分、参考范围）、"
        "开放考试、各乡镇村和各题的考试情况",
    },
    {
        "name": "扫码安装",
        "description": "各村张贴的海报：二维码、可打印的 A4 海报；扫码落地页按手机类型给出"
        "安装方式，只按日期和手机类型计数（不记 IP 和设备）",
    },
]
