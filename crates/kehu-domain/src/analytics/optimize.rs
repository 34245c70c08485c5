//! A small Nelder–Mead minimiser: the likelihoods here have 3–4 parameters
//! and cheap evaluations, so a derivative-free method is enough and keeps
//! the domain free of optimisation dependencies.

/// Result of a minimisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Minimum {
    pub x: Vec<f64>,
    pub value: f64,
    pub evaluations: usize,
}

/// Minimises `f` from `start` with initial step `step` per coordinate.
/// Non-finite values are treated as +∞ (so the simplex walks away from
/// invalid regions). Restarts from the best point until a restart no longer
/// improves by more than `ftol`, which guards against the premature
/// collapse Nelder–Mead is known for.
pub fn nelder_mead(
    f: &dyn Fn(&[f64]) -> f64,
    start: &[f64],
    step: f64,
    ftol: f64,
    max_evaluations: usize,
) -> Minimum {
    let eval = |x: &[f64]| {
        let v = f(x);
        if v.is_finite() { v } else { f64::INFINITY }
    };
    let n = start.len();
    let mut best = Minimum {
        x: start.to_vec(),
        value: eval(start),
        evaluations: 1,
    };
    for _restart in 0..5 {
        let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n + 1);
        simplex.push((best.x.clone(), best.value));
        for i in 0..n {
            let mut p = best.x.clone();
            p[i] += step;
            let v = eval(&p);
            simplex.push((p, v));
        }
        let mut evals = n;
        while evals < max_evaluations {
            simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
            let (lo, hi) = (simplex[0].1, simplex[n].1);
            if (hi - lo).abs() <= ftol * (lo.abs() + ftol) {
                break;
            }
            let centroid: Vec<f64> = (0..n)
                .map(|j| simplex[..n].iter().map(|p| p.0[j]).sum::<f64>() / n as f64)
                .collect();
            let along = |t: f64| -> Vec<f64> {
                (0..n)
                    .map(|j| centroid[j] + t * (simplex[n].0[j] - centroid[j]))
                    .collect()
            };
            let xr = along(-1.0);
            let fr = eval(&xr);
            evals += 1;
            if fr < simplex[0].1 {
                let xe = along(-2.0);
                let fe = eval(&xe);
                evals += 1;
                simplex[n] = if fe < fr { (xe, fe) } else { (xr, fr) };
            } else if fr < simplex[n - 1].1 {
                simplex[n] = (xr, fr);
            } else {
                let (xc, fc) = if fr < simplex[n].1 {
                    let xc = along(-0.5);
                    let fc = eval(&xc);
                    (xc, fc)
                } else {
                    let xc = along(0.5);
                    let fc = eval(&xc);
                    (xc, fc)
                };
                evals += 1;
                if fc < simplex[n].1.min(fr) {
                    simplex[n] = (xc, fc);
                } else {
                    let x0 = simplex[0].0.clone();
                    for p in simplex.iter_mut().skip(1) {
                        for (pj, x0j) in p.0.iter_mut().zip(&x0) {
                            *pj = x0j + 0.5 * (*pj - x0j);
                        }
                        p.1 = eval(&p.0);
                    }
                    evals += n;
                }
            }
        }
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let improved = best.value - simplex[0].1;
        best.evaluations += evals;
        if simplex[0].1 <= best.value {
            best.x = simplex[0].0.clone();
            best.value = simplex[0].1;
        }
        // (A NaN improvement, from an all-infinite simplex, also stops.)
        let improved_enough = improved > ftol * (best.value.abs() + ftol);
        if !improved_enough || best.evaluations >= max_evaluations {
            break;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nelder_mead_finds_rosenbrock_minimum() {
        let f = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let m = nelder_mead(&f, &[-1.2, 1.0], 0.5, 1e-14, 20_000);
        assert!(
            (m.x[0] - 1.0).abs() < 1e-4 && (m.x[1] - 1.0).abs() < 1e-4,
            "{m:?}"
        );
    }
}
