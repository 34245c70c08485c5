use kehu_seed::*;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map(|s| s.parse().unwrap()).unwrap_or(20);
    let mode = args.get(2).cloned().unwrap_or_default();
    let cfg = GenConfig::benchmark(n, 42);
    if mode == "speed" {
        let t = std::time::Instant::now();
        let (mut orders, mut lines, mut amount) = (0usize, 0usize, 0i64);
        for c in generate(&cfg) {
            orders += c.orders.len();
            for o in &c.orders {
                lines += o.lines.len();
                amount += o.amount_fen();
            }
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "{n} customers, {orders} orders, {lines} lines, mean amount {:.0} fen in {s:.2}s: {:.0} customers/s {:.0} orders/s",
            amount as f64 / orders as f64,
            n as f64 / s,
            orders as f64 / s
        );
        return;
    }
    if mode == "uniq" {
        uniq(n);
        return;
    }
    if mode == "stats" {
        let mut hist = std::collections::BTreeMap::new();
        let mut maxo = 0;
        let mut person_amt = (0i64, 0usize);
        let mut comp_amt = (0i64, 0usize);
        for c in generate(&cfg) {
            *hist.entry(c.orders.len().min(30)).or_insert(0) += 1;
            maxo = maxo.max(c.orders.len());
            for o in &c.orders {
                let a = o.amount_fen();
                match c.kind {
                    Kind::Person => {
                        person_amt.0 += a;
                        person_amt.1 += 1
                    }
                    Kind::Company => {
                        comp_amt.0 += a;
                        comp_amt.1 += 1
                    }
                }
            }
        }
        println!("{hist:?} max {maxo}");
        println!(
            "person mean {} company mean {}",
            person_amt.0 as f64 / person_amt.1 as f64 / 100.0,
            comp_amt.0 as f64 / comp_amt.1 as f64 / 100.0
        );
        return;
    }
    for c in generate(&cfg) {
        println!(
            "#{} {:?} {} {:?} m={:?} l={:?} e={:?} {}/{}/{}/{} ({}) ind={:?} occ={:?} emp={:?} src={} bd={:?} id={:?} uscc={:?} notes={:?} owner={} created={} dup={:?}",
            c.index,
            c.kind,
            c.name,
            c.gender,
            c.mobiles,
            c.landlines,
            c.emails,
            c.province,
            c.city,
            c.district,
            c.address,
            c.district_code,
            c.industry,
            c.occupation,
            c.employer,
            c.source,
            c.birthday,
            c.id_number,
            c.uscc,
            c.notes,
            c.owner,
            c.created_on,
            c.duplicate_of
        );
        for k in &c.contacts {
            println!(
                "    contact {} {} {} {:?} {}",
                k.name, k.title, k.mobile, k.email, k.is_primary
            );
        }
        for o in c.orders.iter().take(3) {
            println!(
                "    order {} {} {:?}",
                o.date,
                o.channel,
                o.lines
                    .iter()
                    .map(|l| format!("{}x{} {}", l.product, l.quantity, l.amount_fen))
                    .collect::<Vec<_>>()
            );
        }
        println!("    orders={} latent={:?}", c.orders.len(), c.latent);
    }
}
#[allow(dead_code)]
pub fn uniq(n: usize) {
    use std::collections::HashMap;
    let cfg = GenConfig::benchmark(n, 42);
    let cs: Vec<_> = generate(&cfg).collect();
    let mut root: Vec<usize> = (0..n).collect();
    fn find(r: &mut [usize], mut i: usize) -> usize {
        while r[i] != i {
            i = r[i];
        }
        i
    }
    for c in &cs {
        if let Some(s) = c.duplicate_of {
            let a = find(&mut root, c.index);
            let b = find(&mut root, s);
            root[a] = b;
        }
    }
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let mut maps: HashMap<&str, HashMap<String, usize>> = HashMap::new();
    for c in &cs {
        let cl = find(&mut root, c.index);
        let mut add = |kind: &'static str, v: String| {
            let m = maps.entry(kind).or_default();
            let e = *m.entry(v).or_insert(cl);
            if e != cl {
                *counts.entry(kind).or_default() += 1;
            }
        };
        for m in &c.mobiles {
            add("mobile", m.clone());
        }
        for k in &c.contacts {
            if !k.mobile.is_empty() {
                add("mobile", k.mobile.clone());
            }
            if let Some(e) = &k.email {
                add("email", e.to_lowercase());
            }
        }
        for l in &c.landlines {
            add("landline", l.clone());
        }
        for e in &c.emails {
            add("email", e.to_lowercase());
        }
        if let Some(i) = &c.id_number {
            add("id", i.clone());
        }
        if let Some(u) = &c.uscc {
            add("uscc", u.clone());
        }
        if c.kind == Kind::Company {
            add("company_name", c.name.clone());
        } else {
            add("person_name", c.name.clone());
        }
    }
    println!("collisions between unrelated clusters: {counts:?}");
}
