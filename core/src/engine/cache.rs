//! Reads of the catalogue and of subscriptions by id, each absence a not-found error, and the
//! run's cache of accounts and plan versions (read once per run, not once per renewal).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::error::{Error, Result};
use crate::plan::{Account, PlanVersion};
use crate::store::PlanQuery;
use crate::subscription::{Customer, Subscription};

use super::Engine;

/// Accounts and plan versions read once per run.
#[derive(Debug, Default)]
pub(crate) struct RunCache {
    accounts: Mutex<HashMap<String, Account>>,
    plans: Mutex<HashMap<(String, String), PlanVersion>>,
    versions: Mutex<HashMap<(String, String, u32), PlanVersion>>,
}

impl Engine {
    pub(crate) async fn account(&self, id: &str) -> Result<Account> {
        self.store
            .account(id)
            .await?
            .ok_or_else(|| Error::not_found("account", id))
    }

    pub(crate) async fn customer(&self, account_id: &str, id: &str) -> Result<Customer> {
        self.store
            .customer(account_id, id)
            .await?
            .ok_or_else(|| Error::not_found("customer", id))
    }

    pub(crate) async fn subscription(&self, account_id: &str, id: &str) -> Result<Subscription> {
        self.store
            .subscription(account_id, id)
            .await?
            .ok_or_else(|| Error::not_found("subscription", id))
    }

    pub(crate) async fn latest_plan(&self, account_id: &str, plan_id: &str) -> Result<PlanVersion> {
        self.store
            .plan_version(&PlanQuery {
                account_id: account_id.to_owned(),
                plan_id: plan_id.to_owned(),
                version: None,
            })
            .await?
            .ok_or_else(|| Error::not_found("plan", plan_id))
    }

    pub(crate) async fn cached_account(&self, cache: &RunCache, id: &str) -> Result<Account> {
        if let Some(account) = lock(&cache.accounts).get(id) {
            return Ok(account.clone());
        }
        let account = self.account(id).await?;
        lock(&cache.accounts).insert(id.to_owned(), account.clone());
        Ok(account)
    }

    pub(crate) async fn cached_plan(
        &self,
        cache: &RunCache,
        account_id: &str,
        plan_id: &str,
    ) -> Result<PlanVersion> {
        let key = (account_id.to_owned(), plan_id.to_owned());
        if let Some(plan) = lock(&cache.plans).get(&key) {
            return Ok(plan.clone());
        }
        let plan = self.latest_plan(account_id, plan_id).await?;
        lock(&cache.plans).insert(key, plan.clone());
        Ok(plan)
    }
}

impl Engine {
    /// Version `version` of a plan, read once per run: late usage is priced by the version that
    /// billed its period.
    pub(crate) async fn cached_plan_version(
        &self,
        cache: &RunCache,
        account_id: &str,
        plan_id: &str,
        version: u32,
    ) -> Result<PlanVersion> {
        let key = (account_id.to_owned(), plan_id.to_owned(), version);
        if let Some(plan) = lock(&cache.versions).get(&key) {
            return Ok(plan.clone());
        }
        let plan = self
            .store
            .plan_version(&PlanQuery {
                account_id: account_id.to_owned(),
                plan_id: plan_id.to_owned(),
                version: Some(version),
            })
            .await?
            .ok_or_else(|| Error::not_found("plan", format!("{plan_id} version {version}")))?;
        lock(&cache.versions).insert(key, plan.clone());
        Ok(plan)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
