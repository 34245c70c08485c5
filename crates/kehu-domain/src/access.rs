//! Roles, permissions, data scope and field permissions: the rules of who may
//! see and change what. The store turns a [`DataScope`] into SQL; this module
//! only says what each role means.

use std::collections::BTreeMap;

/// Which customers a role sees, in the words of CHINA.md (本人 … 全部).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataScope {
    Own,
    OwnAndSubordinates,
    Department,
    DepartmentAndBelow,
    All,
}

impl DataScope {
    pub const ALL: [DataScope; 5] = [
        DataScope::Own,
        DataScope::OwnAndSubordinates,
        DataScope::Department,
        DataScope::DepartmentAndBelow,
        DataScope::All,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DataScope::Own => "own",
            DataScope::OwnAndSubordinates => "own_and_subordinates",
            DataScope::Department => "department",
            DataScope::DepartmentAndBelow => "department_and_below",
            DataScope::All => "all",
        }
    }

    pub fn parse(s: &str) -> Option<DataScope> {
        DataScope::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// A permission is a stable string key, stored as is and shown translated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    CustomerRead,
    CustomerCreate,
    CustomerUpdate,
    CustomerDelete,
    /// Owner changes and team membership.
    CustomerAssign,
    /// See the clear value of a masked field; every use is audited.
    CustomerReveal,
    OrderWrite,
    UserAdmin,
    DepartmentAdmin,
    RoleAdmin,
    SettingsAdmin,
    AuditRead,
    /// Create bearer tokens for integrations.
    TokenCreate,
    /// `/metrics` for non-loopback callers.
    MetricsRead,
}

impl Permission {
    pub const ALL: [Permission; 14] = [
        Permission::CustomerRead,
        Permission::CustomerCreate,
        Permission::CustomerUpdate,
        Permission::CustomerDelete,
        Permission::CustomerAssign,
        Permission::CustomerReveal,
        Permission::OrderWrite,
        Permission::UserAdmin,
        Permission::DepartmentAdmin,
        Permission::RoleAdmin,
        Permission::SettingsAdmin,
        Permission::AuditRead,
        Permission::TokenCreate,
        Permission::MetricsRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::CustomerRead => "customer.read",
            Permission::CustomerCreate => "customer.create",
            Permission::CustomerUpdate => "customer.update",
            Permission::CustomerDelete => "customer.delete",
            Permission::CustomerAssign => "customer.assign",
            Permission::CustomerReveal => "customer.reveal",
            Permission::OrderWrite => "order.write",
            Permission::UserAdmin => "user.admin",
            Permission::DepartmentAdmin => "department.admin",
            Permission::RoleAdmin => "role.admin",
            Permission::SettingsAdmin => "settings.admin",
            Permission::AuditRead => "audit.read",
            Permission::TokenCreate => "token.create",
            Permission::MetricsRead => "metrics.read",
        }
    }

    pub fn parse(s: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FieldAccess {
    Hidden,
    Read,
    Edit,
}

impl FieldAccess {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldAccess::Hidden => "hidden",
            FieldAccess::Read => "read",
            FieldAccess::Edit => "edit",
        }
    }
    pub fn parse(s: &str) -> Option<FieldAccess> {
        [FieldAccess::Hidden, FieldAccess::Read, FieldAccess::Edit]
            .into_iter()
            .find(|f| f.as_str() == s)
    }
}

/// Customer fields that field permissions apply to (the API's JSON names).
pub const CUSTOMER_FIELDS: &[&str] = &[
    "name",
    "phones",
    "emails",
    "province",
    "city",
    "district",
    "address",
    "industry",
    "occupation",
    "employer",
    "source",
    "owner_id",
    "birthday",
    "unified_social_credit_code",
    "id_number",
    "notes",
    "custom_fields",
];

/// Fields encrypted at rest and masked on every output unless revealed.
pub const SENSITIVE_FIELDS: &[&str] = &["phones", "emails", "id_number", "birthday", "address"];

pub fn is_sensitive(field: &str) -> bool {
    SENSITIVE_FIELDS.contains(&field)
}

