use proptest::prelude::*;

use super::*;

fn settings() -> impl Strategy<Value = PrivacySettings> {
    let visibility = prop_oneof![Just(Visibility::Everyone), Just(Visibility::Allowlist)];
    let audience = || {
        prop_oneof![
            Just(Audience::Everyone),
            Just(Audience::Contacts),
            Just(Audience::Nobody)
        ]
    };
    (visibility, audience(), audience()).prop_map(|(visibility, discoverable, last_seen)| {
        PrivacySettings {
            visibility,
            discoverable,
            last_seen,
        }
    })
}

fn relation() -> impl Strategy<Value = Relation> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(is_self, blocked, allowlisted, in_target_contacts, warm)| Relation {
                is_self,
                blocked,
                allowlisted,
                in_target_contacts,
                warm,
            },
        )
}

proptest! {
    /// A blocked viewer sees exactly what an unregistered number shows, whatever else holds.
    #[test]
    fn blocked_equals_unregistered(s in settings(), mut r in relation()) {
        r.is_self = false;
        r.blocked = true;
        prop_assert_eq!(view(&s, &r), View::UNREGISTERED);
    }

    /// The blocklist beats the allow-list.
    #[test]
    fn blocklist_beats_allowlist(s in settings(), mut r in relation()) {
        r.is_self = false;
        r.blocked = true;
        r.allowlisted = true;
        prop_assert!(!view(&s, &r).visible);
    }

    /// In allow-list mode, whoever is not on the list sees nothing.
    #[test]
    fn allowlist_mode_hides_the_unlisted(mut s in settings(), mut r in relation()) {
        s.visibility = Visibility::Allowlist;
        r.is_self = false;
        r.allowlisted = false;
        prop_assert_eq!(view(&s, &r), View::UNREGISTERED);
    }

    /// Every user sees all of themself.
    #[test]
    fn self_sees_everything(s in settings(), mut r in relation()) {
        r.is_self = true;
        prop_assert_eq!(view(&s, &r), View::SELF);
    }

    /// Last seen is never shown to someone who cannot see the user at all.
    #[test]
    fn last_seen_implies_visible(s in settings(), r in relation()) {
        let v = view(&s, &r);
        prop_assert!(!v.last_seen || v.visible);
    }

    /// More restrictive settings never show more.
    #[test]
    fn stricter_settings_never_show_more(s in settings(), r in relation()) {
        let base = view(&s, &r);
        let stricter = [
            PrivacySettings { visibility: Visibility::Allowlist, ..s },
            PrivacySettings { discoverable: Audience::Nobody, ..s },
            PrivacySettings { last_seen: Audience::Nobody, ..s },
        ];
        for t in stricter {
            let v = view(&t, &r);
            prop_assert!(!v.visible || base.visible);
            prop_assert!(!v.last_seen || base.last_seen);
        }
    }

    /// Blocking never shows more; unblocking never shows less.
    #[test]
    fn blocking_is_monotone(s in settings(), mut r in relation()) {
        r.blocked = false;
        let open = view(&s, &r);
        r.blocked = true;
        let closed = view(&s, &r);
        prop_assert!(!closed.visible || open.visible);
        prop_assert!(!closed.last_seen || open.last_seen);
    }

    /// The decision depends only on the target's settings and the facts between the two,
    /// so two viewers in the same relation to a target get the same answer (and a viewer
    /// with the same facts towards two targets with equal settings does too).
    #[test]
    fn same_facts_same_view(s in settings(), r in relation()) {
        let copy = r;
        prop_assert_eq!(view(&s, &r), view(&s, &copy));
    }
}

#[test]
fn discoverability_table() {
    let stranger = Relation::default();
    let contact = Relation {
        in_target_contacts: true,
        ..Relation::default()
    };
    let warm = Relation {
        warm: true,
        ..Relation::default()
    };
    let table = [
        (Audience::Everyone, stranger, true),
        (Audience::Contacts, stranger, false),
        (Audience::Contacts, contact, true),
        (Audience::Nobody, contact, false),
        (Audience::Nobody, warm, true),
    ];
    for (discoverable, relation, visible) in table {
        let s = PrivacySettings {
            discoverable,
            ..PrivacySettings::default()
        };
        assert_eq!(
            view(&s, &relation).visible,
            visible,
            "{discoverable:?} {relation:?}"
        );
    }
}

#[test]
fn last_seen_table() {
    let contact = Relation {
        in_target_contacts: true,
        ..Relation::default()
    };
    for (audience, relation, shown) in [
        (Audience::Everyone, Relation::default(), true),
        (Audience::Contacts, Relation::default(), false),
        (Audience::Contacts, contact, true),
        (Audience::Nobody, contact, false),
    ] {
        let s = PrivacySettings {
            last_seen: audience,
            ..PrivacySettings::default()
        };
        assert_eq!(view(&s, &relation).last_seen, shown, "{audience:?}");
    }
}

/// Both sides of a pair: the recipient's settings with the actor as viewer (`reach`),
/// the actor's with the recipient as viewer (`seen`); never the same person.
fn pair() -> impl Strategy<Value = ((PrivacySettings, Relation), (PrivacySettings, Relation))> {
    ((settings(), relation()), (settings(), relation())).prop_map(
        |((rs, mut rr), (as_, mut ar))| {
            rr.is_self = false;
            ar.is_self = false;
            ((rs, rr), (as_, ar))
        },
    )
}

fn flows() -> impl Strategy<Value = Flow> {
    prop_oneof![Just(Flow::Message), Just(Flow::Signal)]
}

