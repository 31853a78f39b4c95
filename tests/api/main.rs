//! Black-box tests: the real application over HTTP against fake upstream servers, and the
//! registers on real SQLite and PostgreSQL databases.

/// The fake GitHub and X servers.
use connected_fakes as fake;

mod audit_log;
mod budget_outages;
mod budgets;
mod budgets_by_meter;
mod cli;
mod cli_commands;
mod connections;
mod counters;
mod cross_site;
mod database_errors;
mod demo_page;
mod docs;
mod docs_examples;
mod docs_links;
mod economy;
mod estimate;
mod example_output;
mod forwarded;
mod graphs;
mod hidden_organisations;
mod hostile;
mod instances;
mod keys;
mod keys_contract;
mod long_history;
mod markdown;
mod member_answers;
mod members;
mod members_store;
mod network;
mod openapi;
mod production;
mod proxy;
mod realtime;
mod refusals;
mod register;
mod register_contract;
mod register_grounds;
mod register_pages;
mod reservations;
mod slow_clients;
mod support;
mod unreadable;
mod upstream_cost;
