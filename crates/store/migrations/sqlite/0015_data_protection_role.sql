-- The instance's data-protection role: accounts that may find any person, export what is
-- held on them and erase them (like administrators, without running the instance).
ALTER TABLE users ADD COLUMN data_protection INTEGER NOT NULL DEFAULT 0;
