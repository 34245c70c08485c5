"""The Python floors of PERFORMANCE.md (T7's F_duckdb, T8's F_lifetimes) and the
agreement checks between them and Kehu. Run by `kehu-bench suite` with the
interpreter of bench/.venv (bench/run creates it from requirements.txt).

Every subcommand prints one JSON object on stdout. Times are taken inside the
process with time.perf_counter(); what each one covers is stated next to it
(and in docs/BENCHMARKS.md).

    floors.py lifetimes --orders O.csv --as-of 2025-12-31 --horizon 13 --out L.csv
    floors.py duckdb    --orders O.csv --as-of 2026-11-23 [--threads 1] [--out rfm.csv]
    floors.py compare-t8  --kehu K.csv --kehu-params '{…}' --lifetimes L.csv --lifetimes-params '{…}'
    floors.py compare-rfm --kehu K.csv --duckdb rfm.csv
"""

import argparse
import json
import sys
import time

T_START = time.perf_counter()


def ms(t0, t1):
    return round((t1 - t0) * 1000.0, 3)


# --------------------------------------------------------------- F_lifetimes
def run_lifetimes(a):
    t_imp0 = time.perf_counter()
    import warnings

    import numpy as np
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    warnings.simplefilter("ignore")
    t_imp1 = time.perf_counter()

    # Timed from here (the floor): read the order CSV, build the summary with
    # lifetimes' own function, fit both models, score every customer, write CSV.
    t0 = time.perf_counter()
    orders = pd.read_csv(
        a.orders,
        usecols=["customer_id", "date", "amount"],
        dtype={"customer_id": str, "date": str, "amount": float},
    )
    t1 = time.perf_counter()
    # A purchase is a distinct customer-day (lifetimes groups by the 'D'
    # period and sums the amounts); freq_multiplier=7 makes the unit weeks of
    # 7 days, exactly Kehu's --unit week (days / 7).
    s = summary_data_from_transaction_data(
        orders,
        "customer_id",
        "date",
        monetary_value_col="amount",
        observation_period_end=a.as_of,
        freq="D",
        freq_multiplier=7,
    )
    t2 = time.perf_counter()
    f, r, T, m = s["frequency"], s["recency"], s["T"], s["monetary_value"]
    bgf = BetaGeoFitter(penalizer_coef=0.0)
    bgf.fit(f, r, T)
    t3 = time.perf_counter()
    ret = s[(f > 0) & (m > 0)]
    ggf = GammaGammaFitter(penalizer_coef=0.0)
    ggf.fit(ret["frequency"], ret["monetary_value"])
    t4 = time.perf_counter()
    out = pd.DataFrame(index=s.index)
    out["frequency"] = f
    out["recency"] = r
    out["T"] = T
    out["p_alive"] = bgf.conditional_probability_alive(f, r, T)
    out["expected_purchases"] = bgf.conditional_expected_number_of_purchases_up_to_time(
        a.horizon, f, r, T
    )
    out["expected_spend"] = ggf.conditional_expected_average_profit(f, m)
    # 12 months of 4.345 weeks at 1 % a month: Kehu's ClvConfig::default().
    out["clv"] = ggf.customer_lifetime_value(
        bgf, f, r, T, m, time=12, discount_rate=0.01, freq="W"
    )
    t5 = time.perf_counter()
    out.to_csv(a.out, index_label="customer_id")
    t6 = time.perf_counter()

    bp, gp = bgf.params_, ggf.params_
    print(
        json.dumps(
            {
                "customers": int(len(s)),
                "orders": int(len(orders)),
                "returning": int(len(ret)),
                "python_start_ms": ms(T_START, t_imp0),
                "import_ms": ms(t_imp0, t_imp1),
                "read_ms": ms(t0, t1),
                "summary_ms": ms(t1, t2),
                "fit_bgnbd_ms": ms(t2, t3),
                "fit_gg_ms": ms(t3, t4),
                "predict_ms": ms(t4, t5),
                "write_ms": ms(t5, t6),
                "total_ms": ms(t0, t6),
                "bgnbd": {
                    "r": float(bp["r"]),
                    "alpha": float(bp["alpha"]),
                    "a": float(bp["a"]),
                    "b": float(bp["b"]),
                },
                "gamma_gamma": {
                    "p": float(gp["p"]),
                    "q": float(gp["q"]),
                    "v": float(gp["v"]),
                },
                "versions": {
                    "lifetimes": __import__("lifetimes").__version__,
                    "pandas": pd.__version__,
                    "numpy": np.__version__,
                    "scipy": __import__("scipy").__version__,
                },
            }
        )
    )


# ----------------------------------------------------------------- F_duckdb
# RFM as ANALYTICS.md defines it: per customer, as of day d (inclusive),
# recency_days = d - last purchase day, frequency = distinct purchase days,
# monetary = total spend in fen; NTILE(5) scores, R by recency descending, F
# and M ascending, ties by customer id ascending.
RFM_SQL = """
CREATE OR REPLACE TABLE rfm AS
WITH c AS (
    SELECT customer_id,
           DATE '{as_of}' - max(date)              AS recency_days,
           count(DISTINCT date)                    AS frequency,
           CAST(sum(amount) * 100 AS BIGINT)       AS monetary_fen
    FROM orders
    WHERE date <= DATE '{as_of}'
    GROUP BY customer_id
)
SELECT customer_id, recency_days, frequency, monetary_fen,
       NTILE(5) OVER (ORDER BY recency_days DESC, customer_id) AS r_score,
       NTILE(5) OVER (ORDER BY frequency, customer_id)         AS f_score,
       NTILE(5) OVER (ORDER BY monetary_fen, customer_id)      AS m_score
FROM c
"""


