//! What a customer does: owner, creation date, source, and the order history drawn
//! from the BG/NBD + Gamma-Gamma story in `params`.

use std::sync::LazyLock;

use rand::Rng;
use rand_distr::{Beta, Distribution, Gamma};
use time::Date;

use crate::catalogue::{self, CATEGORIES, Product};
use crate::params::*;
use crate::pick::{Weighted, one};
use crate::text::{self, CHANNELS};
use crate::{GenConfig, GenLine, GenOrder, Kind, Latent, Window};

pub(crate) struct Behaviour {
    pub source: &'static str,
    pub notes: Option<&'static str>,
    pub owner: usize,
    pub created_on: Date,
    pub orders: Vec<GenOrder>,
    pub latent: Option<Latent>,
}

static RATE: LazyLock<Gamma<f64>> =
    LazyLock::new(|| Gamma::new(R, 1.0 / ALPHA_DAYS).expect("valid Gamma"));
static DROPOUT: LazyLock<Beta<f64>> =
    LazyLock::new(|| Beta::new(DROPOUT_A, DROPOUT_B).expect("valid Beta"));
static NU_PERSON: LazyLock<Gamma<f64>> =
    LazyLock::new(|| Gamma::new(SPEND_Q, 1.0 / SPEND_GAMMA_PERSON).expect("valid Gamma"));
static NU_COMPANY: LazyLock<Gamma<f64>> =
    LazyLock::new(|| Gamma::new(SPEND_Q, 1.0 / SPEND_GAMMA_COMPANY).expect("valid Gamma"));

/// How people and companies spread their purchases over the categories (index into
/// `CATEGORIES`): people buy accessories and gifts, companies supplies and equipment.
#[rustfmt::skip]
static PERSON_CATEGORIES: &[(usize, u32)] = &[
    (0, 8), (1, 10), (2, 20), (3, 10), (4, 8), (5, 5), (6, 20), (7, 4), (8, 10), (9, 5),
];
#[rustfmt::skip]
static COMPANY_CATEGORIES: &[(usize, u32)] = &[
    (0, 18), (1, 14), (2, 12), (3, 14), (4, 10), (5, 8), (6, 8), (7, 8), (8, 5), (9, 3),
];
static PERSON_CATEGORY_TABLE: LazyLock<Weighted<usize>> =
    LazyLock::new(|| Weighted::new(PERSON_CATEGORIES));
static COMPANY_CATEGORY_TABLE: LazyLock<Weighted<usize>> =
    LazyLock::new(|| Weighted::new(COMPANY_CATEGORIES));

/// Cheapest unit price per category, to steer small orders away from categories they
/// cannot afford.
static CHEAPEST: LazyLock<[i64; CATEGORIES.len()]> = LazyLock::new(|| {
    std::array::from_fn(|c| {
        catalogue::in_category(c)
            .iter()
            .map(|p| p.unit_price_fen)
            .min()
            .expect("non-empty")
    })
});

/// A customer's habits: favourite categories and usual channel.
struct Habits {
    kind: Kind,
    favourites: [usize; 3],
    favourite_count: usize,
    channel: usize,
}

impl Habits {
    fn draw<R: Rng + ?Sized>(rng: &mut R, kind: Kind) -> Self {
        let mut favourites = [0; 3];
        let wanted = match rng.random_range(0..100) {
            0..=39 => 1,
            40..=74 => 2,
            _ => 3,
        };
        let mut count = 0;
        for _ in 0..wanted * 3 {
            let c = *category_table(kind).pick(rng);
            if !favourites[..count].contains(&c) {
                favourites[count] = c;
                count += 1;
                if count == wanted {
                    break;
                }
            }
        }
        Habits {
            kind,
            favourites,
            favourite_count: count.max(1),
            channel: *channel_table(kind).pick(rng),
        }
    }
}

fn category_table(kind: Kind) -> &'static Weighted<usize> {
    match kind {
        Kind::Person => &PERSON_CATEGORY_TABLE,
        Kind::Company => &COMPANY_CATEGORY_TABLE,
    }
}

fn channel_table(kind: Kind) -> &'static Weighted<usize> {
    match kind {
        Kind::Person => &text::PERSON_CHANNEL_TABLE,
        Kind::Company => &text::COMPANY_CHANNEL_TABLE,
    }
}

/// Exponential draw with the given mean.
fn exponential<R: Rng + ?Sized>(rng: &mut R, mean: f64) -> f64 {
    let u: f64 = rng.random();
    -mean * (1.0 - u).ln()
}

