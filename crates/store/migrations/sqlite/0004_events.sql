-- Events, postcode geography, supporters and their consent, RSVPs, campaign meetups
-- and outreach. Times are milliseconds since the Unix epoch (UTC); flags are 0/1;
-- coordinates are WGS84 degrees.

-- Full postcodes imported from ONSPD / Code-Point Open (`barnstorm import postcodes`).
-- Postcode districts (outcodes) ship inside the binary and are not stored here.
CREATE TABLE postcodes (
    postcode TEXT PRIMARY KEY,
    latitude REAL NOT NULL,
    longitude REAL NOT NULL
);

-- How a group treats events submitted by people who are not its hosts or organisers.
ALTER TABLE groups ADD COLUMN event_approval TEXT NOT NULL DEFAULT 'open'
    CHECK (event_approval IN ('open', 'approval'));

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL REFERENCES groups (id),
    host_user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    -- A session planned from a campaign meetup's breakout group.
    parent_event_id INTEGER REFERENCES events (id),
    breakout_id INTEGER REFERENCES event_breakouts (id),
    kind TEXT NOT NULL CHECK (kind IN ('meetup', 'phonebank', 'canvass', 'street_stall', 'training', 'social', 'other')),
    title TEXT NOT NULL,
    -- Markdown as the host wrote it; sanitised when rendered.
    description TEXT NOT NULL DEFAULT '',
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    time_zone TEXT NOT NULL DEFAULT 'Europe/London',
    -- NULL: no limit.
    capacity INTEGER,
    postcode TEXT,
    address TEXT NOT NULL DEFAULT '',
    latitude REAL,
    longitude REAL,
    -- How exact the coordinates are: a building, a full postcode, a postcode district.
    location_precision TEXT NOT NULL DEFAULT 'none'
        CHECK (location_precision IN ('exact', 'postcode', 'outcode', 'none')),
    address_after_rsvp INTEGER NOT NULL DEFAULT 0,
    visibility TEXT NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'unlisted', 'group')),
    online_url TEXT,
    accessibility TEXT NOT NULL DEFAULT '',
    campaign_id INTEGER REFERENCES call_campaigns (id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'live', 'rejected', 'cancelled')),
    status_note TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted_at INTEGER
);
CREATE INDEX events_updated ON events (updated_at);
CREATE INDEX events_group_start ON events (group_id, starts_at);
CREATE INDEX events_parent ON events (parent_event_id);
CREATE INDEX events_status ON events (status, starts_at);

-- Optional time slots within an event; an RSVP then names one.
CREATE TABLE event_shifts (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    capacity INTEGER
);
CREATE INDEX event_shifts_event ON event_shifts (event_id);

-- Breakout groups of a campaign meetup.
CREATE TABLE event_breakouts (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    facilitator TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX event_breakouts_event ON event_breakouts (event_id);

-- People who RSVP'd or otherwise gave their details; no account needed.
CREATE TABLE supporters (
    id INTEGER PRIMARY KEY,
    -- Normalised (lower-cased domain); one supporter per address.
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    postcode TEXT,
    latitude REAL,
    longitude REAL,
    phone TEXT,
    -- Random; names the supporter in unsubscribe links.
    unsubscribe_token TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Consent to be contacted by one group on one channel, with its proof.
CREATE TABLE consents (
    supporter_id INTEGER NOT NULL REFERENCES supporters (id) ON DELETE CASCADE,
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'phone')),
    granted_at INTEGER NOT NULL,
    -- Where consent was given, e.g. "rsvp:42".
    source TEXT NOT NULL,
    withdrawn_at INTEGER,
    PRIMARY KEY (supporter_id, group_id, channel)
);

-- Who may receive outreach email from a group, by place: a row exists exactly while the
-- supporter has live email consent for the group, a known location and no suppression.
-- `cell` is a 0.05-degree grid square so a radius query reads only nearby rows.
CREATE TABLE email_audience (
    group_id INTEGER NOT NULL,
    cell INTEGER NOT NULL,
    latitude REAL NOT NULL,
    longitude REAL NOT NULL,
    supporter_id INTEGER NOT NULL REFERENCES supporters (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, cell, latitude, longitude, supporter_id)
);
CREATE INDEX email_audience_supporter ON email_audience (supporter_id);

-- Addresses that must never receive outreach (unsubscribed everywhere, bounced, objected).
CREATE TABLE email_suppressions (
    email TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE rsvps (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    shift_id INTEGER REFERENCES event_shifts (id) ON DELETE SET NULL,
    supporter_id INTEGER NOT NULL REFERENCES supporters (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('going', 'waitlist', 'cancelled')),
    -- NULL until the host marks it.
    attended INTEGER,
    -- SHA-256 of the token in the attendee's manage/cancel link.
    manage_token_hash TEXT NOT NULL UNIQUE,
    feedback_rating INTEGER,
    feedback_text TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (event_id, supporter_id)
);
CREATE INDEX rsvps_supporter ON rsvps (supporter_id);
CREATE INDEX rsvps_event_status ON rsvps (event_id, status, created_at);

-- Scheduled notices already queued for an RSVP (day before, on the day, feedback), so
-- every node's reminder job sends each one once.
CREATE TABLE rsvp_notices (
    rsvp_id INTEGER NOT NULL REFERENCES rsvps (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    queued_at INTEGER NOT NULL,
    PRIMARY KEY (rsvp_id, kind)
);

-- Messages sent to supporters near an event. Counts only: recipients are never listed.
CREATE TABLE outreach_messages (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    sender_user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    radius_km REAL NOT NULL,
    recipients INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX outreach_messages_group ON outreach_messages (group_id, created_at);
CREATE INDEX outreach_messages_sender ON outreach_messages (sender_user_id, created_at);