def run_duckdb(a):
    t_imp0 = time.perf_counter()
    import duckdb

    t_imp1 = time.perf_counter()
    con = duckdb.connect(":memory:")
    con.execute(f"SET threads = {int(a.threads)}")
    con.execute("SET preserve_insertion_order = false")
    # Loading: the order CSV into an in-memory table (reported apart).
    t0 = time.perf_counter()
    con.execute(
        "CREATE TABLE orders AS SELECT * FROM read_csv(?, header = true, "
        "columns = {'customer_id': 'VARCHAR', 'date': 'DATE', 'amount': 'DECIMAL(18,2)'})",
        [a.orders],
    )
    t1 = time.perf_counter()
    n_orders = con.execute("SELECT count(*) FROM orders").fetchone()[0]
    # The floor: the RFM query itself, materialised as a table.
    t2 = time.perf_counter()
    con.execute(RFM_SQL.format(as_of=a.as_of))
    t3 = time.perf_counter()
    n = con.execute("SELECT count(*) FROM rfm").fetchone()[0]
    if a.out:
        con.execute(
            f"COPY (SELECT * FROM rfm ORDER BY customer_id) TO '{a.out}' (HEADER, DELIMITER ',')"
        )
    print(
        json.dumps(
            {
                "customers": int(n),
                "orders": int(n_orders),
                "threads": int(a.threads),
                "import_ms": ms(t_imp0, t_imp1),
                "load_ms": ms(t0, t1),
                "rfm_ms": ms(t2, t3),
                "duckdb": duckdb.__version__,
            }
        )
    )


# ---------------------------------------------------------------- agreement
def compare_t8(a):
    import numpy as np
    import pandas as pd

    kp = json.loads(a.kehu_params)
    lp = json.loads(a.lifetimes_params)
    params = {}
    for model, names in (("bgnbd", "r alpha a b"), ("gamma_gamma", "p q v")):
        for k in names.split():
            kv = (kp.get(model) or {}).get(k)
            lv = (lp.get(model) or {}).get(k)
            if kv is None or lv is None:
                params[k] = None
                continue
            params[k] = {
                "kehu": kv,
                "lifetimes": lv,
                "rel_diff": abs(kv - lv) / abs(lv) if lv else None,
            }
    k = pd.read_csv(a.kehu, dtype={"customer_id": str})
    l = pd.read_csv(a.lifetimes, dtype={"customer_id": str})
    j = k.merge(l, on="customer_id", suffixes=("_k", "_l"), how="outer", indicator=True)
    only_k = int((j["_merge"] == "left_only").sum())
    only_l = int((j["_merge"] == "right_only").sum())
    j = j[j["_merge"] == "both"]
    res = {"customers_kehu": int(len(k)), "customers_lifetimes": int(len(l)),
           "only_kehu": only_k, "only_lifetimes": only_l, "params": params}
    # The summaries must be identical (same definition of a purchase day).
    res["summary_max_abs_diff"] = {
        "frequency": float((j["frequency_k"] - j["frequency_l"]).abs().max()),
        "recency": float((j["recency_k"] - j["recency_l"]).abs().max()),
        "T": float((j["T_k"] - j["T_l"]).abs().max()),
    }
    out = {}
    for c in ("p_alive", "expected_purchases", "expected_spend", "clv"):
        d = (j[c + "_k"] - j[c + "_l"]).abs()
        ref = j[c + "_l"].abs()
        # Money leaves Kehu with 4 decimals: relative differences only where
        # the value is at least 0.01 (a CLV of 1e-14 printed as 0 is no error).
        rel = d / ref.where(ref >= 0.01)
        out[c] = {
            "max_abs_diff": float(d.max()),
            "mean_abs_diff": float(d.mean()),
            "max_rel_diff": float(np.nanmax(rel.to_numpy())) if rel.notna().any() else None,
            "p99_rel_diff": float(rel.quantile(0.99)) if rel.notna().any() else None,
        }
    res["per_customer"] = out
    print(json.dumps(res))


def compare_rfm(a):
    import pandas as pd

    k = pd.read_csv(a.kehu, dtype={"customer_id": str}, usecols=["customer_id", "r_score", "f_score", "m_score"])
    d = pd.read_csv(a.duckdb, dtype={"customer_id": str})
    j = k.merge(d, on="customer_id", suffixes=("_k", "_d"), how="inner")
    res = {"customers_kehu": int(len(k)), "customers_duckdb": int(len(d)), "joined": int(len(j))}
    for s in ("r_score", "f_score", "m_score"):
        res[s + "_mismatches"] = int((j[s + "_k"] != j[s + "_d"]).sum())
    print(json.dumps(res))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    lt = sub.add_parser("lifetimes")
    lt.add_argument("--orders", required=True)
    lt.add_argument("--as-of", required=True)
    lt.add_argument("--horizon", type=float, default=13.0)
    lt.add_argument("--out", required=True)
    dk = sub.add_parser("duckdb")
    dk.add_argument("--orders", required=True)
    dk.add_argument("--as-of", required=True)
    dk.add_argument("--threads", type=int, default=1)
    dk.add_argument("--out")
    c8 = sub.add_parser("compare-t8")
    c8.add_argument("--kehu", required=True)
    c8.add_argument("--kehu-params", required=True)
    c8.add_argument("--lifetimes", required=True)
    c8.add_argument("--lifetimes-params", required=True)
    cr = sub.add_parser("compare-rfm")
    cr.add_argument("--kehu", required=True)
    cr.add_argument("--duckdb", required=True)
    a = p.parse_args()
    {"lifetimes": run_lifetimes, "duckdb": run_duckdb, "compare-t8": compare_t8,
     "compare-rfm": compare_rfm}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
