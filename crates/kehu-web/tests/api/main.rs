//! HTTP tests: a real server, real databases, real requests. One test
//! binary (modules below) to keep link time down.

mod support;

mod auth;
mod customers;
mod scope;
mod security;