proptest! {
    /// Nothing of any kind reaches a recipient from someone they block, whatever the
    /// actor's settings say.
    #[test]
    fn nothing_reaches_a_blocker(((rs, mut rr), (as_, ar)) in pair(), flow in flows()) {
        rr.blocked = true;
        prop_assert!(!reaches(flow, view(&rs, &rr), view(&as_, &ar)));
    }

    /// A recipient in allow-list mode gets nothing from someone not on the list.
    #[test]
    fn nothing_reaches_the_allowlisted_from_the_unlisted(
        ((mut rs, mut rr), (as_, ar)) in pair(),
        flow in flows(),
    ) {
        rs.visibility = Visibility::Allowlist;
        rr.allowlisted = false;
        prop_assert!(!reaches(flow, view(&rs, &rr), view(&as_, &ar)));
    }

    /// The recipient's side is decided by the recipient's settings alone: however open the
    /// actor's settings, a recipient who does not accept the actor hears nothing.
    #[test]
    fn the_recipient_decides(((rs, rr), (_, ar)) in pair(), flow in flows()) {
        let open = PrivacySettings::default();
        let mut ar = ar;
        ar.blocked = false;
        ar.warm = true;
        let reach = view(&rs, &rr);
        if !reach.visible {
            prop_assert!(!reaches(flow, reach, view(&open, &ar)));
        }
    }

    /// What shows the actor never goes where the actor's messages would not, and never to
    /// someone the actor does not let see them.
    #[test]
    fn signals_are_narrower_than_messages(((rs, rr), (as_, ar)) in pair()) {
        let (reach, seen) = (view(&rs, &rr), view(&as_, &ar));
        if reaches(Flow::Signal, reach, seen) {
            prop_assert!(reaches(Flow::Message, reach, seen));
            prop_assert!(seen.visible);
        }
    }

    /// A message depends on the recipient's side only.
    #[test]
    fn messages_ignore_the_actors_side(((rs, rr), (as_, ar)) in pair(), (as2, ar2) in (settings(), relation())) {
        let reach = view(&rs, &rr);
        prop_assert_eq!(
            reaches(Flow::Message, reach, view(&as_, &ar)),
            reaches(Flow::Message, reach, view(&as2, &ar2))
        );
    }
}

fn item_facts() -> impl Strategy<Value = ItemFacts> {
    let audience = prop_oneof![
        Just(ItemAudience::Public),
        Just(ItemAudience::Contacts),
        Just(ItemAudience::Chosen),
        Just(ItemAudience::AllExcept),
    ];
    (any::<bool>(), audience, any::<bool>(), any::<bool>()).prop_map(
        |(own, audience, named, within_window)| ItemFacts {
            own,
            audience,
            named,
            within_window,
        },
    )
}

proptest! {
    /// Whoever may not see an item's owner sees none of their items, whatever the
    /// audience: a blocked viewer's answer is an unregistered number's.
    #[test]
    fn no_item_without_the_owner(s in settings(), mut r in relation(), mut item in item_facts()) {
        r.is_self = false;
        r.blocked = true;
        item.own = false;
        prop_assert!(!sees_item(view(&s, &r), &item));
        prop_assert_eq!(
            sees_item(view(&s, &r), &item),
            sees_item(View::UNREGISTERED, &item)
        );
    }

    /// The owner sees every item of theirs, old ones included.
    #[test]
    fn owners_see_their_items(mut item in item_facts()) {
        item.own = true;
        prop_assert!(sees_item(View::SELF, &item));
    }

    /// Outside the space window only the owner sees an item.
    #[test]
    fn the_window_hides_old_items(s in settings(), r in relation(), mut item in item_facts()) {
        item.own = false;
        item.within_window = false;
        prop_assert!(!sees_item(view(&s, &r), &item));
    }

    /// Audiences nest: whoever sees an "all except" item would see it for all contacts,
    /// and whoever sees it for all contacts would see it public.
    #[test]
    fn audiences_nest(s in settings(), r in relation(), item in item_facts()) {
        let v = view(&s, &r);
        let with = |audience| sees_item(v, &ItemFacts { audience, ..item });
        prop_assert!(!with(ItemAudience::AllExcept) || with(ItemAudience::Contacts));
        prop_assert!(!with(ItemAudience::Contacts) || with(ItemAudience::Public));
    }

    /// A chosen item reaches only the people it names; an "all except" item never the
    /// people it names (the owner aside); a contacts item only contacts.
    #[test]
    fn audiences_admit_only_their_people(s in settings(), mut r in relation(), mut item in item_facts()) {
        r.is_self = false;
        item.own = false;
        let v = view(&s, &r);
        let seen = sees_item(v, &item);
        match item.audience {
            ItemAudience::Chosen => prop_assert!(!seen || item.named),
            ItemAudience::AllExcept => prop_assert!(!seen || (!item.named && r.in_target_contacts)),
            ItemAudience::Contacts => prop_assert!(!seen || r.in_target_contacts),
            ItemAudience::Public => prop_assert!(!seen || v.visible),
        }
    }

    /// A visitor who is not logged in is a stranger: public items only, and only of
    /// owners a stranger may see.
    #[test]
    fn strangers_see_public_items_only(s in settings(), mut item in item_facts()) {
        item.own = false;
        let seen = sees_item(stranger_view(&s), &item);
        prop_assert!(!seen || item.audience == ItemAudience::Public || (item.audience == ItemAudience::Chosen && item.named));
        prop_assert!(!seen || (s.visibility == Visibility::Everyone && s.discoverable == Audience::Everyone));
    }
}
