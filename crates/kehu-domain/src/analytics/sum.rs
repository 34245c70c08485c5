//! Accurate, parallel sums of per-customer terms for the likelihoods.
//!
//! A log-likelihood over 10⁶ customers adds terms of size ~10² into totals
//! of ~10⁸; added one by one, rounding leaves noise of ~10⁻¹¹ in the mean,
//! which is more than the optimiser's last steps change, so it cannot tell
//! descent from noise. Here rows are summed plainly in short blocks and
//! the block totals with Neumaier's compensation.

/// A compensated (Neumaier) running sum.
#[derive(Debug, Default, Clone, Copy)]
struct Sum {
    s: f64,
    c: f64,
}

impl Sum {
    fn add(&mut self, v: f64) {
        let t = self.s + v;
        self.c += if self.s.abs() >= v.abs() {
            (self.s - t) + v
        } else {
            (v - t) + self.s
        };
        self.s = t;
    }

    fn value(self) -> f64 {
        self.s + self.c
    }
}

/// Rows summed plainly before their total joins the compensated sum.
const BLOCK: usize = 256;
/// Inputs this long are split into [`PARTS`] parts summed on threads.
const PARALLEL_FROM: usize = 32_768;
/// A fixed split, so a result does not depend on the machine's cores.
const PARTS: usize = 4;

fn sum_part<T, const K: usize>(rows: &[T], f: &(impl Fn(&T, &mut [f64; K]) + Sync)) -> [Sum; K] {
    let mut total = [Sum::default(); K];
    for block in rows.chunks(BLOCK) {
        let mut acc = [0.0; K];
        for row in block {
            f(row, &mut acc);
        }
        for (t, a) in total.iter_mut().zip(acc) {
            t.add(a);
        }
    }
    total
}

/// K totals over `rows`, where `f(row, acc)` adds one row's terms to `acc`.
/// Long inputs are summed in parallel (std threads; the domain stays free
/// of a thread-pool dependency).
pub(crate) fn sum_rows<T: Sync, const K: usize>(
    rows: &[T],
    f: impl Fn(&T, &mut [f64; K]) + Sync,
) -> [f64; K] {
    let parts: Vec<[Sum; K]> = if rows.len() < PARALLEL_FROM {
        vec![sum_part(rows, &f)]
    } else {
        let size = rows.len().div_ceil(PARTS);
        let f = &f;
        std::thread::scope(|scope| {
            let mut chunks = rows.chunks(size);
            let first = chunks.next().unwrap_or(&[]);
            let others: Vec<_> = chunks
                .map(|c| scope.spawn(move || sum_part(c, f)))
                .collect();
            let mut out = vec![sum_part(first, f)];
            out.extend(
                others
                    .into_iter()
                    .map(|h| h.join().expect("summing thread")),
            );
            out
        })
    };
    let mut total = [Sum::default(); K];
    for part in parts {
        for (t, p) in total.iter_mut().zip(part) {
            t.add(p.s);
            t.add(p.c);
        }
    }
    total.map(Sum::value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_are_exact_where_plain_addition_drifts() {
        // 10⁶ terms of 100.1: the total passes 10⁸, where one ulp is 1.5e-8.
        let rows = vec![100.1_f64; 1_000_000];
        let [s] = sum_rows(&rows, |v, acc: &mut [f64; 1]| acc[0] += v);
        let exact = 100.1 * 1e6; // the f64 nearest the exact sum
        let plain: f64 = rows.iter().sum();
        let (ours, theirs) = ((s - exact).abs(), (plain - exact).abs());
        assert!(ours < 1e-14 * exact, "{s} vs {exact}");
        assert!(
            theirs > 100.0 * ours,
            "plain {plain} should drift more than {s}"
        );
        // The same on a short input (one part, no threads), and two totals at once.
        let [a, b] = sum_rows(&rows[..1_000], |v, acc: &mut [f64; 2]| {
            acc[0] += v;
            acc[1] -= 2.0 * v;
        });
        assert!(
            (a - 100_100.0).abs() < 1e-9 && (b + 2.0 * a).abs() < 1e-9,
            "{a} {b}"
        );
    }
}
