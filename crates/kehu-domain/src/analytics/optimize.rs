//! A small BFGS minimiser for the 3–4 parameter likelihoods here. They have
//! analytic gradients, so a quasi-Newton method needs a few dozen
//! evaluations where Nelder–Mead needed thousands (measured: T8 in
//! docs/BENCHMARKS.md). Written here to keep the domain free of
//! optimisation dependencies.

/// Result of a minimisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Minimum {
    pub x: Vec<f64>,
    pub value: f64,
    /// Calls of the objective (value and gradient together).
    pub evaluations: usize,
    /// The final inverse-Hessian estimate, row-major n×n: a warm start for
    /// a second minimisation of a similar function.
    pub inverse_hessian: Vec<f64>,
}

/// An objective: returns f(x) and writes ∇f(x) into the second argument.
pub type Objective<'a> = dyn FnMut(&[f64], &mut [f64]) -> f64 + 'a;

/// Relative decrease of f below which a step is not worth taking: a few
/// thousand ulps of a mean log-likelihood; the parameters it leaves
/// unsettled move predictions by far less than the models' own error.
const FTOL: f64 = 1e-12;

/// Longest step (max norm) tried in one line search: the parameters here are
/// logarithms, so this bounds a step to a factor of e⁴ and keeps exp() finite.
const MAX_STEP: f64 = 4.0;

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn identity(n: usize) -> Vec<f64> {
    let mut h = vec![0.0; n * n];
    for i in 0..n {
        h[i * n + i] = 1.0;
    }
    h
}

/// Minimises `f` from `start` by BFGS with a backtracking (Armijo) line
/// search. Stops when every gradient component is within `gtol`, when the
/// next step promises a decrease below `FTOL`·|f|, when no
/// step along the search direction lowers f any more (the optimum to
/// rounding), or after `max_iterations`. Non-finite values count as +∞, so
/// line searches back away from invalid regions. `inverse_hessian`, when
/// given, seeds the curvature estimate (e.g. from a fit on a subsample).
pub fn bfgs(
    f: &mut Objective,
    start: &[f64],
    inverse_hessian: Option<&[f64]>,
    gtol: f64,
    max_iterations: usize,
) -> Minimum {
    let n = start.len();
    let mut x = start.to_vec();
    let mut g = vec![0.0; n];
    let mut fx = f(&x, &mut g);
    let mut evaluations = 1;
    let mut h = match inverse_hessian {
        Some(h0) if h0.len() == n * n => h0.to_vec(),
        _ => identity(n),
    };
    let mut scaled = inverse_hessian.is_some();
    if !fx.is_finite() || g.iter().any(|v| !v.is_finite()) {
        return Minimum {
            x,
            value: f64::INFINITY,
            evaluations,
            inverse_hessian: h,
        };
    }
    let (mut x_new, mut g_new, mut p) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    for _ in 0..max_iterations {
        if g.iter().all(|v| v.abs() <= gtol) {
            break;
        }
        for i in 0..n {
            p[i] = -dot(&h[i * n..(i + 1) * n], &g);
        }
        let mut slope = dot(&g, &p);
        if slope >= 0.0 || !slope.is_finite() {
            // Curvature estimate gone bad: restart from steepest descent.
            h = identity(n);
            scaled = false;
            p.iter_mut().zip(&g).for_each(|(pi, gi)| *pi = -gi);
            slope = dot(&g, &p);
        }
        if -slope <= FTOL * fx.abs().max(1.0) {
            // The step promises less than f's last few digits can show
            // (−∇f·p is twice the predicted decrease): at the optimum to
            // rounding, even when |∇f| stays above gtol along a flat ridge.
            break;
        }
        let longest = p.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        let mut t = if longest > MAX_STEP {
            MAX_STEP / longest
        } else {
            1.0
        };
        let mut accepted = None;
        for _ in 0..60 {
            for i in 0..n {
                x_new[i] = x[i] + t * p[i];
            }
            let v = f(&x_new, &mut g_new);
            evaluations += 1;
            if v.is_finite() && g_new.iter().all(|d| d.is_finite()) && v <= fx + 1e-4 * t * slope {
                accepted = Some(v);
                break;
            }
            t *= 0.5;
        }
        let Some(f_new) = accepted else {
            break; // no lower point along p: at the optimum to rounding
        };
        let s: Vec<f64> = (0..n).map(|i| x_new[i] - x[i]).collect();
        let y: Vec<f64> = (0..n).map(|i| g_new[i] - g[i]).collect();
        let sy = dot(&s, &y);
        let improved = fx - f_new;
        x.copy_from_slice(&x_new);
        g.copy_from_slice(&g_new);
        fx = f_new;
        if sy > 1e-300 {
            if !scaled {
                // The usual first-step scaling, so H starts at the right size.
                let scale = sy / dot(&y, &y);
                h.iter_mut().for_each(|v| *v *= scale);
                scaled = true;
            }
            // H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ, with ρ = 1 / sᵀy.
            let rho = 1.0 / sy;
            let hy: Vec<f64> = (0..n).map(|i| dot(&h[i * n..(i + 1) * n], &y)).collect();
            let yhy = dot(&y, &hy);
            for i in 0..n {
                for j in 0..n {
                    h[i * n + j] += -rho * (hy[i] * s[j] + s[i] * hy[j])
                        + (rho * rho * yhy + rho) * s[i] * s[j];
                }
            }
        }
        if improved <= f64::EPSILON * fx.abs() && s.iter().all(|v| v.abs() <= 1e-14) {
            break;
        }
    }
    Minimum {
        x,
        value: fx,
        evaluations,
        inverse_hessian: h,
    }
}

