//! The layers of shared/ and who may import whom (issue 15), checked on the source: every `crate::…` path in
//! shared/src and every `cartwheel::…` path in functions/*, against the layer list below. Imports point down only;
//! no function crate touches the store or another function crate; every module has a layer.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Bottom to top. A module not listed is a test failure: every new file gets a layer.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "ground",
        &[
            "ids",
            "money",
            "time",
            "error",
            "tenant",
            "config",
            "retry",
            "aws",
            "secrets",
            "queue",
            "bus",
            "http/pagination",
            "http/request_id",
            "catalog/text",
            "payment_signature",
            "checks",
            "body",
            "metrics",
        ],
    ),
    (
        "model",
        &[
            "events",
            "catalog/products/mod",
            "catalog/products/listing",
            "catalog/products/actions",
            "catalog/variants",
            "catalog/taxonomy",
            "model/mod",
            "model/apikeys",
            "model/carts",
            "model/customers",
            "model/inventory",
            "model/modifiers",
            "model/promotions",
            "model/orders",
            "model/pricing",
            "model/shipping",
            "model/stores",
            "model/tax",
            "model/webhooks",
        ],
    ),
    (
        "store",
        &[
            "db/mod",
            "db/keys",
            "db/schema",
            "db/tx",
            "db/carts",
            "db/catalog",
            "db/counts",
            "db/customers",
            "db/inventory",
            "db/orders",
            "db/pricing",
            "db/promotions",
            "db/webhooks",
        ],
    ),
    (
        "domain",
        &[
            "apikeys",
            "stores",
            "carts",
            "catalog/mod",
            "catalog/taxons",
            "catalog/stock",
            "customers",
            "deliveries",
            "inventory/mod",
            "inventory/warehouses",
            "inventory/reservations",
            "inventory/transfers",
            "orders/mod",
            "orders/checkout",
            "orders/status",
            "orders/fulfillments",
            "orders/refunds",
            "orders/payment",
            "payments",
            "pricing",
            "promotions",
            "webhooks/mod",
            "webhooks/secrets",
            "webhooks/resend",
        ],
    ),
    (
        "http",
        &[
            "http/mod",
            "http/extract",
            "http/health",
            "http/idempotency",
            "http/rate_limit",
            "http/versioning",
            "openapi",
            "lib",
        ],
    ),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, modules)| modules.contains(&module))
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source directory").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// `shared/src/db/tx.rs` → `db/tx`; `shared/src/catalog/mod.rs` → `catalog/mod`.
fn module_of(file: &Path) -> String {
    let relative = file
        .strip_prefix(root().join("shared/src"))
        .expect("a shared source file");
    relative.with_extension("").to_string_lossy().replace('\\', "/")
}

/// The module a path after `crate::` (or `cartwheel::`) names: `db::tenant_prefix` → `db/mod`,
/// `http::pagination::Page` → `http/pagination`, `catalog::products::Product` → `catalog/products`.
fn resolve(path: &str) -> Option<String> {
    let mut parts = path.split("::");
    let first = parts.next()?;
    let second = parts.next().unwrap_or_default();
    let nested = format!("{first}/{second}");
    if rank(&nested).is_some() {
        return Some(nested);
    }
    let nested_folder = format!("{first}/{second}/mod");
    if rank(&nested_folder).is_some() {
        return Some(nested_folder);
    }
    let module = format!("{first}/mod");
    if rank(&module).is_some() {
        return Some(module);
    }
    Some(first.to_owned())
}

/// The text without its `#[cfg(test)]` items (tests may import anything).
fn without_tests(text: &str) -> String {
    let mut code = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        code.push_str(&rest[..at]);
        let item = &rest[at..];
        let Some(open) = item.find('{') else { return code };
        let mut depth = 0usize;
        let mut end = item.len();
        for (i, c) in item[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &item[end..];
    }
    code.push_str(rest);
    code
}

