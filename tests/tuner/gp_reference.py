#!/usr/bin/python3
"""Reference values for test_gaussian_process.cpp and test_gp_acquisition.cpp, as C++
initialisers, from independent implementations: scikit-learn's GaussianProcessRegressor (the
Matern 5/2 kernel, posterior and marginal likelihood), SciPy's L-BFGS-B on Optuna's fit loss
(optuna/_gp/gp.py and prior.py, written here in NumPy), and mpmath for the log expected
improvement. Run once with Debian's python3-sklearn, python3-scipy and python3-mpmath
(/usr/bin/python3 tests/tuner/gp_reference.py) and paste the output into the tests.

The data come from integer arithmetic (the same in C++): point i, parameter k is
((i * 7919 + k * 104729) % 1009) / 1008, and y_i = sin(7 x_i0) + x_i1^2 - 0.5 x_i2 (then
standardised), for n = 12 points of 3 parameters."""
import numpy as np
from scipy.optimize import minimize
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
import mpmath

N, D = 12, 3
X = np.array([[((i * 7919 + k * 104729) % 1009) / 1008 for k in range(D)] for i in range(N)])
y = np.sin(7 * X[:, 0]) + X[:, 1] ** 2 - 0.5 * X[:, 2]
y = (y - y.mean()) / y.std()
MIN_NOISE = 1e-6


def matern52(r):
    s5 = np.sqrt(5 * r)
    return np.exp(-s5) * (5 / 3 * r + s5 + 1)


def loss(raw, cat=(False,) * D):
    ils, scale, noise = np.exp(raw[:D]), np.exp(raw[D]), np.exp(raw[D + 1]) + MIN_NOISE
    sqd = (X[:, None, :] - X[None, :, :]) ** 2
    for k in range(D):
        if cat[k]:
            sqd[..., k] = (sqd[..., k] > 0).astype(float)
    C = scale * matern52(sqd @ ils) + noise * np.eye(N)
    L = np.linalg.cholesky(C)
    u = np.linalg.solve(L, y)
    mll = -np.log(np.diag(L)).sum() - 0.5 * u @ u
    prior = -(0.1 / ils + 0.1 * ils).sum() + (np.log(scale) - scale) + (0.1 * np.log(noise) - 30 * noise)
    return -mll - prior


def num_grad(f, x, h=1e-6):
    return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(len(x))])


raw = np.array([0.3, -0.7, 1.1, 0.2, np.log(0.05)])
print("// gp_fit_loss at raw =", list(raw))
print("loss %r" % loss(raw))
print("loss with parameter 1 categorical %r" % loss(raw, (False, True, False)))

# sklearn's log marginal likelihood includes -n/2 log(2 pi); Optuna's omits it. Length scale
# l = 1 / sqrt(ils).
ils, scale, noise = np.exp(raw[:D]), np.exp(raw[D]), np.exp(raw[D + 1]) + MIN_NOISE
kernel = ConstantKernel(scale, "fixed") * Matern(1 / np.sqrt(ils), "fixed", nu=2.5) + WhiteKernel(noise, "fixed")
gpr = GaussianProcessRegressor(kernel, alpha=0.0, optimizer=None, normalize_y=False).fit(X, y)
print("sklearn mll + n/2 log 2pi %r" % (gpr.log_marginal_likelihood_value_ + N / 2 * np.log(2 * np.pi)))
tests = np.array([[0.1, 0.9, 0.4], [0.55, 0.5, 0.5], X[3]])
mean, std = gpr.predict(tests, return_std=True)
# sklearn's predictive std includes the white noise; the latent f's variance does not.
for t, m, s in zip(tests, mean, std):
    print("posterior at %s: mean %r var %r" % (list(t), m, s * s - noise))

res = minimize(lambda r: loss(np.array(r)), np.r_[np.zeros(D + 1), np.log(1 - 0.99 * MIN_NOISE)],
               jac=lambda r: num_grad(loss, np.array(r)), method="l-bfgs-b", options={"gtol": 1e-2})
print("scipy fit: loss %r at %s" % (res.fun, list(res.x)))

for z in [-40.0, -30.0, -25.5, -24.5, -5.0, 0.0, 3.0, 10.0]:
    mpmath.mp.dps = 50
    zz = mpmath.mpf(z)
    ei = zz * mpmath.ncdf(zz) + mpmath.npdf(zz)
    print("{%r, %s, %s}," % (z, mpmath.nstr(mpmath.log(ei), 17), mpmath.nstr(mpmath.ncdf(zz) / ei, 17)))
