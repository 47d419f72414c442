"""The product's settings as served in production, on a developer's loopback.

The environment is read exactly as in production (whimsy_project.settings, with DEBUG=1
only so that the loopback host, plain-HTTP cookies and uncollected static files are
accepted); then DEBUG is switched off, so that Django does not record every query and
the measured paths run as they do in production.
"""

from whimsy_project.settings import *  # noqa: F403

DEBUG = False
