//! Simulation, property and reference tests for the statistical models.
//!
//! Order logs are generated from the models' own generative story with a
//! seeded generator written here, fitted, and the parameters compared with
//! the truth within tolerances stated at each assertion.

use super::*;

/// SplitMix64: tiny, seedable, good enough for Monte Carlo tests.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform on the open interval (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
    /// Gamma(shape, rate) by Marsaglia–Tsang, boosted for shape < 1.
    fn gamma(&mut self, shape: f64, rate: f64) -> f64 {
        if shape < 1.0 {
            let g = self.gamma(shape + 1.0, 1.0);
            return g * self.uniform().powf(1.0 / shape) / rate;
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = (1.0 + c * x).powi(3);
            if v <= 0.0 {
                continue;
            }
            let u = self.uniform();
            if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v / rate;
            }
        }
    }
    fn beta(&mut self, a: f64, b: f64) -> f64 {
        let x = self.gamma(a, 1.0);
        let y = self.gamma(b, 1.0);
        x / (x + y)
    }
    fn exponential(&mut self, rate: f64) -> f64 {
        -self.uniform().ln() / rate
    }
}

/// CDNOW estimates (Fader, Hardie & Lee 2005), in weeks.
const CDNOW: BgNbdParams = BgNbdParams {
    r: 0.243,
    alpha: 4.414,
    a: 0.793,
    b: 2.426,
};

/// Calibration end: day 273 = week 39, as in CDNOW's calibration period.
const TAU_DAY: i32 = 273;

/// Order log from the BG/NBD story: acquisition uniform over the first 12
/// weeks (the first purchase), λ ~ Gamma(r, α) per week, a purchase at each
/// event of a Poisson(λ) process, dropout with probability p ~ Beta(a, b)
/// right after each repeat purchase; times are floored to whole days. Spend
/// per order follows Gamma-Gamma (yuan, rounded to 分).
fn simulate_bgnbd(rng: &mut Rng, n: u32, bg: BgNbdParams, gg: GammaGammaParams) -> Vec<Order<u32>> {
    let horizon_weeks = f64::from(TAU_DAY) / 7.0;
    let mut orders = Vec::new();
    for id in 0..n {
        let lambda = rng.gamma(bg.r, bg.alpha);
        let p = rng.beta(bg.a, bg.b);
        let nu = rng.gamma(gg.q, gg.v);
        let spend = |rng: &mut Rng| (rng.gamma(gg.p, nu) * 100.0).round().max(1.0) as i64;
        let mut t = rng.uniform() * 12.0;
        let day = |t: f64| (t * 7.0).floor() as i32;
        orders.push(Order {
            customer_id: id,
            day: day(t),
            amount_fen: spend(rng),
        });
        loop {
            t += rng.exponential(lambda);
            if t > horizon_weeks || day(t) > TAU_DAY {
                break;
            }
            orders.push(Order {
                customer_id: id,
                day: day(t),
                amount_fen: spend(rng),
            });
            if rng.uniform() < p {
                break;
            }
        }
    }
    orders
}

fn rel(est: f64, truth: f64) -> f64 {
    (est - truth).abs() / truth
}

