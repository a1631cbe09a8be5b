//! The kinds of audited change: one [`AuditAction`] per action, stored as a dotted name that
//! existing rows keep. Adding a variant is how a new kind of change becomes auditable.

/// Declares [`AuditAction`] with the dotted name each variant is stored under.
macro_rules! audit_actions {
    ($($(#[doc = $doc:literal])* $variant:ident => $name:literal,)+) => {
        /// Every kind of audited change. Stored as its dotted name ([`AuditAction::as_str`]),
        /// so a name, once used, must never change meaning.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum AuditAction {
            $($(#[doc = $doc])* $variant,)+
        }

        impl AuditAction {
            /// Every action, in the order declared.
            pub const ALL: &'static [AuditAction] = &[$(AuditAction::$variant,)+];

            /// The dotted name stored in `audit_log.action`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $name,)+
                }
            }
        }
    };
}

audit_actions! {
    /// An API token was made for an account.
    ApiTokenCreate => "api_token.create",
    /// An API token was revoked.
    ApiTokenRevoke => "api_token.revoke",
    /// A campaign's call attempts were downloaded (personal data).
    AttemptsExport => "attempts.export",
    /// A synthetic write made by `barnstorm bench`.
    BenchWrite => "bench.write",
    /// A caller changed the outcome of a call they had just saved.
    CallCorrect => "call.correct",
    /// A caller was removed from a campaign.
    CallerRemove => "caller.remove",
    /// A caller was suspended (by an organiser or automatically).
    CallerSuspend => "caller.suspend",
    /// A caller's suspension was lifted.
    CallerUnsuspend => "caller.unsuspend",
    /// A phone bank campaign was created.
    CampaignCreate => "campaign.create",
    /// Someone joined a campaign as a caller through an invite link.
    CampaignJoin => "campaign.join",
    /// A campaign moved between draft, active, paused and finished.
    CampaignStatus => "campaign.status",
    /// A campaign's settings were changed.
    CampaignUpdate => "campaign.update",
    /// A campaign invite link was made.
    CampaignInviteCreate => "campaign_invite.create",
    /// A campaign invite link was revoked.
    CampaignInviteRevoke => "campaign_invite.revoke",
    /// A supporter gave consent.
    ConsentGrant => "consent.grant",
    /// A supporter withdrew consent.
    ConsentWithdraw => "consent.withdraw",
    /// One contact was erased from a campaign's list (counts only, no name).
    ContactErase => "contact.erase",
    /// A caller was shown a contact. Recorded by the lease itself (`leases`), never as
    /// an `audit_log` row; listings show each lease under this action.
    ContactView => "contact.view",
    /// A contact list was uploaded into a campaign (personal data imported).
    ContactsImport => "contacts.import",
    /// An organiser put a number on a group's do-not-call list by hand.
    DoNotCallAdd => "do_not_call.add",
    /// An organiser took a number off a group's do-not-call list.
    DoNotCallRemove => "do_not_call.remove",
    /// An event's attendee list was downloaded (personal data).
    EventAttendeesExport => "event.attendees_export",
    /// An event was linked to a call campaign, or unlinked.
    EventCampaignLink => "event.campaign_link",
    /// An event was approved by an organiser.
    EventApprove => "event.approve",
    /// An event was cancelled.
    EventCancel => "event.cancel",
    /// An event was created.
    EventCreate => "event.create",
    /// An event was deleted.
    EventDelete => "event.delete",
    /// An event was rejected by an organiser.
    EventReject => "event.reject",
    /// An event moved to another status.
    EventStatus => "event.status",
    /// A group was created.
    GroupCreate => "group.create",
    /// A group's event approval policy changed.
    GroupEventApproval => "group.event_approval",
    /// A group's two-factor requirement changed.
    GroupRequireTwoFactor => "group.require_two_factor",
    /// A group's own retention periods changed.
    GroupRetention => "group.retention",
    /// A group invite was accepted.
    InviteAccept => "invite.accept",
    /// A group invite was made.
    InviteCreate => "invite.create",
    /// A group invite was revoked.
    InviteRevoke => "invite.revoke",
    /// A breakout room was added to an online meeting.
    MeetupBreakoutAdd => "meetup.breakout.add",
    /// Someone joined a group as a member.
    MembershipJoin => "membership.join",
    /// Someone was removed from a group.
    MembershipRemove => "membership.remove",
    /// Someone's role in a group changed.
    MembershipRole => "membership.role",
    /// A host was trusted or untrusted to publish events without approval.
    MembershipTrustedHost => "membership.trusted_host",
    /// A mail was sent to supporters near an event.
    OutreachSend => "outreach.send",
    /// An account's password was changed.
    PasswordChange => "password.change",
    /// A person was erased everywhere.
    PersonErase => "person.erase",
    /// Everything held on a person was exported (subject access).
    PersonExport => "person.export",
    /// A new version of the privacy notice was published.
    PrivacyNoticePublish => "privacy_notice.publish",
    /// A campaign's survey results were downloaded.
    ResultsExport => "results.export",
    /// The housekeeping job applied the retention periods (counts per kind, no names).
    RetentionRun => "retention.run",
    /// An RSVP was cancelled.
    RsvpCancel => "rsvp.cancel",
    /// Someone RSVPed to an event.
    RsvpCreate => "rsvp.create",
    /// A waiting-list RSVP was given a place.
    RsvpPromote => "rsvp.promote",
    /// Every other session and token of an account was ended.
    SessionRevokeOthers => "session.revoke_others",
    /// Someone signed in.
    SessionSignIn => "session.sign_in",
    /// A supporter was deleted.
    SupporterDelete => "supporter.delete",
    /// An address or number was added to the suppression list.
    SuppressionAdd => "suppression.add",
    /// An admin uploaded a TPS or CTPS file (the list and how many numbers were new).
    TpsImport => "tps.import",
    /// Two-factor sign-in was turned off for an account.
    TwoFactorDisable => "two_factor.disable",
    /// A passkey was added.
    TwoFactorPasskeyAdd => "two_factor.passkey_add",
    /// A passkey was removed.
    TwoFactorPasskeyRemove => "two_factor.passkey_remove",
    /// A recovery code was used to sign in.
    TwoFactorRecoveryCodeUse => "two_factor.recovery_code_use",
    /// An account's recovery codes were replaced.
    TwoFactorRecoveryCodesRegenerate => "two_factor.recovery_codes_regenerate",
    /// An authenticator app was enrolled.
    TwoFactorTotpEnrol => "two_factor.totp_enrol",
    /// An account was created.
    UserCreate => "user.create",
    /// A webhook endpoint was subscribed.
    WebhookCreate => "webhook.create",
    /// A webhook endpoint was removed.
    WebhookDelete => "webhook.delete",
    /// A webhook delivery was sent again by hand.
    WebhookResend => "webhook.resend",
    /// An account was given an instance role (administrator, data protection).
    UserGrant => "user.grant",
    /// An instance role was taken from an account.
    UserRevoke => "user.revoke",
}

impl AuditAction {
    /// True for reads that change nothing (downloads, exports, views, benchmark writes):
    /// the only actions audited on their own rather than with a change.
    pub fn is_read(self) -> bool {
        matches!(
            self,
            Self::AttemptsExport
                | Self::ResultsExport
                | Self::EventAttendeesExport
                | Self::PersonExport
                | Self::ContactView
                | Self::BenchWrite
        )
    }

    /// Every name rows of this action may be stored under (its own, then former ones).
    pub fn stored_names(self) -> Vec<&'static str> {
        let mut names = vec![self.as_str()];
        names.extend(
            FORMER_NAMES
                .iter()
                .filter(|(_, action)| *action == self)
                .map(|(name, _)| *name),
        );
        names
    }
}

