//! The component's exports: the `org` resource over [`crate::Org`].
//!
//! Compiled only for wasm32. The resource's methods take `&self`, so the
//! state sits in a `RefCell`; the component is single-threaded.

use std::cell::RefCell;

use crate::exports::turnstile::policy::engine::{Guest, GuestOrg, Org as OrgHandle};
use crate::model::{Decision, Effect, Event, OrgState, Problem, Settings, User};

struct Component;

struct OrgResource(RefCell<crate::Org>);

impl Guest for Component {
    type Org = OrgResource;

    fn default_settings() -> Settings {
        Settings::default()
    }

    fn new_user(id: String) -> User {
        User::new(id)
    }
}

impl GuestOrg for OrgResource {
    fn load(state: OrgState) -> Result<OrgHandle, Vec<Problem>> {
        crate::Org::load(state).map(|org| OrgHandle::new(OrgResource(RefCell::new(org))))
    }

    fn decide(&self, event: Event) -> Decision {
        self.0.borrow().decide(&event)
    }

    fn apply(&self, effects: Vec<Effect>) -> Result<(), Problem> {
        self.0.borrow_mut().apply(&effects)
    }

    fn step(&self, event: Event) -> Decision {
        self.0.borrow_mut().step(&event)
    }

    fn snapshot(&self) -> OrgState {
        self.0.borrow().snapshot()
    }
}

crate::export!(Component with_types_in crate);
