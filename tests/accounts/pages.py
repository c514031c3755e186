"""Reading pages and mails as a person would."""

import re


def visible_text(response):
    """What a person reads on the page: the text between tags, whitespace collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def link_in(message):
    """The path of the first link to this site in a mail."""
    return re.search(r"http://testserver(/\S+)", message.body).group(1)