/// Fits on every `stride`-th row first (cheap, from `start`), then on all
/// rows from there with the subsample's curvature estimate, which is close
/// because both objectives are means over customers. `make(stride)` builds
/// the objective over every `stride`-th row; stride 1 is all rows.
pub fn bfgs_two_stage<'a>(
    make: &dyn Fn(usize) -> Box<Objective<'a>>,
    rows: usize,
    start: &[f64],
    gtol: f64,
) -> Minimum {
    // Below ~40k rows one stage is already cheap.
    const SAMPLE: usize = 20_000;
    let stride = rows / SAMPLE;
    if stride < 2 {
        return bfgs(&mut *make(1), start, None, gtol, 500);
    }
    let warm = bfgs(&mut *make(stride), start, None, gtol * 10.0, 500);
    let mut full = make(1);
    let finish = bfgs(&mut *full, &warm.x, Some(&warm.inverse_hessian), gtol, 500);
    Minimum {
        evaluations: warm.evaluations + finish.evaluations,
        ..finish
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rosenbrock(x: &[f64], g: &mut [f64]) -> f64 {
        g[0] = -2.0 * (1.0 - x[0]) - 400.0 * x[0] * (x[1] - x[0] * x[0]);
        g[1] = 200.0 * (x[1] - x[0] * x[0]);
        (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2)
    }

    #[test]
    fn bfgs_finds_rosenbrock_minimum() {
        let m = bfgs(&mut rosenbrock, &[-1.2, 1.0], None, 1e-10, 1_000);
        assert!(
            (m.x[0] - 1.0).abs() < 1e-8 && (m.x[1] - 1.0).abs() < 1e-8,
            "{m:?}"
        );
        assert!(m.evaluations < 200, "{m:?}");
    }

    #[test]
    fn bfgs_backs_away_from_invalid_regions() {
        // (x − 1)², undefined below 0.5; an overconfident curvature estimate
        // makes the first trial step land at −1, which must be refused.
        let mut f = |x: &[f64], g: &mut [f64]| {
            if x[0] < 0.5 {
                g[0] = f64::NAN;
                return f64::NAN;
            }
            g[0] = 2.0 * (x[0] - 1.0);
            (x[0] - 1.0).powi(2)
        };
        let m = bfgs(&mut f, &[3.0], Some(&[5.0]), 1e-12, 200);
        assert!((m.x[0] - 1.0).abs() < 1e-9, "{m:?}");
        assert!(m.value.is_finite());
    }

    #[test]
    fn a_warm_start_needs_fewer_evaluations() {
        let cold = bfgs(&mut rosenbrock, &[0.9, 0.8], None, 1e-10, 1_000);
        let warm = bfgs(
            &mut rosenbrock,
            &[0.99, 0.98],
            Some(&cold.inverse_hessian),
            1e-10,
            1_000,
        );
        assert!((warm.x[0] - 1.0).abs() < 1e-8, "{warm:?}");
        assert!(warm.evaluations < cold.evaluations, "{cold:?} {warm:?}");
    }
}