pub(crate) fn behaviour<R: Rng + ?Sized>(
    rng: &mut R,
    cfg: &GenConfig,
    window: &Window,
    kind: Kind,
) -> Behaviour {
    // A few reps own most accounts, as in real sales teams.
    let owners = cfg.owners.max(1);
    let u: f64 = rng.random();
    let owner = ((owners as f64 * u.powf(1.3)) as usize).min(owners - 1);

    // Acquisition is front-loaded: the bulk of the base exists early in the window (the
    // CRM's first months absorb the existing customers), new ones keep arriving.
    let u: f64 = rng.random();
    let created = window.start + ((window.days() as f64 * u * u) as i32).min(window.days() - 1);

    let source = match kind {
        Kind::Person => *text::PERSON_SOURCE_TABLE.pick(rng),
        Kind::Company => *text::COMPANY_SOURCE_TABLE.pick(rng),
    };
    let notes = rng.random_bool(0.3).then(|| match kind {
        Kind::Person => *one(rng, text::PERSON_NOTES),
        Kind::Company => *one(rng, text::COMPANY_NOTES),
    });

    let mut behaviour = Behaviour {
        source,
        notes,
        owner,
        created_on: window.date(created),
        orders: Vec::new(),
        latent: None,
    };
    if rng.random_bool(PROSPECT_SHARE) {
        return behaviour;
    }

    let rate = RATE.sample(rng);
    let dropout = DROPOUT.sample(rng);
    let nu = match kind {
        Kind::Person => NU_PERSON.sample(rng),
        Kind::Company => NU_COMPANY.sample(rng),
    };
    let spend = Gamma::new(SPEND_P, 1.0 / nu).expect("valid Gamma");
    let habits = Habits::draw(rng, kind);

    // Continuous time in days; an order falls on the day its instant is in.
    let horizon = f64::from(window.end) + 1.0;
    let mut t = f64::from(created) + exponential(rng, FIRST_PURCHASE_DELAY_DAYS);
    let mut alive = true;
    if t < horizon {
        let orders = &mut behaviour.orders;
        // Pre-size for the expected count (capped): saves most reallocations.
        let expected = (rate * (horizon - t)).min(64.0) as usize + 1;
        orders.reserve(expected);
        purchase(rng, window, t, &spend, &habits, orders);
        // Repeat purchases arrive at rate λ; after each the customer may drop out.
        if rate > 0.0 {
            loop {
                t += exponential(rng, 1.0 / rate);
                if t >= horizon {
                    break;
                }
                purchase(rng, window, t, &spend, &habits, orders);
                if rng.random_bool(dropout) {
                    alive = false;
                    break;
                }
            }
        }
    }
    behaviour.latent = Some(Latent {
        purchase_rate_per_day: rate,
        dropout_p: dropout,
        spend_nu: nu,
        alive_at_end: alive,
    });
    behaviour
}

/// One purchase day: usually one order, now and then a second one the same day (a
/// follow-up through another channel) — analytics must count distinct days.
fn purchase<R: Rng + ?Sized>(
    rng: &mut R,
    window: &Window,
    t: f64,
    spend: &Gamma<f64>,
    habits: &Habits,
    orders: &mut Vec<GenOrder>,
) {
    let date = window.date(t as i32);
    orders.push(order(rng, date, spend, habits));
    if rng.random_bool(0.02) {
        orders.push(order(rng, date, spend, habits));
    }
}

/// An order whose total approximates a Gamma-Gamma spend draw, made of 1–4 catalogue
/// lines in whole quantities.
fn order<R: Rng + ?Sized>(
    rng: &mut R,
    date: Date,
    spend: &Gamma<f64>,
    habits: &Habits,
) -> GenOrder {
    let target = spend.sample(rng).max(500.0);
    let line_count = match (habits.kind, rng.random_range(0..100)) {
        (Kind::Person, 0..=54) | (Kind::Company, 0..=29) => 1,
        (Kind::Person, 55..=82) | (Kind::Company, 30..=59) => 2,
        (Kind::Person, 83..=94) | (Kind::Company, 60..=81) => 3,
        _ => 4,
    };
    // Small orders have few lines: every line is worth at least about ¥50.
    let line_count = line_count.min(((target / 5_000.0) as usize).max(1));
    let max_quantity = match habits.kind {
        Kind::Person => 20,
        Kind::Company => 200,
    };
    let mut weights = [0.0f64; 4];
    for w in weights.iter_mut().take(line_count) {
        *w = 0.5 + rng.random::<f64>();
    }
    let weight_sum: f64 = weights.iter().sum();

    let mut lines: Vec<GenLine> = Vec::with_capacity(line_count);
    for w in &weights[..line_count] {
        let share = target * w / weight_sum;
        let product = choose_product(rng, habits, share);
        let quantity =
            ((share / product.unit_price_fen as f64).round() as i64).clamp(1, max_quantity);
        let percent = match rng.random_range(0..100) {
            0..=79 => 100,
            80..=94 => 95,
            _ => 90,
        };
        let amount = quantity * product.unit_price_fen * percent / 100;
        // The same product twice in one order is one line with a larger quantity.
        if let Some(line) = lines.iter_mut().find(|l| l.sku == product.sku) {
            line.quantity += quantity;
            line.amount_fen += amount;
            continue;
        }
        lines.push(GenLine {
            product: product.name.to_owned(),
            category: product.category.to_owned(),
            sku: product.sku,
            quantity,
            unit_price_fen: product.unit_price_fen,
            amount_fen: amount,
        });
    }

    let channel = if rng.random_bool(0.75) {
        habits.channel
    } else {
        *channel_table(habits.kind).pick(rng)
    };
    GenOrder {
        date,
        channel: CHANNELS[channel].to_owned(),
        lines,
    }
}

/// A product for a line worth about `share`: from a favourite category most of the time,
/// and among its products one the share can pay for, so order totals track the spend
/// draw instead of being inflated by a minimum of one expensive item.
fn choose_product<R: Rng + ?Sized>(rng: &mut R, habits: &Habits, share: f64) -> &'static Product {
    let mut category = None;
    for _ in 0..6 {
        let c = if rng.random_bool(0.8) {
            habits.favourites[rng.random_range(0..habits.favourite_count)]
        } else {
            *category_table(habits.kind).pick(rng)
        };
        if CHEAPEST[c] as f64 <= share * 1.3 {
            category = Some(c);
            break;
        }
    }
    // Nothing affordable among the habits: small items from the office-supplies shelf.
    let products = catalogue::in_category(category.unwrap_or(0));
    let affordable = products
        .iter()
        .filter(|p| p.unit_price_fen as f64 <= share * 1.3)
        .count();
    if affordable == 0 {
        return products
            .iter()
            .min_by_key(|p| p.unit_price_fen)
            .expect("non-empty");
    }
    let nth = rng.random_range(0..affordable);
    products
        .iter()
        .filter(|p| p.unit_price_fen as f64 <= share * 1.3)
        .nth(nth)
        .expect("counted above")
}