/// Every module path a source text names with `prefix` (`crate::` or `cartwheel::`), outside comments and tests.
fn imports(text: &str, prefix: &str) -> BTreeSet<String> {
    let code = without_tests(text);
    let mut found = BTreeSet::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for (at, _) in line.match_indices(prefix) {
            let rest = &line[at + prefix.len()..];
            if let Some(group) = rest.strip_prefix('{') {
                // `use crate::{a::B, c::D}`: each entry.
                for entry in group.split('}').next().unwrap_or_default().split(',') {
                    let entry = entry.trim();
                    if !entry.is_empty() {
                        found.extend(resolve(entry));
                    }
                }
                continue;
            }
            let path: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            found.extend(resolve(path.trim_end_matches(':')));
        }
    }
    found
}

fn upward_imports() -> (BTreeSet<String>, Vec<String>) {
    let mut upward = BTreeSet::new();
    let mut unplaced = Vec::new();
    let mut shared = Vec::new();
    rust_files(&root().join("shared/src"), &mut shared);
    for file in shared {
        let module = module_of(&file);
        let Some(own) = rank(&module) else {
            unplaced.push(module);
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("a readable source file");
        // `super::` in a module of a folder names its siblings or the folder's `mod.rs`.
        let text = match module.rsplit_once('/') {
            Some((folder, file_name)) if file_name != "mod" => {
                text.replace("super::", &format!("crate::{}::", folder.replace('/', "::")))
            }
            _ => text,
        };
        let named = imports(&text, "crate::");
        for imported in named {
            match rank(&imported) {
                Some(theirs) if theirs > own => {
                    upward.insert(format!("{module} -> {imported}"));
                }
                Some(_) => {}
                None => unplaced.push(format!("{imported} (imported by {module})")),
            }
        }
    }
    let mut functions = Vec::new();
    rust_files(&root().join("functions"), &mut functions);
    for file in functions {
        let text = std::fs::read_to_string(&file).expect("a readable source file");
        let name = file
            .strip_prefix(root().join("functions"))
            .ok()
            .and_then(|p| p.iter().next())
            .map(|c| c.to_string_lossy().into_owned())
            .unwrap_or_default();
        for imported in imports(&text, "cartwheel::") {
            if imported.starts_with("db/") {
                upward.insert(format!("functions/{name} -> {imported}"));
            }
        }
        // Holding the store's handle to pass it down is fine; reading or writing through it is the domain's job.
        let code = without_tests(&text);
        for call in [".scoped(", ".store_scope(", ".write("] {
            if code
                .lines()
                .any(|l| !l.trim_start().starts_with("//") && l.contains(call))
            {
                upward.insert(format!("functions/{name} -> db (calls `{call}`)"));
            }
        }
        let own = format!("cartwheel_{}", name.replace('-', "_"));
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (at, _) in line.match_indices("cartwheel_") {
                let crate_name: String = line[at..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if crate_name != own {
                    upward.insert(format!("functions/{name} -> {crate_name}"));
                }
            }
        }
    }
    (upward, unplaced)
}

#[test]
fn imports_point_down_the_layers() {
    let (upward, unplaced) = upward_imports();
    assert!(
        unplaced.is_empty(),
        "modules without a layer in tests/it/layers.rs: {unplaced:?}"
    );
    assert!(
        upward.is_empty(),
        "imports that point up the layers (move the code down, or the import): {upward:#?}"
    );
}

#[test]
fn the_checker_sees_an_upward_import() {
    let text = "use crate::db::Db;\nfn f() { crate::http::pagination::Page::default(); }\n\
                use crate::{orders::Order, ids::OrderId};\n#[cfg(test)]\nmod tests { use crate::webhooks::X; \
                fn g() { let _ = format!(\"{x}\"); } }\nuse crate::money::Money;";
    let found = imports(text, "crate::");
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["db/mod", "http/pagination", "ids", "money", "orders/mod"]
    );
    assert!(rank("db/mod") > rank("ids"));
}
