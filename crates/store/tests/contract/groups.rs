use barnstorm_store::AuditAction;
use barnstorm_store::{
    GroupKind, NewInvite, NewMail, Role, Store, StoreError, both_backends, now_millis,
};

async fn groups_form_a_tree_with_unique_slugs(store: Store) {
    let uk = store
        .create_group(None, "Barnstorm UK", GroupKind::National, "", None)
        .await
        .unwrap();
    let nw = store
        .create_group(
            Some(uk.id),
            "North West",
            GroupKind::Region,
            "Lancs to Cumbria",
            None,
        )
        .await
        .unwrap();
    let b1 = store
        .create_group(Some(nw.id), "Manchester", GroupKind::Branch, "", None)
        .await
        .unwrap();
    let b2 = store
        .create_group(Some(nw.id), "Manchester", GroupKind::Branch, "", None)
        .await
        .unwrap();
    assert_eq!(b1.slug, "manchester");
    assert_eq!(b2.slug, "manchester-2");
    let chain = store.ancestor_groups(b1.id).await.unwrap();
    assert_eq!(
        chain.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
        ["Barnstorm UK", "North West"]
    );
    let children = store.child_groups(nw.id).await.unwrap();
    assert_eq!(children.len(), 2);
    assert_eq!(
        store
            .group_by_slug("north-west")
            .await
            .unwrap()
            .unwrap()
            .description,
        "Lancs to Cumbria"
    );
    assert_eq!(store.groups().await.unwrap().len(), 4);
}

async fn roles_apply_to_the_groups_below(store: Store) {
    let uk = store
        .create_group(None, "UK", GroupKind::National, "", None)
        .await
        .unwrap();
    let region = store
        .create_group(Some(uk.id), "Wales", GroupKind::Region, "", None)
        .await
        .unwrap();
    let branch = store
        .create_group(Some(region.id), "Cardiff", GroupKind::Branch, "", None)
        .await
        .unwrap();
    let ann = store
        .create_user("ann@example.org", "Ann", None, false)
        .await
        .unwrap();
    store
        .set_membership(region.id, ann.id, Role::Organiser, None)
        .await
        .unwrap();
    store
        .set_membership(branch.id, ann.id, Role::Caller, None)
        .await
        .unwrap();
    assert_eq!(
        store.effective_role(ann.id, branch.id).await.unwrap(),
        Some(Role::Organiser)
    );
    assert_eq!(store.effective_role(ann.id, uk.id).await.unwrap(), None);
    store
        .set_membership(region.id, ann.id, Role::Host, None)
        .await
        .unwrap();
    assert_eq!(
        store.effective_role(ann.id, branch.id).await.unwrap(),
        Some(Role::Host)
    );
    let members = store.members(branch.id).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].role, Role::Caller);
    store
        .remove_membership(branch.id, ann.id, None)
        .await
        .unwrap();
    assert!(matches!(
        store.remove_membership(branch.id, ann.id, None).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.memberships_of(ann.id).await.unwrap().len(), 1);
}

fn invite_mail(to: &str) -> NewMail {
    NewMail {
        to: to.into(),
        subject: "Join us".into(),
        body_text: "link".into(),
        headers: Default::default(),
        ..Default::default()
    }
}

