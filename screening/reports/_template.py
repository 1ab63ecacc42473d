"""The HTML report template (jinja2, autoescaped). Self-contained: inline CSS, images as data URIs."""

TEMPLATE = r"""<!DOCTYPE html>
<html lang="{{ 'zh-CN' if lang == 'zh' else 'en' }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="screening {{ version }}">
<title>{{ title }}</title>
<style>
:root { --ink:#212121; --muted:#616161; --line:#e0e0e0; --warn:#e65100; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei","Microsoft YaHei","PingFang SC","Hiragino Sans GB",system-ui,sans-serif;
       color: var(--ink); margin: 0 auto; max-width: 1060px; padding: 24px 32px 48px; line-height: 1.55; font-size: 15px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 8px; }
.meta { color: var(--muted); font-size: 13px; margin-bottom: 12px; }
.meta span { margin-right: 18px; white-space: nowrap; }
.disclaimer { background: #fff3e0; border-left: 5px solid var(--warn); padding: 10px 14px; margin: 14px 0; font-size: 14px; }
.confidential { background: #ffebee; border: 2px solid #c62828; color: #b71c1c; padding: 10px 14px; margin: 10px 0; font-weight: 600; }
.audience { display: inline-block; font-weight: 700; padding: 4px 12px; border-radius: 4px; margin: 6px 0; }
.audience.internal { background: #b71c1c; color: #fff; }
.audience.shared { background: #e3f2fd; color: #0d47a1; }
td.wrapc { white-space: normal; text-align: left; min-width: 12em; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 12px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; min-width: 150px; }
.card .num { font-size: 24px; font-weight: 700; }
.card .lab { color: var(--muted); font-size: 13px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
table { border-collapse: collapse; margin: 8px 0 4px; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: right; white-space: nowrap; }
th { background: #fafafa; font-weight: 600; }
th:first-child, td:first-child { text-align: left; }
td.sup { color: #9e9e9e; }
td.l { text-align: left; }
tr.flagged td { background: #fff8e1; }
tr.lvl-all td { font-weight: 600; }
.wrap { overflow-x: auto; }
.note { color: var(--muted); font-size: 12px; }
figure.chart { margin: 8px 0; }
figure.chart svg { max-width: 100%; height: auto; display: block; }
.student { border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; margin: 16px 0; page-break-before: always; }
.student h3 { margin-top: 4px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 6px 0; }
dt { color: var(--muted); }
dd { margin: 0; }
footer { margin-top: 40px; border-top: 1px solid var(--line); padding-top: 10px; font-size: 12px; color: var(--muted); }
code { font-size: 12px; word-break: break-all; }
@media print { body { max-width: none; padding: 0; } h2 { page-break-after: avoid; } }
</style>
</head>
<body>
<header>
<h1>{{ title }}</h1>
<div class="meta">
  <span>{{ t.generated }}：{{ generated }}</span>
  {% if screening_date %}<span>{{ t.screening_date }}：{{ screening_date }}</span>{% endif %}
  <span>{{ t.students }}：{{ n_students }}</span>
  <span>{{ t.rules }}：{{ rules_title }} ({{ rules_id }} v{{ rules_version }})</span>
  <span>{{ t.scales }}：{{ scales_text }}</span>
</div>
<div class="audience {{ 'internal' if internal else 'shared' }}">{{ audience_label }}</div>
{% if internal %}<div class="confidential">{{ t.confidential }} {{ t.audience_school_note }}</div>{% endif %}
<div class="disclaimer">{{ disclaimer }}</div>
</header>

<section>
<h2>{{ t.overview }}</h2>
<div class="cards">
{% for c in cards %}<div class="card"><div class="num">{% if c.colour %}<span class="swatch" style="background:{{ c.colour }}"></span>{% endif %}{{ c.value }}</div><div class="lab">{{ c.label }}</div></div>
{% endfor %}
</div>
<div class="wrap"><table>
<thead><tr><th>{{ t.tier }}</th><th>{{ t.n }}</th><th>{{ t.share }}</th><th>{{ t.ci }}</th></tr></thead>
<tbody>
{% for r in overview %}<tr><td>{% if r.colour %}<span class="swatch" style="background:{{ r.colour }}"></span>{% endif %}{{ r.label }}</td>
<td class="{{ r.cls }}">{{ r.n }}</td><td class="{{ r.cls }}">{{ r.prop }}</td><td class="{{ r.cls }}">{{ r.ci }}</td></tr>
{% endfor %}
</tbody></table></div>
</section>

{% if levels %}
<section>
<h2>{{ t.groups }}</h2>
{% for lv in levels %}
<h3>{{ lv.title }}</h3>
{% if lv.chart %}<figure class="chart" aria-label="{{ lv.title }}">{{ lv.chart }}</figure>{% else %}<p class="note">{{ lv.chart_note }}</p>{% endif %}
<div class="wrap"><table>
<thead><tr><th>{{ t.group }}</th><th>{{ t.n }}</th>{% for h in tier_heads %}<th><span class="swatch" style="background:{{ h.colour }}"></span>{{ h.label }}</th>{% endfor %}<th>{{ t.urgent }}</th><th>{{ t.ratio }}</th><th>{{ t.p_adj }}</th><th>{{ t.flagged }}</th></tr></thead>
<tbody>
{% for r in lv.rows %}<tr class="{{ 'flagged' if r.flag == t.yes else '' }} {{ 'lvl-all' if r.is_all else '' }}"><td>{{ r.label }}</td><td>{{ r.n }}</td>
{% for c in r.cells %}<td class="{{ c.cls }}">{{ c.text }}</td>{% endfor %}<td class="{{ r.urgent.cls }}">{{ r.urgent.text }}</td>
<td class="{{ r.ratio.cls }}">{{ r.ratio.text }}</td><td class="{{ r.p.cls }}">{{ r.p.text }}</td><td>{{ r.flag }}</td></tr>
{% endfor %}
</tbody></table></div>
<p class="note">{{ t.suppressed_note }}</p>
{% endfor %}
</section>
{% endif %}

<section>
<h2>{{ t.scores }}</h2>
{% for s in score_sections %}
<h3>{{ s.title }}</h3>
<figure class="chart" aria-label="{{ s.title }}">{{ s.chart }}</figure>
<div class="wrap"><table>
<thead><tr><th>{{ t.band }}</th><th>{{ t.n }}</th><th>{{ t.share }}</th><th>{{ t.ci }}</th></tr></thead>
<tbody>{% for r in s.rows %}<tr><td>{{ r.label }}</td><td class="{{ r.cls }}">{{ r.n }}</td><td class="{{ r.cls }}">{{ r.prop }}</td><td class="{{ r.cls }}">{{ r.ci }}</td></tr>{% endfor %}</tbody>
</table></div>
{% endfor %}
</section>

{% if risk_rows %}
<section>
<h2>{{ t.risk_groups }}</h2>
<div class="wrap"><table>
<thead><tr><th>{{ t.flag }}</th><th>{{ t.flag_n }}</th>{% for h in tier_heads %}<th><span class="swatch" style="background:{{ h.colour }}"></span>{{ h.label }}</th>{% endfor %}</tr></thead>
<tbody>{% for r in risk_rows %}<tr><td>{{ r.label }}</td><td class="{{ r.n_cls }}">{{ r.n }}</td>{% for c in r.cells %}<td class="{{ c.cls }}">{{ c.text }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table></div>
<p class="note">{{ t.suppressed_note }}</p>
</section>
{% endif %}

{% if workload_rows %}
<section>
<h2>{{ t.workload }}</h2>
<p class="note">{{ t.workload_note }}</p>
<div class="wrap"><table>
<thead><tr>{% for h in workload_heads %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for r in workload_rows %}<tr>{% for c in r %}<td{% if loop.index <= 2 %} class="l"{% endif %}>{{ c }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table></div>
{% for n in workload_needs %}<p><strong>{{ n }}</strong></p>{% endfor %}
{% for n in norm_notes %}<p class="note">{{ n }}</p>{% endfor %}
</section>
{% endif %}

{% if students is not none %}
<section>
<h2>{{ t.students_section }}</h2>
<div class="confidential">{{ t.confidential }}</div>
{% if not students %}<p>{{ t.no_students }}</p>{% endif %}
{% for s in students %}
<div class="student">
<div class="confidential">{{ t.confidential }}</div>
<h3>{{ t.student }} {{ s.ident }}</h3>
<dl>
{% for k, v in s.fields %}<dt>{{ k }}</dt><dd>{{ v }}</dd>
{% endfor %}
</dl>
{% for svg in s.trends %}<div class="chart">{{ svg }}</div>{% endfor %}
</div>
{% endfor %}
</section>
{% endif %}

{% for sec in extra_sections %}{{ sec }}
{% endfor %}
{% if lists is not none %}
<section>
<h2>{{ t.lists_section }}</h2>
<div class="confidential">{{ t.confidential }}</div>
{% for l in lists %}
<h3>{{ l.title }} ({{ l.rows|length if not l.note else l.note }})</h3>
{% if l.rows %}<div class="wrap"><table>
<thead><tr>{% for h in l.heads %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for r in l.rows %}<tr>{% for c in r %}<td class="wrapc">{{ c }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table></div>{% elif not l.note %}<p class="note">{{ t.no_students }}</p>{% endif %}
{% endfor %}
</section>
{% endif %}

<footer>
<h3>{{ t.methods }}</h3>
{% for m in methods %}<p>{{ m }}</p>{% endfor %}
<h3>{{ t.provenance }}</h3>
<p>{{ t.library }}: screening {{ version }} · {{ t.rules }}: {{ rules_id }} v{{ rules_version }} <code>{{ rules_hash }}</code></p>
{% for s in scale_prov %}<p>{{ s.id }} v{{ s.version }} <code>{{ s.hash }}</code></p>{% endfor %}
<p>{{ disclaimer }}</p>
</footer>
</body>
</html>
"""
