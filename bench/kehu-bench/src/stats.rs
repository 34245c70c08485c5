//! Medians, spreads, the rerun-once rule and verdicts (PERFORMANCE.md:
//! "A block whose runs vary by more than 10 % is rerun once, then reported
//! as inconclusive, never as a pass").

pub const MAX_SPREAD: f64 = 0.10;

pub fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// Coefficient of variation (sample standard deviation / mean): how much
/// the runs of a block disagree. "Vary by more than 10 %" means cv > 0.10.
pub fn cv(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    if mean == 0.0 {
        return 0.0;
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    var.sqrt() / mean.abs()
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// One measured quantity of a block: its value in every run, and whether
/// the block stayed too noisy after its one rerun.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Series {
    pub values: Vec<f64>,
    pub noisy: bool,
    pub reran: bool,
}

impl Series {
    pub fn exact(v: f64) -> Series {
        Series {
            values: vec![v],
            noisy: false,
            reran: false,
        }
    }
    pub fn median(&self) -> f64 {
        median(&self.values)
    }
}

/// A threshold on a series: `≥` or `≤` a limit.
#[derive(Clone, Debug)]
pub struct Check {
    pub what: String,
    pub series: Series,
    pub at_least: bool,
    pub limit: f64,
}

impl Check {
    pub fn min(what: &str, series: Series, limit: f64) -> Check {
        Check {
            what: what.into(),
            series,
            at_least: true,
            limit,
        }
    }
    pub fn max(what: &str, series: Series, limit: f64) -> Check {
        Check {
            what: what.into(),
            series,
            at_least: false,
            limit,
        }
    }
    fn ok(&self, v: f64) -> bool {
        if v.is_nan() {
            return false;
        }
        if self.at_least {
            v >= self.limit
        } else {
            v <= self.limit
        }
    }
    pub fn passes(&self) -> bool {
        self.ok(self.series.median())
    }
    /// How the individual runs of a noisy check fell.
    fn runs_note(&self) -> String {
        let good = self.series.values.iter().filter(|v| self.ok(**v)).count();
        let n = self.series.values.len();
        if good == n {
            format!("{}: noisy, all {n} runs meet it", self.what)
        } else if good == 0 {
            format!("{}: noisy, all {n} runs miss it", self.what)
        } else {
            format!("{}: noisy, {good} of {n} runs meet it", self.what)
        }
    }
}

/// PASS only when every check passes on runs that agree; a check that fails
/// on agreeing runs is a FAIL whatever the others say; otherwise inconclusive.
pub fn verdict(checks: &[Check]) -> (String, Vec<String>) {
    let mut notes = Vec::new();
    let mut hard_fail = false;
    let mut noisy = false;
    for c in checks {
        if c.series.noisy {
            noisy = true;
            notes.push(c.runs_note());
        } else if !c.passes() {
            hard_fail = true;
            notes.push(format!("{} missed", c.what));
        }
    }
    let v = if hard_fail {
        "FAIL"
    } else if noisy {
        "inconclusive"
    } else {
        "PASS"
    };
    (v.to_string(), notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_spread() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!((cv(&[0.9, 1.0, 1.1]) - 0.1).abs() < 1e-9);
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 50.0), 2.0);
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 99.0), 4.0);
    }

    #[test]
    fn noise_is_never_a_pass() {
        let noisy = Series {
            values: vec![0.6, 0.9, 0.7],
            noisy: true,
            reran: true,
        };
        let (v, _) = verdict(&[Check::min("ratio", noisy.clone(), 0.5)]);
        assert_eq!(v, "inconclusive");
        let quiet_fail = Series {
            values: vec![0.4, 0.41, 0.4],
            ..Default::default()
        };
        let (v, _) = verdict(&[
            Check::min("ratio", noisy, 0.5),
            Check::min("r", quiet_fail, 0.5),
        ]);
        assert_eq!(v, "FAIL");
    }
}