/// A role as stored: the built-in ones are seeded per tenant and may be edited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleRules {
    pub key: String,
    pub permissions: Vec<Permission>,
    pub data_scope: DataScope,
    /// Fields not listed are `Edit` when the role may update customers, else `Read`.
    pub fields: BTreeMap<String, FieldAccess>,
}

impl RoleRules {
    pub fn has(&self, p: Permission) -> bool {
        self.permissions.contains(&p)
    }

    pub fn field(&self, field: &str) -> FieldAccess {
        if let Some(a) = self.fields.get(field) {
            return *a;
        }
        if self.has(Permission::CustomerUpdate) || self.has(Permission::CustomerCreate) {
            FieldAccess::Edit
        } else {
            FieldAccess::Read
        }
    }
}

pub const BUILTIN_ROLES: &[&str] = &[
    "admin",
    "manager",
    "sales",
    "service",
    "marketing",
    "auditor",
];

/// The six roles every new tenant starts with. No accounts come with them.
pub fn builtin_role(key: &str) -> Option<RoleRules> {
    use Permission::*;
    let fields = |pairs: &[(&str, FieldAccess)]| -> BTreeMap<String, FieldAccess> {
        pairs.iter().map(|(f, a)| (f.to_string(), *a)).collect()
    };
    let (permissions, data_scope, fields) = match key {
        "admin" => (Permission::ALL.to_vec(), DataScope::All, BTreeMap::new()),
        "manager" => (
            vec![
                CustomerRead,
                CustomerCreate,
                CustomerUpdate,
                CustomerDelete,
                CustomerAssign,
                CustomerReveal,
                OrderWrite,
                TokenCreate,
            ],
            DataScope::DepartmentAndBelow,
            BTreeMap::new(),
        ),
        "sales" => (
            vec![CustomerRead, CustomerCreate, CustomerUpdate, OrderWrite],
            DataScope::Own,
            fields(&[
                ("owner_id", FieldAccess::Read),
                ("id_number", FieldAccess::Read),
            ]),
        ),
        "service" => (
            vec![CustomerRead, CustomerUpdate],
            DataScope::All,
            fields(&[
                ("owner_id", FieldAccess::Read),
                ("id_number", FieldAccess::Hidden),
                ("unified_social_credit_code", FieldAccess::Read),
                ("source", FieldAccess::Read),
            ]),
        ),
        "marketing" => (
            vec![CustomerRead],
            DataScope::All,
            fields(&[
                ("id_number", FieldAccess::Hidden),
                ("address", FieldAccess::Hidden),
            ]),
        ),
        "auditor" => (
            vec![CustomerRead, AuditRead, MetricsRead],
            DataScope::All,
            BTreeMap::new(),
        ),
        _ => return None,
    };
    Some(RoleRules {
        key: key.to_string(),
        permissions,
        data_scope,
        fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_role_exists_and_round_trips() {
        for key in BUILTIN_ROLES {
            let r = builtin_role(key).unwrap();
            assert_eq!(&r.key, key);
            assert_eq!(DataScope::parse(r.data_scope.as_str()), Some(r.data_scope));
            for p in &r.permissions {
                assert_eq!(Permission::parse(p.as_str()), Some(*p));
            }
        }
        assert!(builtin_role("root").is_none());
    }

    #[test]
    fn field_defaults_follow_write_permission() {
        let sales = builtin_role("sales").unwrap();
        assert_eq!(sales.field("name"), FieldAccess::Edit);
        assert_eq!(sales.field("owner_id"), FieldAccess::Read);
        let auditor = builtin_role("auditor").unwrap();
        assert_eq!(auditor.field("name"), FieldAccess::Read);
        let marketing = builtin_role("marketing").unwrap();
        assert_eq!(marketing.field("id_number"), FieldAccess::Hidden);
        assert!(!marketing.has(Permission::CustomerReveal));
        assert!(
            builtin_role("admin")
                .unwrap()
                .has(Permission::CustomerReveal)
        );
    }
}
