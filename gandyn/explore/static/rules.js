// gandyn explore: the update rules and their map Jacobians, without the page (node runs
// this file in gandyn's tests). They follow gandyn/rules/*.py formula for formula and in
// the same order, so that the page's trajectories equal gandyn's Python ones to rounding.
// A game is given as functions of the state (gameAt): the field F = -xi, dF/dx, the cross
// gradient c = (d cost_d/d theta, d cost_g/d psi) and, for the map Jacobians of the rules
// that look through a step, dc/dx and d(dF/dx)/dx, all printed from gandyn's sympy
// expressions (gandyn/explore/variants.py).
"use strict";
const GandynRules = (function () {
  const N = 2;
  const NTHETA = 1;
  const MASK = { g: [1, 0], d: [0, 1] };
  const OWNER = Array.from({ length: N }, (_, i) => (i < NTHETA ? "g" : "d"));
  // 1 where row and column belong to different players: the blocks of H_o.
  const AXES = Array.from({ length: N }, (_, k) => k);
  const OFF = OWNER.map((a) => OWNER.map((b) => (a === b ? 0 : 1)));

  // The game of one variant at hyper-parameters p, as matrices.
  function gameAt(variant, p) {
    return {
      field: (x) => variant.field(x, p),
      jacobian: (x) => { const j = variant.jacobian(x, p); return [[j[0], j[1]], [j[2], j[3]]]; },
      cross: (x) => variant.cross(x, p),
      // dc/dx [i][k] and dJ [i][j][k] = d(dF_i/dx_j)/dx_k. Printed: the diagonal of dc/dx
      // (its other entries are -dF_1/dtheta and -dF_0/dpsi) and one of each pair of dJ
      // that its symmetry in j, k makes equal (variants.THIRD_ENTRIES).
      higher(x) {
        const v = variant.higher(x, p), j = variant.jacobian(x, p);
        return { dc: [[v[0], -j[2]], [-j[1], v[1]]],
                 dJ: [[[v[2], v[3]], [v[3], v[4]]], [[v[5], v[6]], [v[6], v[7]]]] };
      },
    };
  }

  // ---- linear algebra: small real matrices, complex eigenvalues ------------------------
  function matmul(a, b) {
    return a.map((row) => b[0].map((_, j) => row.reduce((s, aik, k) => s + aik * b[k][j], 0)));
  }
  function eye(n) { return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))); }
  function block(a, b, c, d) { return a.map((r, i) => r.concat(b[i])).concat(c.map((r, i) => r.concat(d[i]))); }
  function scaleRows(m, s) { return m.map((r, i) => r.map((v) => v * s[i])); }
  function plus(a, b) { return a.map((r, i) => r.map((v, j) => v + b[i][j])); }
  function times(a, s) { return a.map((r) => r.map((v) => v * s)); }

  // Characteristic polynomial by Faddeev-LeVerrier, roots by Durand-Kerner, polished.
  function eigenvalues(m) {
    const n = m.length;
    if (n === 1) { return [[m[0][0], 0]]; }
    if (n === 2) {
      const tr = m[0][0] + m[1][1], det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
      const disc = tr * tr / 4 - det;
      if (disc >= 0) { const r = Math.sqrt(disc); return [[tr / 2 - r, 0], [tr / 2 + r, 0]]; }
      const r = Math.sqrt(-disc); return [[tr / 2, -r], [tr / 2, r]];
    }
    const coeffs = [1];
    let mk = m.map((r) => r.slice());
    for (let k = 1; k <= n; k++) {
      if (k > 1) { mk = matmul(m, plus(mk, times(eye(n), coeffs[k - 1]))); }
      const c = -mk.reduce((s, r, i) => s + r[i], 0) / k;
      coeffs.push(c);
    }
    const cmul = (a, b) => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
    const cdiv = (a, b) => { const d = b[0] * b[0] + b[1] * b[1]; return [(a[0] * b[0] + a[1] * b[1]) / d, (a[1] * b[0] - a[0] * b[1]) / d]; };
    const poly = (z) => coeffs.reduce((acc, c) => { const t = cmul(acc, z); return [t[0] + c, t[1]]; }, [0, 0]);
    const radius = 1 + Math.max(...coeffs.slice(1).map(Math.abs));
    let roots = Array.from({ length: n }, (_, i) => [radius * 0.9 * Math.cos(2 * Math.PI * i / n + 0.4), radius * 0.9 * Math.sin(2 * Math.PI * i / n + 0.4)]);
    for (let it = 0; it < 500; it++) {
      let moved = 0;
      roots = roots.map((z, i) => {
        let den = [1, 0];
        roots.forEach((w, j) => { if (j !== i) { den = cmul(den, [z[0] - w[0], z[1] - w[1]]); } });
        const step = cdiv(poly(z), den);
        moved = Math.max(moved, Math.hypot(step[0], step[1]));
        return [z[0] - step[0], z[1] - step[1]];
      });
      if (moved < 1e-15 * radius) { break; }
    }
    return roots.map((z) => (Math.abs(z[1]) < 1e-12 * radius ? [z[0], 0] : z))
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  }
  const spectralRadius = (m) => Math.max(...eigenvalues(m).map((z) => Math.hypot(z[0], z[1])));  const neg = (a) => a.map((r) => r.map((v) => -v));
  const transpose = (a) => a[0].map((_, j) => a.map((r) => r[j]));
  const dot = (a, b) => a.reduce((s, ai, i) => s + ai * b[i], 0);
  const matvec = (a, v) => a.map((r) => dot(r, v));
  const zeros = (r, c) => Array.from({ length: r }, () => Array(c).fill(0));
  // The inverse of a 2 x 2 matrix; Cramer's rule for its systems.
  function inverse2(a) {
    const det = a[0][0] * a[1][1] - a[0][1] * a[1][0];
    return [[a[1][1] / det, -a[0][1] / det], [-a[1][0] / det, a[0][0] / det]];
  }
  // The tangent T = d(theta, psi_i)/dx of a point whose psi moved with sensitivity S.
  const tangentOf = (sens) => eye(N).slice(0, NTHETA).concat(sens);

  // ---- the update rules (gandyn/rules/*.py): step(game, x, buf, k, h, s) ------------------
  function add(x, m, h, f) { return x.map((xi, i) => xi + m[i] * h[i] * f[i]); }

  // sga.py: lambda, fixed or |lam| times the sign aligned with the Hamiltonian's gradient.
  function sgaWeight(game, x, s) {
    if (!s.align) { return s.lam; }
    const xi = game.field(x).map((f) => -f), Jxi = neg(game.jacobian(x));
    const A = plus(times(Jxi, 0.5), times(transpose(Jxi), -0.5));
    const hamiltonian = matvec(transpose(Jxi), xi), adjustment = matvec(transpose(A), xi);
    const alignment = dot(xi, hamiltonian) * dot(adjustment, hamiltonian) / x.length;
    return Math.abs(s.lam) * Math.sign(alignment + s.align_eps);
  }
  function sgaField(game, x, s) {
    const xi = game.field(x).map((f) => -f), Jxi = neg(game.jacobian(x));
    const A = plus(times(Jxi, 0.5), times(transpose(Jxi), -0.5));
    const w = sgaWeight(game, x, s), adjustment = matvec(transpose(A), xi);
    return xi.map((v, i) => -(v + w * adjustment[i]));
  }

  // proximal.py: y = x + H F(y) by Newton's method from the explicit step.
  const NEWTON_STEPS = 50, NEWTON_TOL = 1e-13;
  function proximalSolve(game, x, h) {
    const f0 = game.field(x);
    let y = x.map((xi, i) => xi + h[i] * f0[i]);
    for (let it = 0; it < NEWTON_STEPS; it++) {
      const f = game.field(y);
      const residual = y.map((yi, i) => yi - x[i] - h[i] * f[i]);
      const system = plus(eye(N), neg(scaleRows(game.jacobian(y), h)));
      const change = matvec(inverse2(system), residual);
      y = y.map((yi, i) => yi - change[i]);
      if (change.every((c, i) => Math.abs(c) <= NEWTON_TOL * Math.max(1, Math.abs(y[i])))) { break; }
    }
    return y;
  }

  // unrolled.py: y_k = (theta, psi_k), S_k = d psi_k/dx and, if second, dS_k/dx [a][j][l].
  function unroll(game, x, h, s, second) {
    const eta = x.slice(NTHETA).map((_, a) => (s.unroll_lr === null || s.unroll_lr === undefined ? h[NTHETA + a] : s.unroll_lr));
    const y = x.slice();
    let sens = eye(N).slice(NTHETA);
    let ss = second ? sens.map(() => zeros(N, N)) : null;
    for (let i = 0; i < s.unroll; i++) {
      const M = game.jacobian(y).slice(NTHETA), T = tangentOf(sens);
      if (ss) {
        // d(M_i T_i)/dx_l = sum_p dM/dy_p T_pl T + M dT/dx_l, dT/dx_l = [0; dS_i/dx_l].
        const dM = game.higher(y).dJ.slice(NTHETA);
        ss = ss.map((sa, a) => sa.map((row, j) => row.map((v, l) => {
          let first = 0, chain = 0;
          for (let m = 0; m < N; m++) { for (let p = 0; p < N; p++) { first += dM[a][m][p] * T[p][l] * T[m][j]; } }
          for (let m = 0; m < N - NTHETA; m++) { chain += M[a][NTHETA + m] * ss[m][j][l]; }
          return v + eta[a] * (first + chain);
        })));
      }
      const MT = matmul(M, T);
      sens = sens.map((r, a) => r.map((v, j) => v + eta[a] * MT[a][j]));
      const f = game.field(y);
      for (let a = 0; a < N - NTHETA; a++) { y[NTHETA + a] = y[NTHETA + a] + eta[a] * f[NTHETA + a]; }
    }
    return { y, sens, ss };
  }
  function unrolledGeneratorGradient(game, x, h, s) {
    const { y, sens } = unroll(game, x, h, s, false);
    const own = game.field(y).slice(0, NTHETA).map((f) => -f);
    if (s.unroll === 0) { return own; }
    const cross = game.cross(y).slice(NTHETA);
    return own.map((g, t) => g + sens.reduce((acc, row, a) => acc + row[t] * cross[a], 0));
  }

  // opponent.py: xi, LookAhead's H_o (alpha xi), the shaping H_o^T (alpha c), derivatives.
  function opponentTerms(game, x, h, s, derivatives) {
    const alpha = x.map((_, i) => (s.lola_eta === null || s.lola_eta === undefined ? h[i] : s.lola_eta));
    const xi = game.field(x).map((f) => -f), H = neg(game.jacobian(x));
    const Ho = H.map((r, i) => r.map((v, j) => v * OFF[i][j]));
    const c = game.cross(x);
    const ax = xi.map((v, j) => alpha[j] * v), ac = c.map((v, j) => alpha[j] * v);
    const t = { xi, H, look: matvec(Ho, ax), shaping: matvec(transpose(Ho), ac) };
    if (!derivatives) { return t; }
    const hi = game.higher(x);
    const dHo = hi.dJ.map((r, i) => r.map((col, j) => col.map((v) => -v * OFF[i][j])));
    const aH = H.map((r, j) => r.map((v) => alpha[j] * v)), adc = hi.dc.map((r, j) => r.map((v) => alpha[j] * v));
    // d look_i/dx_k = sum_j off_ij (dH_ij/dx_k alpha_j xi_j + H_ij alpha_j H_jk)
    t.dLook = plus(dHo.map((r) => AXES.map((k) => r.reduce((acc, col, j) => acc + col[k] * ax[j], 0))), matmul(Ho, aH));
    // d shaping_i/dx_k = sum_j off_ji (dH_ji/dx_k alpha_j c_j + H_ji alpha_j dc_j/dx_k)
    t.dShaping = plus(xi.map((_, i) => AXES.map((k) => dHo.reduce((acc, r, j) => acc + r[i][k] * ac[j], 0))),
      matmul(transpose(Ho), adc));
    return t;
  }
  // SOS's p1, p2, xi_0 and <-alpha chi, xi_0> (Letcher et al. 2019, Algorithm 1).
  function sosParts(t, s) {
    const xi0 = t.xi.map((v, i) => v - t.look[i]);
    const d = -dot(t.shaping, xi0), norm0 = dot(xi0, xi0);
    const p1 = d >= 0 ? 1 : Math.min(1, -s.sos_a * norm0 / d);
    const norm = dot(t.xi, t.xi);
    const p2 = norm < s.sos_b ** 2 ? norm : 1;
    return { p1, p2, xi0, d };
  }
  const shapingWeight = (rule, t, s) => { if (rule === "lola") { return 1; } const q = sosParts(t, s); return Math.min(q.p1, q.p2); };
  function shapingWeightGradient(rule, t, s) {
    if (rule === "lola") { return t.xi.map(() => 0); }
    const { p1, p2, xi0, d } = sosParts(t, s);
    const dP2 = matvec(transpose(t.H), t.xi).map((v) => 2 * v);
    const dXi0 = plus(t.H, neg(t.dLook));
    const dNorm0 = matvec(transpose(dXi0), xi0).map((v) => 2 * v);
    const dDot = matvec(transpose(t.dShaping), xi0).map((v, k) => -(v + dot(dXi0.map((r) => r[k]), t.shaping)));
    const dP1 = dNorm0.map((v, k) => -s.sos_a * (v / d - (dot(xi0, xi0) / d ** 2) * dDot[k]));
    const onP2 = p2 <= p1 && p2 < 1, onP1 = !onP2 && p1 < 1;
    return onP2 ? dP2 : onP1 ? dP1 : t.xi.map(() => 0);
  }
  function opponentStep(rule) {
    return {
      init: () => ({}),
      step(game, x, buf, k, h, s) {
        const t = opponentTerms(game, x, h, s, false), p = shapingWeight(rule, t, s);
        const adjusted = t.xi.map((v, i) => v - t.look[i] - p * t.shaping[i]);
        return { x: x.map((xi, i) => xi - h[i] * adjusted[i]), buf };
      },
    };
  }

  const RULES = {
    simgd: {
      init: () => ({}),
      step(game, x, buf, k, h) { const f = game.field(x); return { x: x.map((xi, i) => xi + h[i] * f[i]), buf }; },
    },
    altgd: {
      init: () => ({}),
      step(game, x, buf, k, h, s) {
        const d = Array(s.d_steps).fill("d"), g = Array(s.g_steps).fill("g");
        const schedule = s.first === "d" ? d.concat(g) : g.concat(d);
        for (const player of schedule) { x = add(x, MASK[player], h, game.field(x)); }
        return { x, buf };
      },
    },
    momentum: {
      init: (x0) => ({ velocity: x0.map(() => 0) }),
      step(game, x, buf, k, h, s) {
        const f = game.field(x);
        const v = buf.velocity.map((vi, i) => s.beta * vi + f[i]);
        return { x: x.map((xi, i) => xi + h[i] * v[i]), buf: { velocity: v } };
      },
    },
    altmomentum: {
      init: (x0) => ({ velocity: x0.map(() => 0) }),
      step(game, x, buf, k, h, s) {
        let v = buf.velocity;
        for (const player of (s.first === "d" ? ["d", "g"] : ["g", "d"])) {
          const m = MASK[player], f = game.field(x);
          v = v.map((vi, i) => vi + m[i] * ((s.beta - 1.0) * vi + f[i]));
          x = x.map((xi, i) => xi + m[i] * h[i] * v[i]);
        }
        return { x, buf: { velocity: v } };
      },
    },
    adam: {
      init: (x0) => ({ m: x0.map(() => 0), v: x0.map(() => 0) }),
      step(game, x, buf, k, h, s) {
        const g = game.field(x).map((fi) => -fi);
        const m = buf.m.map((mi, i) => s.beta1 * mi + (1 - s.beta1) * g[i]);
        const v = buf.v.map((vi, i) => s.beta2 * vi + (1 - s.beta2) * g[i] * g[i]);
        const c1 = 1 - s.beta1 ** k, c2 = 1 - s.beta2 ** k;
        return { x: x.map((xi, i) => xi - h[i] * (m[i] / c1) / (Math.sqrt(v[i] / c2) + s.eps)),
                 buf: { m, v } };
      },
    },
    ogda: {
      init: (x0) => ({ previous: x0.slice() }),
      step(game, x, buf, k, h) {
        const f = game.field(x), fp = game.field(buf.previous);
        return { x: x.map((xi, i) => xi + h[i] * (2 * f[i] - fp[i])), buf: { previous: x } };
      },
    },
    extragradient: {
      init: () => ({}),
      step(game, x, buf, k, h) {
        const f = game.field(x);
        const y = x.map((xi, i) => xi + h[i] * f[i]);
        const fy = game.field(y);
        return { x: x.map((xi, i) => xi + h[i] * fy[i]), buf };
      },
    },
    sga: {
      init: () => ({}),
      step(game, x, buf, k, h, s) { const f = sgaField(game, x, s); return { x: x.map((xi, i) => xi + h[i] * f[i]), buf }; },
    },
    proximal: {
      init: () => ({}),
      step(game, x, buf, k, h) { return { x: proximalSolve(game, x, h), buf }; },
    },
    unrolled: {
      init: () => ({}),
      step(game, x, buf, k, h, s) {
        const direction = game.field(x).slice();
        unrolledGeneratorGradient(game, x, h, s).forEach((g, t) => { direction[t] = -g; });
        return { x: x.map((xi, i) => xi + h[i] * direction[i]), buf };
      },
    },
    lola: opponentStep("lola"),
    sos: opponentStep("sos"),
    omd: {
      init: (x0) => ({ extrapolated: x0.slice() }),
      step(game, x, buf, k, h) {
        const fp = game.field(buf.extrapolated);
        const y = x.map((xi, i) => xi + h[i] * fp[i]);
        const fy = game.field(y);
        return { x: x.map((xi, i) => xi + h[i] * fy[i]), buf: { extrapolated: y } };
      },
    },
  };

  // Which setting values a rule accepts (gandyn's check_settings); others are not applied.
  // The page caps d_steps and g_steps at 1000 (each step evaluates the field that often).
  const optionalRate = (v) => v === null || (Number.isFinite(v) && v > 0);
  const SETTING_CHECKS = {
    d_steps: (v) => Number.isInteger(v) && v >= 1 && v <= 1000,
    g_steps: (v) => Number.isInteger(v) && v >= 1 && v <= 1000,
    unroll: (v) => Number.isInteger(v) && v >= 0 && v <= 100,
    unroll_lr: optionalRate,
    lola_eta: optionalRate,
    align: (v) => v === 0 || v === 1,
    align_eps: (v) => Number.isFinite(v) && v >= 0,
    lam: Number.isFinite,
    sos_a: (v) => v > 0 && v < 1,
    sos_b: (v) => Number.isFinite(v) && v > 0,
  };
  const acceptable = (name, value) => (SETTING_CHECKS[name] ? SETTING_CHECKS[name](value) : value !== null);

  function outside(x, maxNorm) {
    return x.some((xi) => !Number.isFinite(xi) || Math.abs(xi) > maxNorm);
  }

  // Steps of a rule from x0 until `steps` or the first state outside the ball |x| <= maxNorm.
  function run(name, game, x0, steps, h, s, maxNorm) {
    const rule = RULES[name];
    if (!rule) { throw new Error("no such rule: " + name); }
    let x = x0.slice(), buf = rule.init(x);
    const xs = [x];
    let divergedAt = outside(x, maxNorm) ? 0 : null;
    for (let k = 1; k <= steps && divergedAt === null; k++) {
      const next = rule.step(game, x, buf, k, h, s);
      if (outside(next.x, maxNorm)) { divergedAt = k; break; }
      x = next.x; buf = next.buf;
      xs.push(x);
    }
    return { x: xs, divergedAt };
  }

  // The map Jacobian dz'/dz of one step of each rule, as gandyn's map_jacobian. J is dF/dx
  // at x; the memoryless rules read the game at x (game and x needed for sga, proximal,
  // unrolled, lola, sos); buffers are at rest at an equilibrium x* (velocity 0, previous and
  // extrapolated states x*) unless buf gives omd's extrapolated point.
  function mapJacobian(rule, J, h, s, game, x, buf) {
    const I = eye(N), Z = zeros(N, N);
    const H = (m) => scaleRows(J, m.map((mi, i) => mi * h[i]));
    if (rule === "simgd") { return plus(I, scaleRows(J, h)); }
    if (rule === "altgd") {
      const d = Array(s.d_steps).fill("d"), g = Array(s.g_steps).fill("g");
      let total = I;
      for (const p of (s.first === "d" ? d.concat(g) : g.concat(d))) { total = matmul(plus(I, H(MASK[p])), total); }
      return total;
    }
    if (rule === "momentum") {
      const hb = h.map((hi) => hi * s.beta);
      return block(plus(I, scaleRows(J, h)), scaleRows(I, hb), J, times(I, s.beta));
    }
    if (rule === "altmomentum") {
      let total = eye(2 * N);
      for (const p of (s.first === "d" ? ["d", "g"] : ["g", "d"])) {
        const m = MASK[p];
        const keep = m.map((mi) => 1 + mi * (s.beta - 1));
        const step = block(plus(I, H(m)), scaleRows(I, m.map((mi, i) => s.beta * mi * h[i])),
          scaleRows(J, m), scaleRows(I, keep));
        total = matmul(step, total);
      }
      return total;
    }
    if (rule === "ogda") { return block(plus(I, times(scaleRows(J, h), 2)), times(scaleRows(J, h), -1), I, Z); }
    if (rule === "extragradient") { return plus(I, matmul(scaleRows(J, h), plus(I, scaleRows(J, h)))); }
    if (rule === "omd") {
      // y = x + H F(y_prev): dy/dx = I, dy/dy_prev = H J(y_prev); x' = x + H F(y).
      const previous = buf ? buf.extrapolated : x;
      const Jp = game ? game.jacobian(previous) : J;
      const fp = game ? game.field(previous) : null;
      const y = fp ? x.map((xi, i) => xi + h[i] * fp[i]) : null;
      const dyDprev = scaleRows(Jp, h), jacY = scaleRows(y ? game.jacobian(y) : J, h);
      return block(plus(I, jacY), matmul(jacY, dyDprev), I, dyDprev);
    }
    if (!game) { return null; }
    if (rule === "sga") {
      const xi = game.field(x).map((f) => -f), Jxi = neg(J), dJxi = game.higher(x).dJ.map((r) => neg(r));
      const A = plus(times(Jxi, 0.5), times(transpose(Jxi), -0.5));
      const w = sgaWeight(game, x, s), AtJ = matmul(transpose(A), Jxi);
      // d adj_i/dx_k = J_ik + lam sum_j (dA_ji/dx_k xi_j + A_ji J_jk)
      const dAdj = Jxi.map((r, i) => r.map((v, k) => {
        let sum = 0;
        for (let j = 0; j < N; j++) { sum += 0.5 * (dJxi[j][i][k] - dJxi[i][j][k]) * xi[j]; }
        return v + w * (sum + AtJ[i][k]);
      }));
      return plus(I, scaleRows(neg(dAdj), h));
    }
    if (rule === "proximal") {
      // Implicit differentiation of y - x - H F(y) = 0: (I - H J(y)) dy/dx = I.
      const y = proximalSolve(game, x, h);
      return inverse2(plus(I, neg(scaleRows(game.jacobian(y), h))));
    }
    if (rule === "unrolled") {
      const { y, sens, ss } = unroll(game, x, h, s, s.unroll > 0);
      const T = tangentOf(sens);
      let dGradient = neg(matmul(game.jacobian(y).slice(0, NTHETA), T));
      if (s.unroll > 0) {
        const cross = game.cross(y).slice(NTHETA), dCrossT = matmul(game.higher(y).dc.slice(NTHETA), T);
        dGradient = dGradient.map((r, t) => r.map((v, l) => {
          let sum = v;
          for (let a = 0; a < N - NTHETA; a++) { sum += ss[a][t][l] * cross[a]; }
          for (let a = 0; a < N - NTHETA; a++) { sum += sens[a][t] * dCrossT[a][l]; }
          return sum;
        }));
      }
      const dDirection = J.map((r) => r.slice());
      for (let t = 0; t < NTHETA; t++) { dDirection[t] = dGradient[t].map((v) => -v); }
      return plus(I, scaleRows(dDirection, h));
    }
    if (rule === "lola" || rule === "sos") {
      const t = opponentTerms(game, x, h, s, true), p = shapingWeight(rule, t, s);
      const dp = shapingWeightGradient(rule, t, s);
      const dAdjusted = t.H.map((r, i) => r.map((v, k) => v - t.dLook[i][k] - p * t.dShaping[i][k] - t.shaping[i] * dp[k]));
      return plus(I, neg(scaleRows(dAdjusted, h)));
    }
    return null; // adam: the map at an equilibrium depends on the moment buffers
  }

  return { N, NTHETA, RULES, gameAt, run, mapJacobian, eigenvalues, spectralRadius, matmul, eye, acceptable, outside };
}());
