/* infobarrier web admin: the sign-in page. */

import { $, ApiError, errorText, request, session } from "../kit.js";

// -- sign-in ------------------------------------------------------------------------------
export function initSignIn() {
  if (session.get()) {
    location.replace("/web/overview");
    return;
  }
  const params = new URLSearchParams(location.search);
  const notice = $("#signin-notice");
  if (params.has("expired")) {
    notice.textContent = "Your token is no longer valid: sign in again.";
    notice.hidden = false;
  } else if (params.has("signedout")) {
    notice.textContent = "You have signed out.";
    notice.hidden = false;
  }
  const form = $("#signin-form");
  const error = $("#signin-error");
  $("#signin-tenant").focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const tenant = $("#signin-tenant").value.trim().toLowerCase();
    const token = $("#signin-token").value.trim();
    if (!tenant || !token) {
      error.textContent = "Give both the tenant and a token.";
      return;
    }
    const button = $("#signin-submit");
    button.disabled = true;
    try {
      const overview = await request(tenant, token, "GET", "/overview");
      session.set({ tenant, token, role: overview.role });
      location.assign("/web/overview");
    } catch (err) {
      const status = err instanceof ApiError ? err.status : 0;
      error.textContent =
        status === 401
          ? "This token is unknown or revoked."
          : status === 404
            ? `The token does not belong to tenant "${tenant}" (or there is no such tenant).`
            : status === 403
              ? "This token's role cannot use the admin page: use an admin or auditor token."
              : `Sign-in failed: ${errorText(err)}`;
      $("#signin-token").select();
    } finally {
      button.disabled = false;
    }
  });
}
