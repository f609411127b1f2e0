/* infobarrier web admin: a thin adapter over the JSON API, as ES modules (no build step).
 *
 * This entry point runs the view of the page (body[data-page]) once the user is signed in.
 * kit.js holds what every view shares (the session, DOM helpers, the API client), forms.js
 * the forms two views share, and views/ one module per page.
 *
 * The bearer token lives in sessionStorage only (this tab, until sign-out or close): it is
 * sent in the Authorization header, never in a cookie, a URL or localStorage. Every DOM
 * node is built with textContent (no innerHTML), so no data is ever parsed as HTML.
 */

import { $, ApiError, errorText, flash, session, signOut } from "./kit.js";
import { initAudit } from "./views/audit.js";
import { initBarriers } from "./views/barriers.js";
import { initDirectory } from "./views/directory.js";
import { initExceptions } from "./views/exceptions.js";
import { initExplain } from "./views/explain.js";
import { initHistory } from "./views/history.js";
import { initLicensing } from "./views/licensing.js";
import { initMatrix } from "./views/matrix.js";
import { initOverview } from "./views/overview.js";
import { initPeople } from "./views/people.js";
import { initSegment } from "./views/segment.js";
import { initSettings } from "./views/settings.js";
import { initSignIn } from "./views/signin.js";
import { initVendors } from "./views/vendors.js";
import { initWhatIf } from "./views/whatif.js";

// -- start --------------------------------------------------------------------------------
const PAGES = {
  overview: initOverview,
  matrix: initMatrix,
  barriers: initBarriers,
  "what-if": initWhatIf,
  explain: initExplain,
  people: initPeople,
  vendors: initVendors,
  segment: initSegment,
  exceptions: initExceptions,
  history: initHistory,
  directory: initDirectory,
  licensing: initLicensing,
  settings: initSettings,
  audit: initAudit,
};

async function start() {
  const page = document.body.dataset.page;
  if (page === "signin") {
    initSignIn();
    return;
  }
  const s = session.get();
  if (!s) {
    location.replace("/");
    return;
  }
  const admin = s.role === "admin";
  document.body.classList.toggle("read-only", !admin);
  $("#session-tenant").textContent = s.tenant;
  $("#session-role").textContent = s.role;
  $("#session-info").hidden = false;
  $("#sign-out").addEventListener("click", () => signOut("signedout"));
  const init = PAGES[page];
  if (!init) return;
  document.body.classList.add("loading");
  try {
    await init({ admin, tenant: s.tenant, role: s.role });
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) {
      flash(`Could not load this page: ${errorText(err)}`, "error");
    }
  } finally {
    document.body.classList.remove("loading");
    document.body.dataset.ready = "true";
  }
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else {
  start();
}