async fn invites_are_single_use_and_queue_their_mail(store: Store) {
    let uk = store
        .create_group(None, "UK", GroupKind::National, "", None)
        .await
        .unwrap();
    let org = store
        .create_user("org@example.org", "Org", None, false)
        .await
        .unwrap();
    let newbie = store
        .create_user("new@example.org", "New", None, false)
        .await
        .unwrap();
    let later = now_millis() + 86_400_000;
    store
        .create_invite(
            &NewInvite {
                group_id: uk.id,
                email: "New@example.org",
                role: Role::Caller,
                token_hash: "inv1",
                invited_by: org.id,
                expires_at: later,
            },
            &invite_mail("new@example.org"),
        )
        .await
        .unwrap();
    assert_eq!(
        store.mail_counts().await.unwrap(),
        (1, 0),
        "the invite's mail is queued with it"
    );
    let invite = store.invite_by_token("inv1").await.unwrap().unwrap();
    assert_eq!(invite.email, "new@example.org");
    assert_eq!(invite.group_name, "UK");
    assert_eq!(store.pending_invites(uk.id).await.unwrap().len(), 1);
    store.accept_invite("inv1", newbie.id, "").await.unwrap();
    assert_eq!(
        store.effective_role(newbie.id, uk.id).await.unwrap(),
        Some(Role::Caller)
    );
    assert!(matches!(
        store.accept_invite("inv1", org.id, "").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(store.pending_invites(uk.id).await.unwrap().is_empty());

    store
        .set_membership(uk.id, newbie.id, Role::Organiser, None)
        .await
        .unwrap();
    store
        .create_invite(
            &NewInvite {
                group_id: uk.id,
                email: "new@example.org",
                role: Role::Member,
                token_hash: "inv2",
                invited_by: org.id,
                expires_at: later,
            },
            &invite_mail("new@example.org"),
        )
        .await
        .unwrap();
    store.accept_invite("inv2", newbie.id, "").await.unwrap();
    assert_eq!(
        store.effective_role(newbie.id, uk.id).await.unwrap(),
        Some(Role::Organiser),
        "a weaker invite never demotes"
    );

    let id = store
        .create_invite(
            &NewInvite {
                group_id: uk.id,
                email: "x@example.org",
                role: Role::Host,
                token_hash: "inv3",
                invited_by: org.id,
                expires_at: later,
            },
            &invite_mail("x@example.org"),
        )
        .await
        .unwrap();
    store.revoke_invite(uk.id, id, None).await.unwrap();
    assert!(matches!(
        store.accept_invite("inv3", newbie.id, "").await,
        Err(StoreError::Conflict(_))
    ));
    store
        .create_invite(
            &NewInvite {
                group_id: uk.id,
                email: "y@example.org",
                role: Role::Host,
                token_hash: "inv4",
                invited_by: org.id,
                expires_at: now_millis() - 1,
            },
            &invite_mail("y@example.org"),
        )
        .await
        .unwrap();
    assert!(matches!(
        store.accept_invite("inv4", newbie.id, "").await,
        Err(StoreError::Conflict(_))
    ));
}

async fn new_groups_ask_for_approval_and_trust_reaches_down(store: Store) {
    use barnstorm_domain::event::EventApproval;
    let uk = store
        .create_group(None, "Barnstorm UK", GroupKind::National, "", None)
        .await
        .unwrap();
    let nw = store
        .create_group(Some(uk.id), "North West", GroupKind::Region, "", None)
        .await
        .unwrap();
    let branch = store
        .create_group(Some(nw.id), "Manchester", GroupKind::Branch, "", None)
        .await
        .unwrap();
    for g in [uk.id, nw.id, branch.id] {
        assert_eq!(
            store.group_event_approval(g).await.unwrap(),
            EventApproval::Approval,
            "a new group asks organisers to approve events"
        );
    }
    let hana = store
        .create_user("hana@example.org", "Hana Host", None, false)
        .await
        .unwrap();
    let organiser = store
        .create_user("olu@example.org", "Olu Organiser", None, false)
        .await
        .unwrap();
    store
        .set_membership(nw.id, hana.id, Role::Host, None)
        .await
        .unwrap();
    assert!(!store.is_trusted_host(hana.id, nw.id).await.unwrap());
    assert!(
        !store.members(nw.id).await.unwrap()[0].trusted_host,
        "a new host is not trusted until an organiser says so"
    );
    assert!(matches!(
        store
            .set_trusted_host(uk.id, hana.id, true, Some(organiser.id))
            .await,
        Err(StoreError::NotFound)
    ));
    store
        .set_trusted_host(nw.id, hana.id, true, Some(organiser.id))
        .await
        .unwrap();
    assert!(store.members(nw.id).await.unwrap()[0].trusted_host);
    assert!(store.is_trusted_host(hana.id, nw.id).await.unwrap());
    assert!(store.is_trusted_host(hana.id, branch.id).await.unwrap());
    assert!(
        !store.is_trusted_host(hana.id, uk.id).await.unwrap(),
        "trust does not reach up"
    );
    let audit = store.recent_audit(5).await.unwrap();
    let entry = audit
        .iter()
        .find(|e| e.action == AuditAction::MembershipTrustedHost)
        .unwrap();
    assert_eq!(entry.actor_user_id, Some(organiser.id));
    assert_eq!(entry.subject, format!("user {}", hana.id));
    // Changing the role keeps the trust; taking it back ends it.
    store
        .set_membership(nw.id, hana.id, Role::Caller, None)
        .await
        .unwrap();
    assert!(store.is_trusted_host(hana.id, branch.id).await.unwrap());
    store
        .set_trusted_host(nw.id, hana.id, false, Some(organiser.id))
        .await
        .unwrap();
    assert!(!store.is_trusted_host(hana.id, branch.id).await.unwrap());
}

both_backends! {
    new_groups_ask_for_approval_and_trust_reaches_down => new_groups_ask_for_approval_and_trust_reaches_down,
    group_tree => groups_form_a_tree_with_unique_slugs,
    inherited_roles => roles_apply_to_the_groups_below,
    invites => invites_are_single_use_and_queue_their_mail,
}