#[test]
fn bgnbd_fit_recovers_cdnow_parameters_from_simulated_orders() {
    let started = std::time::Instant::now();
    let mut rng = Rng(20_051_105);
    let gg = GammaGammaParams {
        p: 6.25,
        q: 3.74,
        v: 15.44,
    };
    let orders = simulate_bgnbd(&mut rng, 12_000, CDNOW, gg);
    let s = repeat_summary(&orders, TAU_DAY, TimeUnit::Week);
    assert_eq!(s.len(), 12_000);
    let fit = fit_bgnbd(&s).expect("fit");
    let p = fit.params;
    // Tolerances, from refitting this setup with 12 other seeds (release
    // build, kept out of the suite for time): the estimates spread with
    // standard deviations of about 2.5 % (r), 3 % (α), 10 % (a) and 12 % (b).
    // Day-level aggregation biases them: with CDNOW's heavy-tailed λ about
    // E[λ²]/(7·E[λ]) ≈ 4 % of repeat purchases fall on the same day as the
    // previous one and merge, so the fitted mean rate r/α comes out ≈ 4 % low
    // (α ≈ +6 %, r ≈ +2.5 % on average over those seeds). Allowed: bias plus
    // ≈ 3 SD. (Extremes seen over the 12 seeds: r 6 %, α 12 %, a 21 %, b 21 %.)
    assert!(rel(p.r, CDNOW.r) < 0.15, "r {p:?}");
    assert!(rel(p.alpha, CDNOW.alpha) < 0.20, "alpha {p:?}");
    assert!(rel(p.a, CDNOW.a) < 0.30, "a {p:?}");
    assert!(rel(p.b, CDNOW.b) < 0.35, "b {p:?}");
    // The optimum beats the truth (it is a maximum of the same likelihood).
    let ll_truth: f64 = s
        .iter()
        .map(|c| CDNOW.log_likelihood(c.x, c.t_x, c.t))
        .sum();
    assert!(
        fit.log_likelihood >= ll_truth - 1e-6,
        "{} < {}",
        fit.log_likelihood,
        ll_truth
    );
    assert!(fit.groups < fit.customers);
    // Grouping by (x, t_x, T) changes nothing: the reported optimum equals the
    // per-customer sum at the fitted parameters (relative 1e-10).
    let ll_each: f64 = s.iter().map(|c| p.log_likelihood(c.x, c.t_x, c.t)).sum();
    assert!(
        rel(ll_each, fit.log_likelihood).abs() < 1e-10,
        "{ll_each} vs {}",
        fit.log_likelihood
    );
    // Same orders in days: the same likelihood shifted by Σx·ln 7 (α_days = 7·α_weeks).
    let sd = repeat_summary(&orders, TAU_DAY, TimeUnit::Day);
    let pd = p.in_unit(TimeUnit::Week, TimeUnit::Day);
    assert!((pd.alpha - 7.0 * p.alpha).abs() < 1e-12);
    let ll_days: f64 = sd.iter().map(|c| pd.log_likelihood(c.x, c.t_x, c.t)).sum();
    let sum_x: f64 = sd.iter().map(|c| f64::from(c.x)).sum();
    assert!((ll_days - (fit.log_likelihood - sum_x * 7f64.ln())).abs() < 1e-6 * ll_days.abs());
    // And the unit-free quantities agree: P(alive) and E[Y(13 weeks)] = E[Y(91 days)].
    for (w, d) in s.iter().zip(&sd).take(200) {
        assert!((p.p_alive(w.x, w.t_x, w.t) - pd.p_alive(d.x, d.t_x, d.t)).abs() < 1e-12);
        let ew = p.expected_purchases(w.x, w.t_x, w.t, 13.0);
        let ed = pd.expected_purchases(d.x, d.t_x, d.t, 91.0);
        assert!((ew - ed).abs() < 1e-10 * ew.max(1e-300), "{ew} vs {ed}");
    }
    eprintln!("bgnbd fit {:?} in {:?}", fit, started.elapsed());
}

#[test]
fn gamma_gamma_fit_recovers_parameters_from_simulated_orders() {
    let started = std::time::Instant::now();
    // 6,000 customers with 2–9 purchase days (x = 1–8), one order a day,
    // spend per order Gamma(p, ν) yuan with ν ~ Gamma(q, v), stored in 分.
    let truth = GammaGammaParams {
        p: 6.25,
        q: 3.74,
        v: 15.44,
    };
    let mut rng = Rng(1_999);
    let mut orders = Vec::new();
    for id in 0..6_000u32 {
        let nu = rng.gamma(truth.q, truth.v);
        let days = 2 + (rng.next_u64() % 8) as i32;
        for d in 0..days {
            let amount = (rng.gamma(truth.p, nu) * 100.0).round().max(1.0) as i64;
            orders.push(Order {
                customer_id: id,
                day: d * 3,
                amount_fen: amount,
            });
        }
    }
    let s = repeat_summary(&orders, 100, TimeUnit::Day);
    let fit = fit_gamma_gamma(&s).expect("fit");
    assert_eq!(fit.customers, 6_000);
    // Fitted in 分, so v comes out 100× the yuan value.
    let p = GammaGammaParams {
        v: fit.params.v / 100.0,
        ..fit.params
    };
    // Tolerances, from refitting this setup with 12 other seeds: p and v trade
    // off (a customer's mean spend is p/ν with E[ν] = q/v, so the data pin
    // p·v down far better than p or v alone) and spread with standard deviations of about 10 % (p)
    // and 13 % (v); q about 2.5 %; the population mean v·p/(q−1) about 1 %.
    // Allowed ≈ 3 SD: p 30 %, q 10 %, v 40 %, mean 5 %. (Extremes seen: p 17 %,
    // q 6 %, v 26 %, mean 1.6 %.) Rounding to 分 changes each order by
    // ≤ 0.5 分 on a mean of ≈ 3,500 分: negligible.
    assert!(rel(p.p, truth.p) < 0.30, "p {p:?}");
    assert!(rel(p.q, truth.q) < 0.10, "q {p:?}");
    assert!(rel(p.v, truth.v) < 0.40, "v {p:?}");
    assert!(
        rel(p.population_mean(), truth.population_mean()) < 0.05,
        "mean {p:?}"
    );
    // Shrinkage: E[M] lies between zbar and the population mean.
    let m = fit.params.population_mean();
    for c in s.iter().take(100) {
        let e = fit.params.expected_average_spend(c.x, c.zbar);
        assert!(e >= c.zbar.min(m) - 1e-9 && e <= c.zbar.max(m) + 1e-9);
    }
    assert_eq!(fit.params.expected_average_spend(0, 0.0), m);
    eprintln!("gamma-gamma fit {:?} in {:?}", fit, started.elapsed());
}

