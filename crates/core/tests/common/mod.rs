//! A fresh PostgreSQL database per test, through the native adapter.

use statuspage_core::db::{Db, NativeDb};

fn root() -> String {
    std::env::var("STATUSPAGE_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// A fresh, empty database, dropped afterwards.
pub struct Fresh {
    name: String,
}

impl Fresh {
    pub fn new() -> Self {
        let name = format!("sp_core_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let admin = NativeDb::connect(&format!("{}/postgres", root())).expect("admin connection");
        admin.execute(&format!("create database {name}"), &[]).expect("create database");
        Self { name }
    }

    pub fn connect(&self) -> NativeDb {
        NativeDb::connect(&format!("{}/{}", root(), self.name)).expect("connection")
    }
}

impl Drop for Fresh {
    fn drop(&mut self) {
        if let Ok(admin) = NativeDb::connect(&format!("{}/postgres", root())) {
            let _ = admin.execute(&format!("drop database if exists {} with (force)", self.name), &[]);
        }
    }
}
