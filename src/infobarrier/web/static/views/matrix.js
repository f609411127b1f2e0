/* infobarrier web admin: Matrix: segments x segments, every cell with the policy that decided. */

import { $, api, capitalise, code, fill, h, muted, verdictBadge } from "../kit.js";
import { markOpened, openedCells } from "./exceptions-matrix.js";

// -- matrix -------------------------------------------------------------------------------
export async function initMatrix() {
  const data = await api("GET", "/matrix");
  fill(
    "#matrix-epoch",
    data.epoch ? `Epoch #${data.epoch} · ${data.mode} mode` : `Never applied · ${data.mode} mode`,
  );
  const names = data.rows.map((r) => r.name);
  const detail = $("#cell-detail");
  let pinned = null;

  function show(i, j) {
    const row = data.rows[i];
    const cell = row.cells[j];
    fill(
      detail,
      h("h2.cell-title", {}, names[i], h("span.arrow", { text: " ↔ " }), names[j]),
      h(`p.verdict-line`, {}, verdictBadge(cell.allowed)),
      h("p.reason", { text: capitalise(cell.reason) }),
      h(
        "dl.facts",
        {},
        h("dt", { text: "Policy" }),
        h("dd", {}, cell.policy ? cell.policy : muted("none")),
        h("dt", { text: "Code" }),
        h("dd", {}, code(cell.code)),
        h("dt", { text: "Users" }),
        h("dd", { text: `${row.users} × ${data.rows[j].users}` }),
      ),
    );
  }

  const head = h(
    "tr",
    {},
    h("th.corner", { scope: "col" }, h("span", { text: "Segment (users)" })),
    names.map((name, j) =>
      h("th.col-head", { scope: "col", dataset: { col: j } }, h("span", { text: name })),
    ),
  );
  const body = data.rows.map((row, i) =>
    h(
      "tr",
      { dataset: { row: i } },
      h(
        "th.row-head",
        { scope: "row" },
        h("span.row-name", { text: row.name }),
        h("span.row-count", { text: String(row.users) }),
        row.policy
          ? h("span.row-policy", { text: row.policy })
          : h("span.row-policy", {
              text: i === data.rows.length - 1 ? "users in no segment" : "no policy",
            }),
      ),
      row.cells.map((cell, j) => {
        const label = `${row.name} and ${names[j]}: ${cell.allowed ? "allowed" : "blocked"}${
          cell.policy ? ` (policy ${cell.policy})` : ""
        }`;
        const button = h(
          `button.cell.${cell.allowed ? "cell-allow" : "cell-block"}`,
          {
            type: "button",
            title: `${label}. ${capitalise(cell.reason)}`,
            "aria-label": label,
            dataset: { row: i, col: j, a: row.name, b: names[j] },
          },
          cell.allowed ? "✓" : "✕",
        );
        const focus = () => {
          highlight(i, j);
          if (pinned === null) show(i, j);
        };
        button.addEventListener("mouseenter", focus);
        button.addEventListener("focus", focus);
        button.addEventListener("click", () => {
          pinned = [i, j];
          document.querySelectorAll(".cell.pinned").forEach((c) => c.classList.remove("pinned"));
          button.classList.add("pinned");
          highlight(i, j);
          show(i, j);
        });
        return h("td", {}, button);
      }),
    ),
  );
  const grid = h(
    "table.matrix#matrix",
    { "aria-describedby": "cell-detail" },
    h("caption.visually-hidden", { text: "Segment by segment verdicts" }),
    h("thead", {}, head),
    h("tbody", {}, body),
  );
  grid.addEventListener("mouseleave", () => {
    highlight(null, null);
    if (pinned) show(...pinned);
  });
  fill("#matrix-grid", grid);
  markOpened(grid, await openedCells());

  function highlight(i, j) {
    grid.querySelectorAll(".hl").forEach((el) => el.classList.remove("hl"));
    if (i === null) return;
    grid.querySelector(`tr[data-row="${i}"] .row-head`)?.classList.add("hl");
    grid.querySelector(`th[data-col="${j}"]`)?.classList.add("hl");
  }
}
