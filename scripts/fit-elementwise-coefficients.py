#!/usr/bin/env python3
"""Fits the polynomial/rational coefficients used by native/elementwise_simd.inc.

Development tool only (needs numpy and mpmath); prints the constants.
  exp(r) on |r| <= ln2/2: degree-6 polynomial, minimax relative error (Lawson iteration).
  R(a) = Phi(-a) * exp(a^2/2) on [0, 13.5]: rational N4(a)/D5(a) with D(0) = 1, minimax
  relative error (Sanathanan-Koerner linearisation + Lawson weights). All its coefficients
  come out positive, so Horner's rule in float32 for a >= 0 has no cancellation.
  With --float64: R(a) on [0, 38.5] as N10(a)/D11(a) for the JS backend, fitted the same
  way in 60-digit arithmetic (takes a few minutes).
"""
import sys
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


def fit_mills_float64(kn=10, kd=11, lo=0.0, hi=38.5, npts=400, iters=12):
    mp.mp.dps = 60
    pts = [(hi + lo) / 2 + (hi - lo) / 2 * mp.cos(mp.pi * (i + 0.5) / npts) for i in range(npts)]
    fs = [mills_r(a) for a in pts]
    den = [mp.mpf(1)] * npts
    w = [mp.mpf(1)] * npts
    for it in range(iters):
        rows, rhs = [], []
        for a, f, dv, wi in zip(pts, fs, den, w):
            s = wi / (dv * f)
            rows.append([s * a**i for i in range(kn + 1)] + [-s * f * a**j for j in range(1, kd + 1)])
            rhs.append(s * f)
        x, _ = mp.qr_solve(mp.matrix(rows), mp.matrix(rhs))
        num = [x[i] for i in range(kn + 1)]
        dcoef = [mp.mpf(1)] + [x[kn + 1 + j] for j in range(kd)]
        den = [mp.polyval(dcoef[::-1], a) for a in pts]
        errs = [abs(mp.polyval(num[::-1], a) / dv / f - 1) for a, dv, f in zip(pts, den, fs)]
        if it >= 4:
            w = [wi * e for wi, e in zip(w, errs)]
            total = sum(w)
            w = [wi / total * npts for wi in w]
    return [float(c) for c in num], [float(c) for c in dcoef], max(errs)


if "--float64" in sys.argv:
    n64, d64, err64 = fit_mills_float64()
    print(f"// float64 R rational relative error {mp.nstr(err64, 3)}")
    print("MILLS_NUM =", [repr(c) for c in n64])
    print("MILLS_DEN =", [repr(c) for c in d64])
    sys.exit(0)

e, e_err = fit_exp()
n, d, r_err = fit_mills()
print(f"// exp polynomial relative error {e_err:.2e}; R rational relative error {r_err:.2e}")
show("kExpPoly", e)
show("kMillsNum", n)
show("kMillsDen", d)
