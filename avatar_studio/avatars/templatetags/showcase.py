"""``{% showcase_examples %}``: a few approved avatars as examples for visitors, on any page."""

from django import template

from .. import showcase

register = template.Library()


@register.inclusion_tag("avatars/_examples.html", takes_context=True)
def showcase_examples(context, count=showcase.EXAMPLE_COUNT):
    return {"examples": showcase.examples(count), "user": context.get("user")}
