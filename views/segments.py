"""Segments 客户分群: k-means groups of similar customers, their profiles and members."""
import streamlit as st

from report import charts
from ui import context, format
from ui.data import segments as segments_data
from ui.downloads import MIME
from ui.settings import scoring_settings

ctx = context.require()
t = ctx.t
st.title(t("segments.title"))
st.caption(t("segments.caption", as_of=ctx.as_of))

choices = segments_data.segment_feature_choices(ctx.db, ctx.version, ctx.as_of, ctx.lang)
defaults = [c for c in segments_data.SEGMENT_FEATURES if c in choices]
columns = st.multiselect(t("segments.features"), list(choices), default=defaults,
                         format_func=choices.get, key="segments.features",
                         help=t("segments.features_help"))
left, right = st.columns(2)
manual = left.radio(t("segments.k_mode"), [False, True], horizontal=True, key="segments.manual",
                    format_func=lambda m: t("segments.k_manual" if m else "segments.k_auto"))
k = right.slider(t("segments.k"), 2, 10, 4, key="segments.k") if manual else None
if len(columns) < 2:
    st.info(t("segments.need_two"))
    st.stop()
columns = tuple(columns)
try:
    view = segments_data.segment_view(ctx.db, ctx.version, ctx.as_of, columns, k, ctx.lang,
                             scoring_settings(), _progress_text=t("segments.running"))
except ValueError:
    st.info(t("segments.too_few"))
    st.stop()
labels = view["labels"]

cards = st.columns(3)
cards[0].metric(t("segments.kpi.k"), view["k"], border=True,
                delta=t("segments.kpi.k_auto" if view["auto"] else "segments.kpi.k_manual"),
                delta_color="off", delta_arrow="off")
silhouette = view["silhouette"]
cards[1].metric(t("segments.kpi.silhouette"), f"{silhouette:.2f}" if silhouette == silhouette else "—",
                help=t("segments.kpi.silhouette_help", n=view["silhouette_rows"]), border=True)
cards[2].metric(t("segments.kpi.customers"), f"{view['customers']:,}", border=True, delta_color="off",
                delta_arrow="off",
                delta=t("segments.kpi.fit_rows", n=view["fit_rows"]) if view["fit_rows"] < view["customers"]
                else t("segments.kpi.fit_all"))

st.subheader(t("segments.curve.title"))
st.plotly_chart(charts.elbow_silhouette(view["curve"], chosen=view["k"], inertia=t("segments.curve.inertia"),
                                        silhouette=t("segments.curve.silhouette"),
                                        k_title=t("segments.curve.k"),
                                        chosen_text=t("segments.curve.chosen", k=view["k"])))

st.subheader(t("segments.table.title"))
headers = {c: t(f"segments.table.{c}") for c in ("segment", "customers", "customer_share", "revenue",
                                                 "revenue_share", "next_step")}
overview = view["overview"]
st.table(format.wrapping_table(
    overview.assign(revenue=overview["revenue"].map(
        lambda v: format.money(v, ctx.lang, ctx.currency))), headers,
    {"customers": "{:,}", "customer_share": "{:.1%}", "revenue_share": "{:.1%}"}))
st.caption(t("segments.table.next_step_note"))

st.subheader(t("segments.heatmap.title"))
st.plotly_chart(charts.profile_heatmap(view["heatmap"], value_title=t("segments.heatmap.value")))

st.subheader(t("segments.scatter.title"))
pair = st.radio(t("segments.scatter.axes"), [False, True], horizontal=True, key="segments.pair",
                format_func=lambda p: t("segments.scatter.pair" if p else "segments.scatter.pca"))
x = y = None
if pair:
    a, b = st.columns(2)
    x = a.selectbox(t("segments.scatter.x"), columns, format_func=choices.get, key="segments.x")
    y = b.selectbox(t("segments.scatter.y"), columns, index=1, format_func=choices.get, key="segments.y")
scatter = segments_data.segment_scatter(ctx.db, ctx.version, ctx.as_of, columns, k, x, y)
titles = ([choices[x], choices[y]] if pair else
          [t("segments.scatter.pc", n=i + 1, share=scatter["ratio"][i]) for i in (0, 1)])
st.plotly_chart(charts.segment_scatter(scatter["points"], labels=labels, x_title=titles[0],
                                       y_title=titles[1]))
if len(scatter["points"]) < scatter["total"]:
    st.caption(t("segments.scatter.sampled", shown=len(scatter["points"]), total=scatter["total"]))

st.subheader(t("segments.crosstab.title"))
st.caption(t("segments.crosstab.caption"))
st.dataframe(view["crosstab"].rename_axis(t("segments.table.segment")),
             column_config={c: st.column_config.NumberColumn(format="localized")
                            for c in view["crosstab"].columns})

st.subheader(t("segments.download.title"))
chosen = st.selectbox(t("segments.download.segment"), [0, *labels], key="segments.download",
                      format_func=lambda s: labels.get(s, t("segments.download.all"))) or None
size = view["customers"] if chosen is None else int(view["overview"]["customers"].iloc[chosen - 1])
st.caption(t("segments.download.count", n=size))
buttons = st.columns(2, width=420)
for column, (kind, mime) in zip(buttons, MIME.items()):
    column.download_button(
        t(f"common.download_{kind}"), file_name=f"segments_{ctx.as_of}_{chosen or 'all'}.{kind}",
        mime=mime, on_click="ignore",
        data=lambda kind=kind: segments_data.segment_members_file(ctx.db, ctx.version, ctx.as_of, columns, k,
                                                                  chosen, ctx.lang, kind))
