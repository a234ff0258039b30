#!/usr/bin/env python3
"""Fits the polynomial/rational coefficients used by native/elementwise_simd.inc.

Development tool only (needs numpy and mpmath); prints the C++ constants.
  exp(r) on |r| <= ln2/2: degree-6 polynomial, minimax relative error (Lawson iteration).
  R(a) = Phi(-a) * exp(a^2/2) on [0, 13.5]: rational N4(a)/D5(a) with D(0) = 1, minimax
  relative error (Sanathanan-Koerner linearisation + Lawson weights). All its coefficients
  come out positive, so Horner's rule in float32 for a >= 0 has no cancellation.
"""
import mpmath as mp
import numpy as np
from numpy.polynomial import chebyshev as cheb

mp.mp.dps = 40


def lawson_poly(us, fs, deg, weights, iters=300):
    a = cheb.chebvander(us, deg) * weights[:, None]
    b = fs * weights
    lw = np.full(len(us), 1.0 / len(us))
    for _ in range(iters):
        s = np.sqrt(lw)
        c = np.linalg.lstsq(a * s[:, None], b * s, rcond=None)[0]
        err = np.abs(a @ c - b)
        lw = lw * err
        lw /= lw.sum()
    return c, err.max()


def fit_exp():
    half_ln2 = np.log(2) / 2
    us = np.cos(np.linspace(0, np.pi, 1500))
    r = us * half_ln2
    c, err = lawson_poly(us, np.exp(r), 6, np.exp(-r))
    mono = cheb.cheb2poly(c)  # in u = r / half_ln2
    return [m / half_ln2**k for k, m in enumerate(mono)], err


def mills_r(a):
    a = mp.mpf(a)
    return mp.ncdf(-a) * mp.exp(a * a / 2)


def fit_mills(kn=4, kd=5, amax=13.5, iters=80):
    us = np.cos(np.linspace(0, np.pi, 3000))
    a = (us + 1) / 2 * amax
    fs = np.array([float(mills_r(x)) for x in a])
    den = np.ones_like(a)
    lw = np.ones_like(a)
    for it in range(iters):
        an = np.vander(a, kn + 1, increasing=True)
        ad = -fs[:, None] * np.vander(a, kd + 1, increasing=True)[:, 1:]
        mat = np.hstack([an, ad]) / (den * fs)[:, None]
        rhs = fs / (den * fs)
        col = np.abs(mat).max(axis=0)
        s = np.sqrt(lw)
        x = np.linalg.lstsq(mat / col * s[:, None], rhs * s, rcond=None)[0] / col
        num = x[: kn + 1]
        dcoef = np.concatenate([[1.0], x[kn + 1:]])
        den = np.polyval(dcoef[::-1], a)
        err = np.abs(np.polyval(num[::-1], a) / den / fs - 1)
        if it > 10:
            lw = lw * err / (lw * err).sum()
    return num, dcoef, err.max()


def show(name, coefs):
    vals = ", ".join("%.9ef" % np.float32(c) for c in coefs)
    print(f"constexpr float {name}[] = {{{vals}}};")


e, e_err = fit_exp()
n, d, r_err = fit_mills()
print(f"// exp polynomial relative error {e_err:.2e}; R rational relative error {r_err:.2e}")
show("kExpPoly", e)
show("kMillsNum", n)
show("kMillsDen", d)
