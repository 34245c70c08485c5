//! Storage conformance: the same test functions run on SQLite and on
//! PostgreSQL, so both backends are held to one behaviour. The PostgreSQL
//! leg runs when `KEHU_TEST_POSTGRES_URL` is set (an admin URL such as
//! `postgres://postgres@127.0.0.1:5432/postgres`) and otherwise says it
//! skipped. Where today's behaviour is a known bug the test pins it and says
//! so in a `FIXME:` comment.

#[path = "conformance/support.rs"]
mod support;

#[path = "conformance/audit.rs"]
mod audit;
#[path = "conformance/customers.rs"]
mod customers;
#[path = "conformance/org.rs"]
mod org;
#[path = "conformance/scope.rs"]
mod scope;
#[path = "conformance/sessions.rs"]
mod sessions;
#[path = "conformance/transactions.rs"]
mod transactions;
