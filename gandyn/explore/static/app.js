// gandyn explore: the page's program. The game's field, its derivatives and logged losses
// come from GANDYN_VARIANTS (printed from gandyn's sympy expressions); the update rules
// (GandynRules, static/rules.js) follow gandyn/rules/ formula for formula, so that the
// page's trajectories equal gandyn's Python ones to rounding.
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("gandyn-data").textContent);
  const VARIANTS = GANDYN_VARIANTS;
  const LOGIT = GANDYN_LOGIT;
  // The update rules, their map Jacobians and the eigenvalues: static/rules.js.
  const R = GandynRules;
  const { eigenvalues, spectralRadius, outside } = R;

  function resolvedSettings(rule, given) {
    const out = {};
    for (const s of (DATA.rules[rule] || { settings: [] }).settings) {
      out[s.name] = given && given[s.name] !== undefined ? given[s.name] : s.default;
    }
    return out;
  }

  function paramsOf(config) {
    const p = {};
    for (const e of DATA.parameters) { p[e.name] = e.value; }
    return Object.assign(p, config.params || {});
  }

  // One run: the states and the three logged losses at every step (measure "state").
  // The flow is integrated by classical RK4 with `substeps` steps per lr_g of time (not
  // scipy's adaptive RK45), on the generator's clock with lr_d/lr_g on psi.
  function simulate(config) {
    const variant = VARIANTS[config.loss + "|" + config.regularizer];
    if (!variant) { throw new Error("no such loss and regularizer: " + config.loss + "|" + config.regularizer); }
    const p = paramsOf(config);
    const F = (x) => variant.field(x, p);
    const h = [config.lrG, config.lrD];
    const maxNorm = config.maxNorm || DATA.maxNorm;
    let x = config.x0.slice();
    const xs = [x], logged = { d_real: [], d_fake: [], g_loss: [] };
    const record = (state) => {
      const l = variant.logged(state, p);
      logged.d_real.push(l[0]); logged.d_fake.push(l[1]); logged.g_loss.push(l[2]);
    };
    record(x);
    let divergedAt = outside(x, maxNorm) ? 0 : null;
    if (config.rule === "flow") {
      const sub = config.substeps || DATA.flowSubsteps, dt = config.lrG / sub;
      const scale = [1, config.lrD / config.lrG];
      const G = (y) => F(y).map((fi, i) => scale[i] * fi);
      for (let k = 1; k <= config.steps && divergedAt === null; k++) {
        for (let j = 0; j < sub; j++) {
          const k1 = G(x), k2 = G(x.map((xi, i) => xi + dt / 2 * k1[i]));
          const k3 = G(x.map((xi, i) => xi + dt / 2 * k2[i])), k4 = G(x.map((xi, i) => xi + dt * k3[i]));
          x = x.map((xi, i) => xi + dt / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]));
        }
        if (outside(x, maxNorm)) { divergedAt = k; break; }
        xs.push(x); record(x);
      }
    } else if (divergedAt === null) {
      const s = resolvedSettings(config.rule, config.settings);
      const done = R.run(config.rule, R.gameAt(variant, p), x, config.steps, h, s, maxNorm);
      for (const y of done.x.slice(1)) { xs.push(y); record(y); }
      divergedAt = done.divergedAt;
    }
    return { x: xs, logged, divergedAt };
  }

  // ---- equilibria: Newton's method from a grid of seeds ---------------------------------
  function equilibria(variant, p) {
    const v = DATA.view, found = [];
    const spanX = v.xmax - v.xmin, spanY = v.ymax - v.ymin;
    for (let a = 0; a <= 8; a++) {
      for (let b = 0; b <= 8; b++) {
        let x = [v.xmin + spanX * a / 8, v.ymin + spanY * b / 8];
        let ok = false;
        // Newton steps until the step is at rounding level; accepted where |F| is tiny.
        for (let it = 0; it < 80; it++) {
          const f = variant.field(x, p), J = variant.jacobian(x, p);
          if (!f.every(Number.isFinite)) { break; }
          const det = J[0] * J[3] - J[1] * J[2];
          if (!Number.isFinite(det) || Math.abs(det) < 1e-300) { ok = Math.hypot(f[0], f[1]) < 1e-12; break; }
          const dx = [(J[3] * f[0] - J[1] * f[1]) / det, (-J[2] * f[0] + J[0] * f[1]) / det];
          x = [x[0] - dx[0], x[1] - dx[1]];
          if (Math.hypot(dx[0], dx[1]) <= 1e-15 * (1 + Math.hypot(x[0], x[1]))) {
            const r = variant.field(x, p); ok = Math.hypot(r[0], r[1]) < 1e-10; break;
          }
        }
        if (!ok || x[0] < v.xmin - 0.1 * spanX || x[0] > v.xmax + 0.1 * spanX ||
            x[1] < v.ymin - 0.1 * spanY || x[1] > v.ymax + 0.1 * spanY) { continue; }
        if (found.some((e) => Math.hypot(e.x[0] - x[0], e.x[1] - x[1]) < 1e-6 * (1 + Math.hypot(x[0], x[1])))) { continue; }
        found.push({ x: x.map((xi) => (Math.abs(xi) < 1e-13 ? 0 : xi)) });
      }
    }
    return found;
  }
  function flowJacobian(variant, x, p, lrRatio) {
    const j = variant.jacobian(x, p);
    return [[j[0], j[1]], [lrRatio * j[2], lrRatio * j[3]]];
  }
  function classify(eigs) {
    const tol = 1e-10;
    const re = eigs.map((z) => z[0]);
    if (re.every((r) => r < -tol)) { return "stable"; }
    if (re.every((r) => r > tol)) { return "unstable"; }
    if (re.some((r) => r < -tol) && re.some((r) => r > tol)) { return "saddle"; }
    return "marginal";
  }

  // ---- page state and controls ---------------------------------------------------------
  const state = {
    loss: DATA.defaults.loss, regularizer: DATA.defaults.regularizer, rule: DATA.defaults.rule,
    lrG: DATA.defaults.lrG, lrD: DATA.defaults.lrD, steps: DATA.defaults.steps,
    x0: DATA.start.slice(), params: {}, settings: {}, cursor: 0, playing: false,
  };
  for (const e of DATA.parameters) { state.params[e.name] = e.value; }
  let run = null, eq = [];
  const $ = (id) => document.getElementById(id);
  const fmt = (v) => (Number.isFinite(v) ? Number(v.toPrecision(6)).toString() : String(v));

  function config() {
    return { loss: state.loss, regularizer: state.regularizer, rule: state.rule, lrG: state.lrG,
             lrD: state.lrD, steps: state.steps, x0: state.x0.slice(), params: Object.assign({}, state.params),
             settings: resolvedSettings(state.rule, state.settings) };
  }

  function option(select, value, text) {
    const o = document.createElement("option"); o.value = value; o.textContent = text; select.appendChild(o);
  }
  function numberInput(parent, id, label, value, onChange, opts) {
    const row = document.createElement("label"); row.className = "row"; row.htmlFor = id;
    row.appendChild(document.createTextNode(label + " "));
    if (opts && opts.slider) {
      const r = document.createElement("input"); r.type = "range"; r.id = id + "-slider";
      r.min = opts.slider[0]; r.max = opts.slider[1]; r.step = opts.slider[2];
      r.value = opts.log ? Math.log10(value) : value;
      r.addEventListener("input", () => {
        const v = opts.log ? 10 ** Number(r.value) : Number(r.value);
        n.value = fmt(v); onChange(v);
      });
      row.appendChild(r);
    }
    const n = document.createElement("input"); n.type = "number"; n.id = id; n.step = "any"; n.value = value;
    n.addEventListener("input", () => {
      if (n.value === "" && opts && opts.optional) { onChange(null); return; }
      const v = Number(n.value);
      if (n.value !== "" && Number.isFinite(v) && (!opts || !opts.positive || v > 0)) {
        const r = $(id + "-slider"); if (r) { r.value = opts.log ? Math.log10(v) : v; }
        onChange(v);
      }
    });
    row.appendChild(n); parent.appendChild(row);
    return n;
  }

  function buildControls() {
    const loss = $("loss"), reg = $("reg"), rule = $("rule");
    for (const l of DATA.losses) { option(loss, l, l === "-" ? "(the game's own costs)" : l); }
    if (DATA.losses.length === 1) { loss.disabled = true; }
    for (const r of DATA.regularizers) { option(reg, r, r); }
    for (const r of Object.keys(DATA.rules)) { option(rule, r, r + ": " + DATA.rules[r].title); rule.lastChild.title = DATA.rules[r].reference; }
    loss.value = state.loss; reg.value = state.regularizer; rule.value = state.rule;
    loss.addEventListener("change", () => { state.loss = loss.value; update(); });
    reg.addEventListener("change", () => { state.regularizer = reg.value; update(); });
    rule.addEventListener("change", () => { state.rule = rule.value; buildSettings(); update(); });
    const rates = $("rates");
    numberInput(rates, "lr-g", "lr_g (generator)", state.lrG, (v) => { state.lrG = v; update(); }, { slider: [-4, 0.5, 0.01], log: true, positive: true });
    numberInput(rates, "lr-d", "lr_d (discriminator)", state.lrD, (v) => { state.lrD = v; update(); }, { slider: [-4, 0.5, 0.01], log: true, positive: true });
    numberInput(rates, "steps", "steps", state.steps, (v) => { if (Number.isInteger(v) && v >= 1 && v <= 100000) { state.steps = v; update(); } });
    numberInput(rates, "x0-0", DATA.stateNames[0] + "(0)", state.x0[0], (v) => { state.x0[0] = v; update(); });
    numberInput(rates, "x0-1", DATA.stateNames[1] + "(0)", state.x0[1], (v) => { state.x0[1] = v; update(); });
    buildParams(); buildSettings();
    $("play").addEventListener("click", play);
    $("pause").addEventListener("click", () => { state.playing = false; });
    $("step").addEventListener("click", () => { state.playing = false; state.cursor = Math.min(state.cursor + 1, run.x.length - 1); draw(); });
    $("reset").addEventListener("click", () => { state.playing = false; state.cursor = 0; draw(); });
    $("portrait").addEventListener("click", (ev) => {
      const c = $("portrait"), box = c.getBoundingClientRect();
      // Inside the border: the canvas's pixels start at clientLeft/clientTop.
      const px = (ev.clientX - box.left - c.clientLeft) * c.width / c.clientWidth;
      const py = (ev.clientY - box.top - c.clientTop) * c.height / c.clientHeight;
      const x = fromPixel(c, px, py);
      state.x0 = x; $("x0-0").value = fmt(x[0]); $("x0-1").value = fmt(x[1]); update();
    });
  }
  function buildParams() {
    const box = $("params"); box.textContent = "";
    const used = new Set(DATA.variantParams[state.loss + "|" + state.regularizer]);
    for (const e of DATA.parameters) {
      if (!used.has(e.name)) { continue; }
      const top = Math.max(5, 4 * Math.abs(e.value));
      const input = numberInput(box, "param-" + e.name, e.name, state.params[e.name], (v) => { state.params[e.name] = v; update(); },
        { slider: [e.nonNegative ? 0 : -top, top, top / 200] });
      input.title = e.doc;
    }
  }
  function buildSettings() {
    const box = $("settings"); box.textContent = "";
    if (state.rule === "flow") {
      const note = document.createElement("p"); note.className = "note";
      note.textContent = "The page integrates the flow by RK4 with " + DATA.flowSubsteps +
        " steps per lr_g of time; gandyn uses scipy's adaptive solve_ivp, so the two agree to the integrators' errors, not to rounding.";
      box.appendChild(note); return;
    }
    for (const s of DATA.rules[state.rule].settings) {
      const id = "setting-" + s.name;
      const value = state.settings[s.name] !== undefined ? state.settings[s.name] : s.default;
      if (typeof s.default === "string") {
        const row = document.createElement("label"); row.className = "row";
        row.appendChild(document.createTextNode(s.name + " "));
        const sel = document.createElement("select"); sel.id = id;
        for (const v of ["d", "g"]) { option(sel, v, v); }
        sel.value = value; sel.title = s.meaning;
        sel.addEventListener("change", () => { state.settings[s.name] = sel.value; update(); });
        row.appendChild(sel); box.appendChild(row);
      } else {
        // A setting whose default is null (a rate that defaults to the players' own) is
        // reset to null by clearing its box; values the rule refuses are not applied.
        const input = numberInput(box, id, s.name, value === null ? "" : value, (v) => {
          if (R.acceptable(s.name, v)) { state.settings[s.name] = v; update(); }
        }, { optional: s.default === null });
        input.title = s.meaning;
        if (s.default === null) { input.placeholder = "default"; }
      }
    }
  }

  // ---- drawing --------------------------------------------------------------------------
  const COLORS = { d_real: "#0072b2", d_fake: "#d55e00", g_loss: "#009e73", traj: "#222", stable: "#009e73", unstable: "#d55e00", saddle: "#cc79a7", marginal: "#e69f00" };
  const PAD = 46;
  function toPixel(c, x) {
    const v = DATA.view;
    return [PAD + (x[0] - v.xmin) / (v.xmax - v.xmin) * (c.width - 2 * PAD),
            c.height - PAD - (x[1] - v.ymin) / (v.ymax - v.ymin) * (c.height - 2 * PAD)];
  }
  function fromPixel(c, px, py) {
    const v = DATA.view;
    return [v.xmin + (px - PAD) / (c.width - 2 * PAD) * (v.xmax - v.xmin),
            v.ymin + (c.height - PAD - py) / (c.height - 2 * PAD) * (v.ymax - v.ymin)];
  }
  function axes(ctx, c, xr, yr, xl, yl) {
    ctx.strokeStyle = "#888"; ctx.lineWidth = 1; ctx.strokeRect(PAD, PAD, c.width - 2 * PAD, c.height - 2 * PAD);
    ctx.fillStyle = "#333"; ctx.font = "12px sans-serif"; ctx.textAlign = "center";
    ctx.fillText(fmt(xr[0]), PAD, c.height - PAD + 14); ctx.fillText(fmt(xr[1]), c.width - PAD, c.height - PAD + 14);
    ctx.fillText(xl, c.width / 2, c.height - 6);
    ctx.textAlign = "right"; ctx.fillText(Number(yr[0].toPrecision(3)).toString(), PAD - 3, c.height - PAD); ctx.fillText(Number(yr[1].toPrecision(3)).toString(), PAD - 3, PAD + 10);
    ctx.save(); ctx.translate(12, c.height / 2); ctx.rotate(-Math.PI / 2); ctx.textAlign = "center"; ctx.fillText(yl, 0, 0); ctx.restore();
  }

  function drawPortrait() {
    const c = $("portrait"), ctx = c.getContext("2d"), v = DATA.view;
    const variant = VARIANTS[state.loss + "|" + state.regularizer], p = state.params;
    const ratio = state.lrD / state.lrG;
    const G = (x) => { const f = variant.field(x, p); return [f[0], ratio * f[1]]; };
    ctx.clearRect(0, 0, c.width, c.height);
    // The stream field: short streamlines of the normalized field from a grid of seeds.
    ctx.lineWidth = 1; ctx.strokeStyle = "rgba(60, 90, 160, 0.55)";
    const n = 17, ds = (v.xmax - v.xmin) / n / 10;
    for (let a = 0; a < n; a++) {
      for (let b = 0; b < n; b++) {
        let x = [v.xmin + (a + 0.5) * (v.xmax - v.xmin) / n, v.ymin + (b + 0.5) * (v.ymax - v.ymin) / n];
        ctx.beginPath(); let q = toPixel(c, x); ctx.moveTo(q[0], q[1]);
        let dir = null;
        for (let s = 0; s < 8; s++) {
          const f = G(x), norm = Math.hypot(f[0] / (v.xmax - v.xmin), f[1] / (v.ymax - v.ymin));
          if (!(norm > 0) || !Number.isFinite(norm)) { break; }
          dir = [f[0] / norm / (v.xmax - v.xmin), f[1] / norm / (v.ymax - v.ymin)];
          x = [x[0] + ds * dir[0], x[1] + ds * dir[1] * (v.ymax - v.ymin) / (v.xmax - v.xmin)];
          q = toPixel(c, x); ctx.lineTo(q[0], q[1]);
        }
        ctx.stroke();
        if (dir) {
          const ang = Math.atan2(-dir[1], dir[0]);
          ctx.beginPath(); ctx.moveTo(q[0], q[1]);
          ctx.lineTo(q[0] - 4 * Math.cos(ang - 0.5), q[1] - 4 * Math.sin(ang - 0.5));
          ctx.moveTo(q[0], q[1]); ctx.lineTo(q[0] - 4 * Math.cos(ang + 0.5), q[1] - 4 * Math.sin(ang + 0.5));
          ctx.stroke();
        }
      }
    }
    axes(ctx, c, [v.xmin, v.xmax], [v.ymin, v.ymax], DATA.stateNames[0], DATA.stateNames[1]);
    // The trajectory up to the cursor.
    ctx.save(); ctx.beginPath(); ctx.rect(PAD, PAD, c.width - 2 * PAD, c.height - 2 * PAD); ctx.clip();
    ctx.strokeStyle = COLORS.traj; ctx.lineWidth = 1.5; ctx.beginPath();
    run.x.slice(0, state.cursor + 1).forEach((x, i) => { const q = toPixel(c, x); if (i) { ctx.lineTo(q[0], q[1]); } else { ctx.moveTo(q[0], q[1]); } });
    ctx.stroke();
    const start = toPixel(c, run.x[0]); ctx.fillStyle = "#000"; ctx.fillRect(start[0] - 4, start[1] - 4, 8, 8);
    const now = toPixel(c, run.x[state.cursor]); ctx.fillStyle = "#e69f00";
    ctx.beginPath(); ctx.arc(now[0], now[1], 5, 0, 2 * Math.PI); ctx.fill();
    for (const e of eq) {
      const q = toPixel(c, e.x); ctx.fillStyle = COLORS[e.kind]; ctx.strokeStyle = "#000";
      ctx.beginPath(); ctx.arc(q[0], q[1], 6, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
    }
    ctx.restore();
    $("equilibria").textContent = eq.length ? eq.map((e) => "(" + e.x.map(fmt).join(", ") + "): " + e.kind + " under the flow").join("; ")
      : "no equilibrium found in view (Newton's method from a 9 x 9 grid)";
  }

  function drawLosses() {
    const c = $("losses"), ctx = c.getContext("2d");
    ctx.clearRect(0, 0, c.width, c.height);
    const names = ["d_real", "d_fake", "g_loss"], nT = run.x.length;
    const all = names.flatMap((k) => run.logged[k]).filter(Number.isFinite);
    let lo = Math.min(...all), hi = Math.max(...all);
    if (!(hi > lo)) { lo -= 1; hi += 1; }
    const X = (k) => PAD + k / Math.max(nT - 1, 1) * (c.width - 2 * PAD);
    const Y = (y) => c.height - PAD - (y - lo) / (hi - lo) * (c.height - 2 * PAD);
    // Shaded: the steps where the discriminator is ahead (mean fake logit l < 0), where
    // d_fake = softplus(l) is flat and g_loss = softplus(-l) steep.
    if (LOGIT) {
      ctx.fillStyle = "rgba(213, 94, 0, 0.08)";
      run.x.forEach((x, k) => { if (LOGIT.means(x, state.params)[0] < 0) { ctx.fillRect(X(k - 0.5), PAD, X(1) - X(0) + 0.5, c.height - 2 * PAD); } });
    }
    for (const k of names) {
      ctx.strokeStyle = COLORS[k]; ctx.lineWidth = 1.5; ctx.beginPath();
      run.logged[k].forEach((y, i) => { if (i) { ctx.lineTo(X(i), Y(y)); } else { ctx.moveTo(X(i), Y(y)); } });
      ctx.stroke();
    }
    ctx.strokeStyle = "#e69f00"; ctx.beginPath(); ctx.moveTo(X(state.cursor), PAD); ctx.lineTo(X(state.cursor), c.height - PAD); ctx.stroke();
    axes(ctx, c, [0, nT - 1], [lo, hi], state.rule === "flow" ? "time / lr_g" : "step", "loss");
    ctx.textAlign = "left";
    names.forEach((k, i) => { ctx.fillStyle = COLORS[k]; ctx.fillText(k + " = " + fmt(run.logged[k][state.cursor]), PAD + 6 + i * 130, PAD + 14); });
    $("diverged").textContent = run.divergedAt === null ? "" : "diverged at step " + run.divergedAt + " (|x| above " + DATA.maxNorm + "); shown up to there";
  }

  function drawLogit() {
    const c = $("logit"), ctx = c.getContext("2d");
    ctx.clearRect(0, 0, c.width, c.height);
    if (!LOGIT) { $("logit-text").textContent = "This game has no discriminator logit: its costs are given directly."; return; }
    const curve = LOGIT.curves[state.loss];
    const [l, r] = LOGIT.means(run.x[state.cursor], state.params);
    const span = Math.max(6, Math.min(Math.abs(l) * 1.2, 1000));
    const ls = Array.from({ length: 241 }, (_, i) => -span + 2 * span * i / 240);
    const vals = ls.map((li) => curve([li, r], {}));
    const ys = vals.flat().filter(Number.isFinite);
    const lo = Math.min(...ys), hi = Math.max(...ys) > lo ? Math.max(...ys) : lo + 1;
    const X = (x) => PAD + (x + span) / (2 * span) * (c.width - 2 * PAD);
    const Y = (y) => c.height - PAD - (y - lo) / (hi - lo) * (c.height - 2 * PAD);
    ["d_fake", "g_loss"].forEach((k, j) => {
      ctx.strokeStyle = COLORS[k]; ctx.lineWidth = 1.5; ctx.beginPath();
      vals.forEach((v, i) => { if (i) { ctx.lineTo(X(ls[i]), Y(v[j])); } else { ctx.moveTo(X(ls[i]), Y(v[j])); } });
      ctx.stroke();
    });
    const at = curve([l, r], {});
    ctx.strokeStyle = "#e69f00"; ctx.beginPath(); ctx.moveTo(X(l), PAD); ctx.lineTo(X(l), c.height - PAD); ctx.stroke();
    ctx.fillStyle = COLORS.d_fake; ctx.beginPath(); ctx.arc(X(l), Y(at[0]), 4, 0, 2 * Math.PI); ctx.fill();
    ctx.fillStyle = COLORS.g_loss; ctx.beginPath(); ctx.arc(X(l), Y(at[1]), 4, 0, 2 * Math.PI); ctx.fill();
    axes(ctx, c, [-span, span], [lo, hi], "fake logit l", "per-sample loss");
    const d = 1e-5 * Math.max(1, Math.abs(l));
    const up = curve([l + d, r], {}), down = curve([l - d, r], {});
    const slopeD = (up[0] - down[0]) / (2 * d), slopeG = (up[1] - down[1]) / (2 * d);
    const ratio = Math.abs(slopeD) > 0 ? Math.abs(slopeG / slopeD) : Infinity;
    $("logit-text").textContent = "At step " + state.cursor + ": mean fake logit l = " + fmt(l) + ", d_fake(l) = " + fmt(at[0]) +
      ", g_loss(l) = " + fmt(at[1]) + ". Slopes d d_fake/dl = " + fmt(slopeD) + ", d g_loss/dl = " + fmt(slopeG) +
      ": a small swing of l moves g_loss " + fmt(ratio) + " times as much as d_fake" +
      (state.loss === "non-saturating" ? " (= (1 - p)/p with p = sigmoid(l))." : ".");
  }

  function stability() {
    const variant = VARIANTS[state.loss + "|" + state.regularizer], p = state.params;
    const ratio = state.lrD / state.lrG;
    if (!eq.length) { return null; }
    const last = run.x[run.x.length - 1];
    const e = eq.reduce((a, b) => (Math.hypot(a.x[0] - last[0], a.x[1] - last[1]) <= Math.hypot(b.x[0] - last[0], b.x[1] - last[1]) ? a : b));
    const J = flowJacobian(variant, e.x, p, 1);
    const flowEigs = eigenvalues(flowJacobian(variant, e.x, p, ratio));
    const s = resolvedSettings(state.rule, state.settings);
    const game = R.gameAt(variant, p);
    const mapAt = (scale) => R.mapJacobian(state.rule, J, [state.lrG * scale, state.lrD * scale], s, game, e.x);
    const M = mapAt(1);
    let largest = null;
    if (M) {
      // Scan lr_g on a log grid, keeping lr_d / lr_g, for the largest stable rate.
      for (let i = 0; i <= 600; i++) {
        const lr = 10 ** (-4 + 5 * i / 600);
        if (spectralRadius(mapAt(lr / state.lrG)) < 1) { largest = lr; }
      }
    }
    return { at: e, flowEigs, mapEigs: M ? eigenvalues(M) : null, largest };
  }

  function drawSpectrum() {
    const c = $("spectrum"), ctx = c.getContext("2d");
    ctx.clearRect(0, 0, c.width, c.height);
    const st = stability();
    if (!st) { $("spectrum-text").textContent = "No equilibrium in view, so no spectrum."; return; }
    const flow = state.rule === "flow";
    const pts = flow ? st.flowEigs : (st.mapEigs || []);
    const R = Math.max(1.5, ...pts.map((z) => Math.hypot(z[0], z[1]) * 1.15));
    const cx = c.width / 2, cy = c.height / 2, k = (Math.min(c.width, c.height) / 2 - 20) / R;
    ctx.fillStyle = "rgba(0, 158, 115, 0.12)";
    if (flow) { ctx.fillRect(0, 0, cx, c.height); } else { ctx.beginPath(); ctx.arc(cx, cy, k, 0, 2 * Math.PI); ctx.fill(); }
    ctx.strokeStyle = "#888"; ctx.beginPath(); ctx.moveTo(0, cy); ctx.lineTo(c.width, cy); ctx.moveTo(cx, 0); ctx.lineTo(cx, c.height); ctx.stroke();
    if (!flow) { ctx.strokeStyle = "#009e73"; ctx.beginPath(); ctx.arc(cx, cy, k, 0, 2 * Math.PI); ctx.stroke(); }
    ctx.fillStyle = "#d55e00";
    for (const z of pts) { ctx.beginPath(); ctx.arc(cx + k * z[0], cy - k * z[1], 4, 0, 2 * Math.PI); ctx.fill(); }
    ctx.fillStyle = "#333"; ctx.font = "12px sans-serif"; ctx.textAlign = "left";
    ctx.fillText(flow ? "flow: stable where Re < 0 (shaded)" : "map: stable inside the unit circle", 6, 14);
    const z2s = (zs) => zs.map((z) => fmt(z[0]) + (z[1] >= 0 ? " + " : " - ") + fmt(Math.abs(z[1])) + "i").join(", ");
    let text = "At the equilibrium (" + st.at.x.map(fmt).join(", ") + "), eigenvalues of the flow Jacobian dF/dx (lr_d/lr_g on psi): " + z2s(st.flowEigs) + ". ";
    if (!flow) {
      if (st.mapEigs) {
        const rho = Math.max(...st.mapEigs.map((z) => Math.hypot(z[0], z[1])));
        text += "Eigenvalues of one " + state.rule + " step's map: " + z2s(st.mapEigs) + "; spectral radius " + fmt(rho) +
          (rho < 1 ? " < 1: locally stable. " : " >= 1: not stable. ");
        text += st.largest === null ? "No stable lr_g in [1e-4, 10] (lr_d/lr_g kept)." : "Largest stable lr_g on a log grid over [1e-4, 10] (lr_d/lr_g kept): " + fmt(st.largest) + ".";
      } else {
        text += "Adam's map at an equilibrium depends on its moment buffers (v = 0 there); no spectrum is drawn.";
      }
    }
    $("spectrum-text").textContent = text;
    api.stability = st;
  }

  function commandLine() {
    const words = ["gandyn", "simulate"];
    if (DATA.gameFile) { words.push("--game-file", DATA.gameFile); } else { words.push("--game", DATA.game); }
    if (state.loss !== "-") { words.push("--loss", state.loss); }
    for (const r of DATA.regTexts[state.loss + "|" + state.regularizer]) { words.push("--reg", r); }
    for (const name of DATA.variantParams[state.loss + "|" + state.regularizer]) { words.push("--param", name + "=" + state.params[name]); }
    words.push("--optimizer", state.rule, "--lr-g", String(state.lrG), "--lr-d", String(state.lrD));
    if (state.rule === "flow") { words.push("--t-end", String(state.steps * state.lrG), "--n-eval", String(state.steps + 1)); } else { words.push("--steps", String(state.steps)); }
    const s = resolvedSettings(state.rule, state.settings);
    for (const name of Object.keys(s)) { if (s[name] !== null) { words.push("--" + name.replace(/_/g, "-"), String(s[name])); } }
    words.push("--x0", DATA.stateNames[0] + "=" + state.x0[0] + "," + DATA.stateNames[1] + "=" + state.x0[1]);
    return words.join(" ");
  }

  // The same settings as a run spec (JSON), which `gandyn simulate --spec FILE` reads.
  function runSpec() {
    const key = state.loss + "|" + state.regularizer;
    const params = {};
    for (const name of DATA.variantParams[key]) { params[name] = state.params[name]; }
    const regularizers = DATA.regTexts[key].map((text) => {
      const [name, options] = text.split(":");
      const settings = {};
      for (const pair of (options ? options.split(",") : [])) { const [k, v] = pair.split("="); settings[k] = Number(v); }
      return { name, settings };
    });
    const game = DATA.gameFile ? { name: "dirac", options: {}, file: DATA.gameFile }
      : { name: DATA.gameName, options: DATA.gameOptions, file: null };
    Object.assign(game, { loss: state.loss === "-" ? null : state.loss, regularizers, params });
    const flow = state.rule === "flow";
    const settings = flow ? { t_end: state.steps * state.lrG, n_eval: state.steps + 1 } : resolvedSettings(state.rule, state.settings);
    for (const name of Object.keys(settings)) { if (settings[name] === null) { delete settings[name]; } } // the rule's default
    const start = {}; DATA.stateNames.forEach((name, i) => { start[name] = state.x0[i]; });
    return { game, rule: { name: state.rule, lr_g: state.lrG, lr_d: state.lrD, settings },
             steps: state.steps, every: 1, measure: "state", max_norm: DATA.maxNorm, starts: [start] };
  }

  function draw() { drawPortrait(); drawLosses(); drawLogit(); }

  function update() {
    const key = state.loss + "|" + state.regularizer;
    if (!VARIANTS[key]) { return; }
    if ($("params").dataset.key !== key) { buildParams(); $("params").dataset.key = key; }
    run = simulate(config());
    const ratio = state.lrD / state.lrG;
    eq = equilibria(VARIANTS[key], state.params).map((e) => Object.assign(e, { kind: classify(eigenvalues(flowJacobian(VARIANTS[key], e.x, state.params, ratio))) }));
    state.cursor = Math.min(state.playing ? state.cursor : run.x.length - 1, run.x.length - 1);
    draw(); drawSpectrum();
    $("command").value = commandLine();
    $("spec").value = JSON.stringify(runSpec(), null, 1);
    api.run = run; api.equilibria = eq;
  }

  function play() {
    if (state.playing) { return; }
    state.playing = true;
    if (state.cursor >= run.x.length - 1) { state.cursor = 0; }
    const stride = Math.max(1, Math.round(run.x.length / 240));
    const tick = () => {
      if (!state.playing) { return; }
      state.cursor = Math.min(state.cursor + stride, run.x.length - 1);
      draw();
      if (state.cursor >= run.x.length - 1) { state.playing = false; return; }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  // For tests and readers: the simulation, the stability computation and the current state.
  const api = { simulate, eigenvalues, mapJacobian: R.mapJacobian, gameAt: R.gameAt, variants: VARIANTS, equilibria, state, config, commandLine, runSpec, data: DATA, run: null };
  window.gandynExplore = api;
  buildControls();
  $("params").dataset.key = state.loss + "|" + state.regularizer;
  update();
  api.firstDrawMs = performance.now();
}());
