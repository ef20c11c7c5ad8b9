"""Nunjucks and Evals templates in the lab's syntax; chat message lists as prompt parts."""

from __future__ import annotations

import pytest
from lab.core.importers import expressions as ex
from lab.core.importers.messages import NotAPrompt, split_messages
from lab.core.importers.templates import nunjucks, rewrite


def test_nunjucks_variables_paths_comments_and_what_is_left_as_written():
    done = nunjucks("Hi {{ name }}, {{ user.address.city }} {{ items[0] }} {{ a['b'] }}"
                    "{# note #}{{ x | safe }}")
    assert done.text == "Hi {{name}}, {{user.address.city}} {{items.0}} {{a.b}}{{x}}"
    assert done.dotted == {"user.address.city", "items.0", "a.b"} and done.problems == []
    bad = nunjucks("{{ name | upper }} {% if vip %}VIP{% endif %} {{ 'lit' }}")
    assert bad.problems == ["{{ name | upper }}", "{% if vip %}", "{% endif %}", "{{ 'lit' }}"]
    assert bad.text.startswith("{{ name | upper }}")


def test_evals_templates_map_namespaces():
    done = rewrite("{{ item.q }} / {{item.meta.id}} / {{sample.output_text}}",
                   lambda p: "{{" + p[5:] + "}}" if p.startswith("item.") else None)
    assert done.text.startswith("{{q}} / {{meta.id}} / ")
    assert done.problems == ["{{sample.output_text}}"]


def test_message_lists_become_system_examples_and_user():
    parts = split_messages([
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "{{q}}"}])
    assert (parts.system, parts.user) == ("Be brief.", "{{q}}")
    assert [(e.input, e.output) for e in parts.examples] == [("Hi", "Hello.")]
    for messages, why in [
        ([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], "end with"),
        ([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], "alternate"),
        ([{"role": "tool", "content": "a"}], "role 'tool'"),
        ([{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}], "image_url"),
        ([{"role": "user", "content": "a", "name": "bob"}], "has name"),
    ]:
        with pytest.raises(NotAPrompt, match=why):
            split_messages(messages)


def test_templates_as_expressions():
    assert ex.template_expr("Hi {{name}}!") == "'Hi ' + vars['name'] + '!'"
    assert ex.template_expr("{{a}}") == "vars['a']"
    assert ex.promptfoo_python("context['vars']['x'] in output") == "vars['x'] in output"
    with pytest.raises(ex.NotAnExpression, match="uses context"):
        ex.promptfoo_python("context['prompt'] in output")
    assert ex.promptfoo_python("any(w in output for w in ['a', 'b'])") == \
        "any((w in output for w in ['a', 'b']))"
