//! HTTP tests: a real server, real databases, real requests. One test
//! binary (modules below) to keep link time down.

mod support;

mod admin;
mod auth;
mod customers;
mod insight;
mod openapi;
mod scope;
mod security;
mod workspace;