#[test]
fn unconditional_expected_purchases_match_monte_carlo() {
    // E[X(t)] for new customers vs the mean repeat count of 100,000 simulated
    // ones over 39 and 78 weeks (continuous time, no day flooring). Standard
    // error of the mean ≈ 0.6 % here; 3 % allowed.
    let mut rng = Rng(7);
    let n = 100_000;
    let (mut c39, mut c78) = (0u64, 0u64);
    for _ in 0..n {
        let lambda = rng.gamma(CDNOW.r, CDNOW.alpha);
        let p = rng.beta(CDNOW.a, CDNOW.b);
        let mut t = 0.0;
        loop {
            t += rng.exponential(lambda);
            if t > 78.0 {
                break;
            }
            c78 += 1;
            if t <= 39.0 {
                c39 += 1;
            }
            if rng.uniform() < p {
                break;
            }
        }
    }
    for (t, c) in [(39.0, c39), (78.0, c78)] {
        let mc = c as f64 / f64::from(n);
        let model = CDNOW.expected_purchases_new(t);
        assert!(
            rel(model, mc) < 0.03,
            "t = {t}: model {model} vs simulated {mc}"
        );
    }
}

#[test]
fn p_alive_is_a_probability_and_one_without_repeats() {
    let params = [
        CDNOW,
        BgNbdParams {
            r: 2.0,
            alpha: 30.0,
            a: 1.0,
            b: 0.5,
        },
        BgNbdParams {
            r: 0.05,
            alpha: 0.1,
            a: 5.0,
            b: 50.0,
        },
    ];
    for p in params {
        for x in [0u32, 1, 2, 10, 200] {
            for t in [0.0, 1.0, 39.0, 500.0] {
                for frac in [0.0, 0.5, 1.0] {
                    let t_x = if x == 0 { 0.0 } else { t * frac };
                    let pa = p.p_alive(x, t_x, t);
                    assert!(
                        pa.is_finite() && (0.0..=1.0).contains(&pa),
                        "{p:?} x={x} t_x={t_x} T={t}: {pa}"
                    );
                    // Strictly positive unless the true value is below f64's range
                    // (only the 200-purchases-then-silence histories here).
                    if x <= 10 || frac == 1.0 {
                        assert!(pa > 0.0, "{p:?} x={x} t_x={t_x} T={t}: {pa}");
                    }
                    if x == 0 {
                        assert_eq!(pa, 1.0);
                    }
                }
            }
        }
        // A recent buyer is likelier alive than one who stopped long ago.
        assert!(p.p_alive(5, 38.0, 39.0) > p.p_alive(5, 5.0, 39.0));
        // Extreme histories stay finite and positive (no overflow in the odds).
        let pa = p.p_alive(5_000, 1.0, 10_000.0);
        assert!(pa.is_finite() && pa >= 0.0, "{pa}");
        assert_eq!(
            p.p_alive(5_000, 10_000.0, 10_000.0),
            p.p_alive(5_000, 10_000.0, 10_000.0)
        );
        assert!(p.p_alive(5_000, 10_000.0, 10_000.0) > 0.0);
    }
}

#[test]
fn expected_purchases_increase_with_horizon() {
    let customers = [
        (0u32, 0.0, 10.0),
        (2, 30.43, 38.86),
        (7, 5.0, 39.0),
        (30, 38.0, 39.0),
    ];
    for p in [
        CDNOW,
        BgNbdParams { a: 1.7, ..CDNOW },
        BgNbdParams { a: 1.0, ..CDNOW },
    ] {
        for &(x, t_x, t) in &customers {
            let mut prev = 0.0;
            for h in [0.5, 1.0, 4.0, 13.0, 26.0, 52.0, 104.0, 520.0] {
                let e = p.expected_purchases(x, t_x, t, h);
                assert!(
                    e.is_finite() && e > prev,
                    "{p:?} {x} {t_x} {t} h={h}: {e} ≤ {prev}"
                );
                prev = e;
            }
        }
    }
}

