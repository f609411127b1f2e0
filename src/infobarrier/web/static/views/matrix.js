/* infobarrier web admin: Matrix: segments x segments, every cell with the policy that decided.
 *
 * It scales: the server sends each row's verdicts as a string of 1s and 0s (GET /matrix/grid,
 * a quarter of a megabyte at 500 segments) and explains a cell only when it is looked at
 * (GET /matrix/cell). Only the cells in view are in the DOM: the grid is redrawn from the
 * scroll position, its headers drawn at the edges so they stay in view. It is one keyboard
 * stop (an ARIA grid with aria-activedescendant): the arrow keys, Home/End, Page Up/Down and
 * Ctrl+Home/End move between cells; typing in "Find a segment" jumps to its row.
 */

import { $, aborted, api, capitalise, code, debounce, errorText, fill, h, muted, verdictBadge } from "../kit.js";
import { openedCells, openedNote } from "./exceptions-matrix.js";

const CELL = 32; // px per row and column (a 28 px cell and its gap)
const HEAD_W = 230; // the row headers' width
const HEAD_H = 150; // the column headers' height
const PAGE = 10; // rows or columns per Page Up/Down

export async function initMatrix() {
  const [data, opened] = await Promise.all([api("GET", "/matrix/grid"), openedCells()]);
  fill(
    "#matrix-epoch",
    data.epoch ? `Epoch #${data.epoch} · ${data.mode} mode` : `Never applied · ${data.mode} mode`,
  );
  const names = data.names;
  const n = names.length;
  const scroller = $("#matrix-grid");
  const detail = $("#cell-detail");
  const status = $("#matrix-find-status");
  const explained = new Map();
  let active = [0, 0];
  let pinned = null;
  let hover = null;
  let pending = null;

  const allowed = (i, j) => data.allowed[i].charCodeAt(j) === 49; // "1"
  const labelOf = (i, j) => `${names[i]} and ${names[j]}: ${allowed(i, j) ? "allowed" : "blocked"}`;

  const view = h("div.mx-view#matrix", {
    role: "grid",
    tabindex: "0",
    "aria-label": `Segment by segment verdicts, ${n} rows and ${n} columns`,
    "aria-rowcount": String(n + 1),
    "aria-colcount": String(n + 1),
    "aria-describedby": "cell-detail",
  });
  const space = h("div.mx-space", {}, view);
  space.style.width = `${HEAD_W + n * CELL}px`;
  space.style.height = `${HEAD_H + n * CELL}px`;
  scroller.style.height = `${Math.min(HEAD_H + n * CELL + 2, Math.max(320, innerHeight * 0.7))}px`;
  fill(scroller, space);

  // -- drawing --------------------------------------------------------------------------
  function place(el, x, y, w, hgt) {
    el.style.left = `${x}px`;
    el.style.top = `${y}px`;
    if (w) el.style.width = `${w}px`;
    if (hgt) el.style.height = `${hgt}px`;
    return el;
  }

  function cellNode(i, j, x) {
    const ok = allowed(i, j);
    const note = ok ? null : openedNote(opened, names[i], names[j]);
    const label = labelOf(i, j) + (note ? "; opened by an exception" : "");
    const el = h(
      `div.cell.${ok ? "cell-allow" : "cell-block"}`,
      {
        id: `mx-${i}-${j}`,
        role: "gridcell",
        "aria-colindex": String(j + 2),
        "aria-label": label,
        title: note ? `${label}. Opened by ${note.text}.` : label,
        dataset: { row: i, col: j, a: names[i], b: names[j] },
      },
      ok ? "✓" : "✕",
      note ? h("span.opened-mark", { "aria-hidden": "true", text: "⇄" }) : null,
    );
    if (note) {
      el.classList.add("cell-opened");
      el.dataset.exceptions = note.ids;
    }
    if (i === active[0] && j === active[1]) el.classList.add("cell-active");
    if (pinned && i === pinned[0] && j === pinned[1]) el.classList.add("pinned");
    return place(el, x, 2);
  }

  function draw() {
    const top = scroller.scrollTop;
    const left = scroller.scrollLeft;
    const width = scroller.clientWidth;
    const height = scroller.clientHeight;
    view.style.width = `${width}px`;
    view.style.height = `${height}px`;
    const r0 = Math.max(0, Math.floor(top / CELL));
    const r1 = Math.min(n, Math.ceil((top + height - HEAD_H) / CELL) + 1);
    const c0 = Math.max(0, Math.floor(left / CELL));
    const c1 = Math.min(n, Math.ceil((left + width - HEAD_W) / CELL) + 1);
    const [ai, aj] = hover || active;
    const rows = [];
    const head = h(
      "div.mx-row.mx-head-row",
      { role: "row", "aria-rowindex": "1" },
      place(
        h("div.mx-corner", { role: "columnheader", "aria-colindex": "1" }, "Segment (users)"),
        0,
        0,
        HEAD_W,
        HEAD_H,
      ),
    );
    for (let j = c0; j < c1; j++) {
      const x = HEAD_W + j * CELL - left;
      head.append(
        place(
          h(
            `div.col-head${j === aj ? ".hl" : ""}`,
            { role: "columnheader", "aria-colindex": String(j + 2), dataset: { col: j } },
            h("span", { text: names[j] }),
          ),
          x,
          0,
          CELL,
          HEAD_H,
        ),
      );
    }
    for (let i = r0; i < r1; i++) {
      const y = HEAD_H + i * CELL - top;
      const row = place(
        h("div.mx-row", { role: "row", "aria-rowindex": String(i + 2), dataset: { row: i } }),
        0,
        y,
        null,
        CELL,
      );
      for (let j = c0; j < c1; j++) row.append(cellNode(i, j, HEAD_W + j * CELL - left));
      row.append(
        place(
          h(
            `div.row-head${i === ai ? ".hl" : ""}`,
            { role: "rowheader", "aria-colindex": "1" },
            h("span.row-name", { text: names[i] }),
            h("span.row-count", { text: String(data.users[i]) }),
            h("span.row-policy", {
              text: data.policies[i] || (i === n - 1 ? "users in no segment" : "no policy"),
            }),
          ),
          0,
          0,
          HEAD_W,
          CELL,
        ),
      );
      rows.push(row);
    }
    view.replaceChildren(...rows, head);
    view.setAttribute("aria-activedescendant", `mx-${active[0]}-${active[1]}`);
  }

  let frame = 0;
  scroller.addEventListener("scroll", () => {
    if (!frame) {
      frame = requestAnimationFrame(() => {
        frame = 0;
        draw();
      });
    }
  });
  new ResizeObserver(() => draw()).observe(scroller);

  // -- the explanation of a cell ----------------------------------------------------------
  async function show(i, j) {
    const key = `${i},${j}`;
    if (pending) pending.abort();
    let cell = explained.get(key);
    if (!cell) {
      fill(detail, h("h2.cell-title", {}, names[i], h("span.arrow", { text: " ↔ " }), names[j]), muted("Explaining…"));
      const mine = new AbortController();
      pending = mine;
      try {
        cell = await api("GET", "/matrix/cell", undefined, { a: names[i], b: names[j] }, { signal: mine.signal });
      } catch (err) {
        if (!aborted(err) && !mine.signal.aborted) fill(detail, h("p.form-error", { text: errorText(err) }));
        return;
      }
      // A newer cell was asked for meanwhile: its answer draws the panel, not this one.
      if (mine.signal.aborted || !cell) return;
      explained.set(key, cell);
    }
    const note = cell.allowed ? null : openedNote(opened, names[i], names[j]);
    fill(
      detail,
      h("h2.cell-title", {}, names[i], h("span.arrow", { text: " ↔ " }), names[j]),
      h("p.verdict-line", {}, verdictBadge(cell.allowed)),
      h("p.reason", { text: capitalise(cell.reason) }),
      note ? h("p.exception-effect", { text: `Opened by ${note.text}.` }) : null,
      h(
        "dl.facts",
        {},
        h("dt", { text: "Policy" }),
        h("dd", {}, cell.policy ? cell.policy : muted("none")),
        h("dt", { text: "Code" }),
        h("dd", {}, code(cell.code)),
        h("dt", { text: "Users" }),
        h("dd", { text: `${cell.users_a} × ${cell.users_b}` }),
      ),
    );
  }
  const showSoon = debounce((i, j) => show(i, j), 80);

  /** Make (i, j) the active cell, scroll it into view, and explain it. */
  function activate(i, j, explain = true) {
    i = Math.max(0, Math.min(n - 1, i));
    j = Math.max(0, Math.min(n - 1, j));
    active = [i, j];
    const y = i * CELL;
    const x = j * CELL;
    const viewH = scroller.clientHeight - HEAD_H;
    const viewW = scroller.clientWidth - HEAD_W;
    if (y < scroller.scrollTop) scroller.scrollTop = y;
    else if (y + CELL > scroller.scrollTop + viewH) scroller.scrollTop = y + CELL - viewH;
    if (x < scroller.scrollLeft) scroller.scrollLeft = x;
    else if (x + CELL > scroller.scrollLeft + viewW) scroller.scrollLeft = x + CELL - viewW;
    draw();
    if (explain) showSoon(i, j);
  }

  view.addEventListener("keydown", (event) => {
    const [i, j] = active;
    const moves = {
      ArrowUp: [i - 1, j],
      ArrowDown: [i + 1, j],
      ArrowLeft: [i, j - 1],
      ArrowRight: [i, j + 1],
      PageUp: [i - PAGE, j],
      PageDown: [i + PAGE, j],
      Home: event.ctrlKey ? [0, 0] : [i, 0],
      End: event.ctrlKey ? [n - 1, n - 1] : [i, n - 1],
    };
    if (event.key in moves) {
      event.preventDefault();
      activate(...moves[event.key]);
    } else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      pinned = [i, j];
      draw();
      show(i, j);
    }
  });
  // A click focuses the grid on mousedown: redrawing then would replace the cell under the
  // pointer before its click, so only keyboard focus (Tab) redraws here.
  let pointing = false;
  view.addEventListener("mousedown", () => {
    pointing = true;
  });
  view.addEventListener("focus", () => {
    if (!pointing) activate(...active);
  });
  /** Mark the headers of (i, j) without redrawing (the cell under the pointer stays). */
  function highlight(i, j) {
    for (const el of view.querySelectorAll(".hl")) el.classList.remove("hl");
    view.querySelector(`.col-head[data-col="${j}"]`)?.classList.add("hl");
    view.querySelector(`.mx-row[data-row="${i}"] .row-head`)?.classList.add("hl");
  }
  view.addEventListener("mouseover", (event) => {
    const el = event.target.closest(".cell");
    if (!el) return;
    const next = [Number(el.dataset.row), Number(el.dataset.col)];
    if (hover && hover[0] === next[0] && hover[1] === next[1]) return;
    hover = next;
    highlight(...hover);
    if (pinned === null) showSoon(...hover);
  });
  view.addEventListener("mouseleave", () => {
    hover = null;
    highlight(...active);
    if (pinned) show(...pinned);
  });
  view.addEventListener("click", (event) => {
    pointing = false;
    const el = event.target.closest(".cell");
    if (!el) return;
    const i = Number(el.dataset.row);
    const j = Number(el.dataset.col);
    pinned = [i, j];
    active = [i, j];
    view.focus({ preventScroll: true });
    activate(i, j, false);
    show(i, j);
  });

  // -- find a segment ----------------------------------------------------------------------
  const search = $("#matrix-find");
  const find = () => {
    const text = search.value.trim().toLowerCase();
    if (!text) {
      status.textContent = "";
      return;
    }
    const k = names.findIndex((name) => name.toLowerCase().includes(text));
    if (k < 0) {
      status.textContent = "No segment matches.";
      return;
    }
    status.textContent = `${names[k]}: row ${k + 1} of ${n}.`;
    activate(k, active[1] === k ? k : active[1]);
  };
  search.addEventListener("input", debounce(find, 120));
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      find();
      view.focus();
    }
  });
  draw();
}