/// Names written before they were unified, read as the action they always meant.
const FORMER_NAMES: &[(&str, AuditAction)] = &[("import.start", AuditAction::ContactsImport)];

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not an [`AuditAction`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown audit action \"{0}\"")]
pub struct UnknownAuditAction(pub String);

impl std::str::FromStr for AuditAction {
    type Err = UnknownAuditAction;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        AuditAction::ALL
            .iter()
            .copied()
            .find(|action| action.as_str() == name)
            .or_else(|| {
                FORMER_NAMES
                    .iter()
                    .find(|(former, _)| *former == name)
                    .map(|(_, action)| *action)
            })
            .ok_or_else(|| UnknownAuditAction(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::AuditAction;

    #[test]
    fn every_action_reads_back_from_its_stored_name() {
        for action in AuditAction::ALL {
            assert_eq!(action.as_str().parse::<AuditAction>(), Ok(*action));
        }
        assert_eq!(
            "import.start".parse::<AuditAction>(),
            Ok(AuditAction::ContactsImport)
        );
        let unknown = "campaign.made_up".parse::<AuditAction>().unwrap_err();
        assert_eq!(
            unknown.to_string(),
            "unknown audit action \"campaign.made_up\""
        );
    }

    #[test]
    fn no_two_actions_share_a_name() {
        let mut names: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), AuditAction::ALL.len());
    }
}
