"""What the OpenAPI document cannot state, told to schemathesis (SCHEMATHESIS_HOOKS names
this module in test_api_contract.py). Every rule here is also written in the operation's
description, for people."""

import os
import unicodedata

import schemathesis
from hypothesis import strategies as st

# chat.names.clean_display_name: no control, format, surrogate, private-use or unassigned
# characters (JSON Schema's regular expressions have no Unicode categories), 2-24
# characters once trimmed and inner whitespace collapsed.
_NAME_FORBIDDEN = ("Cc", "Cf", "Cs", "Co", "Cn")
schemathesis.openapi.format(
    "display-name",
    st.text(st.characters(exclude_categories=_NAME_FORBIDDEN), min_size=2, max_size=24).filter(
        lambda name: len(" ".join(name.split())) >= 2
        and not any(unicodedata.category(char) in _NAME_FORBIDDEN for char in name)
    ),
)


@schemathesis.hook
def map_cookies(ctx, cookies):
    """Django's CSRF check wants the csrftoken cookie beside the X-CSRFToken header; the
    session cookie is the documented security scheme, given in schemathesis.toml, so that
    schemathesis can also take it away."""
    return {**(cookies or {}), "csrftoken": os.environ["WHIMSY_CSRF_TOKEN"]}
