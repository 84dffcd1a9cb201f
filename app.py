"""Entry point: page config, the shared sidebar, navigation over the pages."""
from pathlib import Path

import streamlit as st

from engine import access, i18n
from ui import auth, context

HERE = Path(__file__).resolve().parent
# Not "pages/": Streamlit treats a folder of that name beside the entry file
# as an old-style multipage app, and a direct link on a fresh server would
# then run the page without this file (no sidebar, file names as navigation).
PAGES = HERE / "views"

# (file, catalogue key of the title, icon, navigation group), in the order of a manager's month.
PAGE_TABLE = [
    ("overview.py", "nav.overview", ":material/dashboard:", "nav.group.base"),
    ("data.py", "nav.data", ":material/upload_file:", "nav.group.base"),
    ("scoring.py", "nav.scoring", ":material/tune:", "nav.group.value"),
    ("customers.py", "nav.customers", ":material/groups:", "nav.group.value"),
    ("profile.py", "nav.profile", ":material/person:", "nav.group.value"),
    ("rfm.py", "nav.rfm", ":material/grid_view:", "nav.group.value"),
    ("segments.py", "nav.segments", ":material/bubble_chart:", "nav.group.value"),
    ("risk.py", "nav.risk", ":material/warning:", "nav.group.action"),
    ("plan.py", "nav.plan", ":material/event_note:", "nav.group.action"),
    ("review.py", "nav.review", ":material/calendar_month:", "nav.group.action"),
    ("clv.py", "nav.clv", ":material/trending_up:", "nav.group.value"),
    ("audit.py", "nav.audit", ":material/history:", "nav.group.base"),
]

st.set_page_config(page_title="Customer tiering · 客户分级", page_icon=":material/leaderboard:",
                   layout="wide")
lang = context.language()
user = auth.gate(lang)   # the login, when users are configured; stops the run until then
# Only the pages the role may open exist for this session, so no link reaches another.
allowed = [row for row in PAGE_TABLE if access.may_open(user.role, row[0].removesuffix(".py"))]
groups: dict[str, list] = {}
for file, title_key, icon, group_key in allowed:
    page = st.Page(PAGES / file, title=i18n.t(title_key, lang), icon=icon,
                   url_path=file.removesuffix(".py"))
    groups.setdefault(i18n.t(group_key, lang), []).append(page)
first = next(iter(groups.values()))[0]
# Streamlit serves its default page at "/" only, so a link to /overview would find no page:
# the root is a hidden page that opens the first page, and every page keeps its own address.
home = st.Page(lambda: st.switch_page(first), title=first.title, url_path="home", default=True,
               visibility="hidden")
next(iter(groups.values())).append(home)
navigation = st.navigation(groups)
auth.no_login_note(user, lang)
context.sidebar()
auth.sidebar(user, lang)
navigation.run()
