"""Django's form renderer, with ``<select>`` written in Python.

Django renders every ``<option>`` of a select through two templates (the option and its
attributes): the 190 countries of the trends form cost about 10 ms of CPU per page view,
most of a cached analysis page. This renderer writes the same markup (the same context:
``widget.optgroups`` of ``Select.get_context``; the same escaping and boolean attributes)
directly, and leaves every other widget to the templates.
"""

from __future__ import annotations

from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

SELECT_TEMPLATES = frozenset({"django/forms/widgets/select.html"})


def _attrs(attrs: dict[str, Any]) -> str:
    """``django/forms/widgets/attrs.html``: in order; True is the bare name, False nothing."""
    out = []
    for name, value in attrs.items():
        if value is True:
            out.append(f" {name}")
        elif value is not False:
            out.append(f' {name}="{conditional_escape(str(value))}"')
    return "".join(out)


def render_select(widget: dict[str, Any]) -> SafeString:
    """``django/forms/widgets/select.html`` for ``widget`` (a ``Select.get_context`` dict)."""
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'<optgroup label="{conditional_escape(group_name)}">')
        for option in group_choices:
            parts.append(f'<option value="{conditional_escape(str(option["value"]))}"'
                         f'{_attrs(option["attrs"])}>{conditional_escape(option["label"])}'
                         "</option>")
        if group_name:
            parts.append("</optgroup>")
    parts.append("</select>")
    return mark_safe("\n".join(parts))  # noqa: S308 - every value above is escaped


class FastSelectRenderer(DjangoTemplates):
    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        if template_name in SELECT_TEMPLATES:
            return render_select(context["widget"])
        return super().render(template_name, context, request=request)
