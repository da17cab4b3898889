//! Building decisions: every one names its rule; a denial carries no effects.

use crate::model::{Code, Decision, Effect};

impl Decision {
    /// An allowed decision with no effects yet.
    pub fn allow(rule: &str, message: impl Into<String>) -> Decision {
        Decision::new(true, Code::Ok, rule, message.into())
    }

    /// A denial: changes nothing.
    pub fn deny(code: Code, rule: &str, message: impl Into<String>) -> Decision {
        Decision::new(false, code, rule, message.into())
    }

    fn new(allow: bool, code: Code, rule: &str, message: String) -> Decision {
        Decision {
            allow,
            code,
            message,
            detail: None,
            rule: rule.into(),
            effects: Vec::new(),
            license: None,
            expires_at: None,
            inspections_features: None,
            violations: Vec::new(),
            billing_ends_at: None,
            record: None,
            calling_code: None,
        }
    }

    pub fn with_effects(mut self, effects: Vec<Effect>) -> Decision {
        debug_assert!(self.allow || effects.is_empty(), "a denial carries no effects");
        self.effects = effects;
        self
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Decision {
        self.detail = Some(detail.into());
        self
    }
}
