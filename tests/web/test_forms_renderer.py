"""The Python select renderer writes what Django's templates write (whitespace aside)."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates

from tiplab_web.core.forms_renderer import FastSelectRenderer

CHOICES = [("", "— any —"), ("ROU", "Romania"), ("a&b", "<b>bold</b> & \"quoted\""),
           (3, "three"), ("Europe", [("FRA", "France"), ("DEU", "Germany")])]


class Sample(forms.Form):
    one = forms.ChoiceField(choices=CHOICES, required=False)
    needed = forms.ChoiceField(choices=CHOICES)
    many = forms.MultipleChoiceField(choices=CHOICES, required=False)
    typed = forms.TypedChoiceField(choices=[(1, "one"), (2, "two")], coerce=int)


def _norm(html: str) -> str:
    return re.sub(r">\s+<", "><", str(html)).strip()


@pytest.mark.parametrize("data", [
    None, {"one": "ROU", "needed": "a&b", "many": ["FRA", "3"], "typed": "2"},
    {"one": "nonsense", "needed": "", "many": ["ROU", "a&b"]},
])
def test_same_markup_as_django(data):
    django_form = Sample(data, renderer=DjangoTemplates())
    fast_form = Sample(data, renderer=FastSelectRenderer())
    for name in Sample.base_fields:
        expected = _norm(django_form[name].as_widget())
        assert _norm(fast_form[name].as_widget()) == expected
        assert "<select" in expected


def test_the_setting_uses_it(settings):
    from django.forms.renderers import get_default_renderer

    assert settings.FORM_RENDERER.endswith("FastSelectRenderer")
    get_default_renderer.cache_clear()
    assert isinstance(get_default_renderer(), FastSelectRenderer)
    html = str(Sample({"one": "ROU"})["one"])
    assert '<option value="ROU" selected>Romania</option>' in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;" in html