#[test]
fn expected_purchases_are_continuous_through_a_equal_one() {
    // The a = 1 value must be finite and within 1e-6 (relative) of a = 1 ± 1e-6,
    // and close to the mean of a = 1 ± 1e-3 (a smooth function of a).
    for &(x, t_x, t, h) in &[
        (0u32, 0.0, 20.0, 39.0),
        (2, 30.43, 38.86, 39.0),
        (12, 30.0, 39.0, 13.0),
    ] {
        let at = |a: f64| BgNbdParams { a, ..CDNOW }.expected_purchases(x, t_x, t, h);
        let e1 = at(1.0);
        assert!(e1.is_finite() && e1 > 0.0);
        for d in [1e-6, -1e-6, 1e-9, -1e-9] {
            assert!(
                rel(at(1.0 + d), e1) < 1e-6,
                "a = 1{d:+e}: {} vs {e1}",
                at(1.0 + d)
            );
        }
        let mid = (at(1.001) + at(0.999)) / 2.0;
        assert!(rel(mid, e1) < 1e-5, "{mid} vs {e1}");
        let new = |a: f64| BgNbdParams { a, ..CDNOW }.expected_purchases_new(h);
        assert!(rel(new(1.0 + 1e-7), new(1.0)) < 1e-6 && new(1.0).is_finite());
    }
}

#[test]
fn cdnow_published_example_customer() {
    // Fader, Hardie & Lee (2005), section 5: with the CDNOW estimates, a
    // customer with x = 2, t_x = 30.43, T = 38.86 weeks is expected to make
    // 1.226 purchases in the next 39 weeks. Published to 3 decimals from
    // parameters rounded to 3 decimals, hence the 0.001 tolerance.
    let e = CDNOW.expected_purchases(2, 30.43, 38.86, 39.0);
    assert!((e - 1.226).abs() < 0.001, "{e}");
    eprintln!(
        "E[Y(39)] = {e}, P(alive) = {}",
        CDNOW.p_alive(2, 30.43, 38.86)
    );
}

#[test]
fn clv_discounts_monthly_increments() {
    let cfg = ClvConfig::default();
    let (x, t_x, t, m) = (2u32, 30.43, 38.86, 3_500.0);
    let v = clv(&CDNOW, TimeUnit::Week, x, t_x, t, m, &cfg);
    // By hand: Σ_k m·(E[Y(4.345k)] − E[Y(4.345(k−1))]) / 1.01^k.
    let mut want = 0.0;
    for k in 1..=12 {
        let d = CDNOW.expected_purchases(x, t_x, t, 4.345 * f64::from(k))
            - CDNOW.expected_purchases(x, t_x, t, 4.345 * f64::from(k - 1));
        want += m * d / 1.01f64.powi(k);
    }
    assert!(rel(v, want) < 1e-12, "{v} vs {want}");
    // Undiscounted it telescopes to m·E[Y(12 months)]; discounting lowers it.
    let flat = clv(
        &CDNOW,
        TimeUnit::Week,
        x,
        t_x,
        t,
        m,
        &ClvConfig {
            monthly_discount: 0.0,
            ..cfg
        },
    );
    assert!(rel(flat, m * CDNOW.expected_purchases(x, t_x, t, 52.14)) < 1e-12);
    assert!(v < flat);
    // The same customer in days gives the same CLV.
    let pd = CDNOW.in_unit(TimeUnit::Week, TimeUnit::Day);
    let vd = clv(&pd, TimeUnit::Day, x, t_x * 7.0, t * 7.0, m, &cfg);
    assert!(rel(vd, v) < 1e-9, "{vd} vs {v}");
    // Margin scales it.
    let half = clv(
        &CDNOW,
        TimeUnit::Week,
        x,
        t_x,
        t,
        m,
        &ClvConfig {
            margin_rate: 0.5,
            ..cfg
        },
    );
    assert!(rel(half, v / 2.0) < 1e-12);
}

#[test]
fn fits_do_not_panic_on_degenerate_data() {
    // Nobody came back: the BG/NBD likelihood has no interior optimum. The fit
    // must still return (or decline) without panicking, and Gamma-Gamma has
    // nobody to fit on.
    let orders: Vec<Order<u32>> = (0..50)
        .map(|i| Order {
            customer_id: i,
            day: i as i32,
            amount_fen: 100,
        })
        .collect();
    let s = repeat_summary(&orders, 60, TimeUnit::Day);
    if let Some(fit) = fit_bgnbd(&s) {
        // The supremum is ln L = 0 (r → 0: "nobody ever buys again"); the fit
        // approaches it, up to rounding in lnΓ(r + 0) − lnΓ(r).
        assert!(fit.log_likelihood.abs() < 1e-6, "{fit:?}");
        assert!(fit.params.r < 1e-3, "{fit:?}");
    }
    assert!(fit_gamma_gamma(&s).is_none());
    assert!(fit_bgnbd::<u32>(&[]).is_none());
}
