//! Which checks must pass before which: `needs` and the use of another check's captures, with
//! unknown names, shared capture names and cycles reported.

use super::Check;
use super::context::Ctx;
use crate::yaml::Seg;
use std::collections::{BTreeSet, HashMap};

/// Resolves `needs` and capture-use into `depends_on`, and reports unknown names, shared
/// capture names and cycles.
pub(super) fn link(ctx: &mut Ctx, checks: &mut [Check], names: &HashMap<String, usize>) {
    let mut captured_by: HashMap<String, usize> = HashMap::new();
    for (i, c) in checks.iter().enumerate() {
        for cap in &c.captures {
            if let Some(&first) = captured_by.get(&cap.name) {
                let first_name = checks[first].name.clone();
                ctx.error(
                    &["checks".into(), Seg::Index(i), "capture".into(), Seg::Key(cap.name.clone())],
                    format!("`{}` is already captured by check {first_name:?}; two checks cannot capture one name", cap.name),
                );
            } else {
                captured_by.insert(cap.name.clone(), i);
            }
        }
    }
    for (i, check) in checks.iter_mut().enumerate() {
        let mut deps = BTreeSet::new();
        for (j, name) in check.needs.clone().into_iter().enumerate() {
            match names.get(&name) {
                Some(&k) if k == i => ctx.error(
                    &["checks".into(), Seg::Index(i), "needs".into(), Seg::Index(j)],
                    format!("check {name:?} cannot need itself"),
                ),
                Some(&k) => {
                    deps.insert(k);
                }
                None => {
                    let own = check.name.as_str();
                    let hint = ctx
                        .closest(&name, names.keys().map(String::as_str).filter(|n| *n != own))
                        .map(|b| format!("; did you mean {b:?}?"))
                        .unwrap_or_default();
                    ctx.error(
                        &["checks".into(), Seg::Index(i), "needs".into(), Seg::Index(j)],
                        format!("`needs` names no check of this suite: {name:?}{hint}"),
                    );
                }
            }
        }
        for t in &check.templates {
            for (var, _) in crate::vars::references(&t.text) {
                if let Some(&k) = captured_by.get(&var)
                    && k != i
                {
                    deps.insert(k);
                }
            }
        }
        check.depends_on = deps.into_iter().collect();
    }
    if let Some(cycle) = find_cycle(checks) {
        let names: Vec<String> = cycle.iter().map(|&i| format!("{:?}", checks[i].name)).collect();
        ctx.error(
            &["checks".into(), Seg::Index(cycle[0])],
            format!("dependency cycle: {} -> {}", names.join(" -> "), names[0]),
        );
    }
}

fn find_cycle(checks: &[Check]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut marks = vec![Mark::New; checks.len()];
    for root in 0..checks.len() {
        if marks[root] != Mark::New {
            continue;
        }
        // Depth-first with an explicit stack of (check, next dependency to look at): a chain of
        // `needs` is as long as the file allows, far deeper than recursion can go.
        marks[root] = Mark::Open;
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(top) = stack.last_mut() {
            let (i, next) = *top;
            top.1 += 1;
            let Some(&d) = checks[i].depends_on.get(next) else {
                marks[i] = Mark::Done;
                stack.pop();
                continue;
            };
            match marks[d] {
                Mark::Open => {
                    let start = stack.iter().position(|&(s, _)| s == d).unwrap_or(0);
                    return Some(stack[start..].iter().map(|&(s, _)| s).collect());
                }
                Mark::New => {
                    marks[d] = Mark::Open;
                    stack.push((d, 0));
                }
                Mark::Done => {}
            }
        }
    }
    None
}
