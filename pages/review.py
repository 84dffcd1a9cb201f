"""Not yet available: this page arrives with its issue."""
from ui import context

context.not_yet("nav.review")
