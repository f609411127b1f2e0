"""The web admin page, served by ``infobarrier serve`` at ``/``.

Server-rendered page shells (Jinja2) and ES modules that call the JSON API with
``Authorization: Bearer <token>``: ``static/app.js`` starts the page's view
(``static/views/``, one module per page) over a small shared kit (``static/kit.js``,
``static/forms.js``), with no build step. The token is typed at sign-in and kept in the browser's
``sessionStorage`` only: never in a cookie, a URL or ``localStorage``, so the server
renders no tenant data itself. Every asset is served by the package (no CDN), under a
Content-Security-Policy that allows nothing else.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from infobarrier import __version__
from infobarrier.core.codes import ErrorCode
from infobarrier.http.errors import ApiError

HERE = Path(__file__).parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=str(HERE / "templates"))

#: Page slug -> (title, template): the navigation, in order.
PAGES: dict[str, tuple[str, str]] = {
    "overview": ("Overview", "overview.html"),
    "matrix": ("Matrix", "matrix.html"),
    "barriers": ("Segments & policies", "barriers.html"),
    "what-if": ("What-if", "whatif.html"),
    "explain": ("Explain", "explain.html"),
    "exceptions": ("Exceptions", "exceptions.html"),
    "history": ("Applications & audit", "history.html"),
}

#: Sent with every page: only our own script, styles and images; no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

router = APIRouter(include_in_schema=False)


def _page(request: Request, template: str, slug: str, title: str) -> HTMLResponse:
    response = templates.TemplateResponse(
        request,
        template,
        {
            "slug": slug,
            "title": title,
            "pages": [(s, t) for s, (t, _) in PAGES.items()],
            "version": __version__,
        },
    )
    response.headers.update(SECURITY_HEADERS)
    return response


@router.get("/", response_class=HTMLResponse)
def sign_in(request: Request) -> HTMLResponse:
    """Sign in with a tenant and an admin or auditor token."""
    return _page(request, "signin.html", "signin", "Sign in")


@router.get("/web", response_class=RedirectResponse)
def web_root() -> RedirectResponse:
    """The first page after sign-in."""
    return RedirectResponse("/web/overview", status_code=307)


@router.get("/web/{slug}", response_class=HTMLResponse)
def page(request: Request, slug: str) -> HTMLResponse:
    """One page of the admin: a shell the script fills from the JSON API."""
    if slug not in PAGES:
        raise ApiError(ErrorCode.NOT_FOUND, f"no page {slug!r}")
    title, template = PAGES[slug]
    return _page(request, template, slug, title)


def install(app: FastAPI) -> None:
    """Serve the pages and their static assets from ``app``."""
    app.include_router(router)
    app.mount("/web/static", StaticFiles(directory=STATIC), name="web-static")
